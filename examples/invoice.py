"""A small billing job with a realistic bug: one CSV row carries quantity as text.

Run it under AgentLog to see the values that caused the crash:
    python -m agentlog examples/invoice.py
"""

import csv
import io
from dataclasses import dataclass, field

ORDERS_CSV = """order_id,sku,quantity,unit_price
A-1001,WIDGET,2,9.99
A-1001,GADGET,1,24.50
A-1002,WIDGET, 3,9.99
"""


@dataclass
class Invoice:
    order_id: str
    lines: list = field(default_factory=list)
    total: float = 0.0

    def add_line(self, sku: str, quantity, unit_price: float) -> None:
        amount = quantity * unit_price
        self.lines.append((sku, quantity, amount))
        self.total += amount


def parse_rows(text: str) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        row["unit_price"] = float(row["unit_price"])
        # Bug: quantities are converted only when they are plain digits, so " 3" stays a str.
        if row["quantity"].isdigit():
            row["quantity"] = int(row["quantity"])
    return rows


def build_invoices(rows: list[dict], payment: dict) -> dict[str, Invoice]:
    invoices: dict[str, Invoice] = {}
    for row in rows:
        invoice = invoices.setdefault(row["order_id"], Invoice(row["order_id"]))
        invoice.add_line(row["sku"], row["quantity"], row["unit_price"])
    return invoices


def main() -> None:
    rows = parse_rows(ORDERS_CSV)
    # Stripe's published example key; AgentLog redacts it by name and by shape.
    payment = {"currency": "EUR", "api_key": "sk_test_4eC39HqLyjWDarjtT1zdp7dc"}
    invoices = build_invoices(rows, payment)
    for invoice in invoices.values():
        print(f"{invoice.order_id}: {invoice.total:.2f}")


if __name__ == "__main__":
    main()
