def invoice_line(name, qty, unit):
    return f"{name:<10}{qty:>4d} x {unit:.2f}"


order = [("bolts", 10, 0.25), ("nuts", 7.5, 0.1)]
for name, qty, unit in order:
    print(invoice_line(name, qty, unit))
