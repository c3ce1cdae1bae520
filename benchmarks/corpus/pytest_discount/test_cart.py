def apply_discount(price, percent):
    return price - price * percent // 100


def cart_total(items, percent):
    return sum(apply_discount(p, percent) for p in items)


def test_empty_cart():
    assert cart_total([], 10) == 0


def test_no_discount():
    assert cart_total([10, 20], 0) == 30


def test_ten_percent():
    total = cart_total([19, 21], 10)
    assert total == 36
