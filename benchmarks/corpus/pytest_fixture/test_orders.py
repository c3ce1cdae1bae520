import pytest


class Order:
    def __init__(self, lines):
        self.lines = lines
        self.status = "new"

    def ship(self):
        if self.status != "paid":
            raise RuntimeError(f"cannot ship order in status {self.status!r}")
        self.status = "shipped"


@pytest.fixture
def order():
    o = Order([("pen", 2)])
    o.status = "pending"
    return o


def test_ship_paid(order):
    order.ship()
    assert order.status == "shipped"
