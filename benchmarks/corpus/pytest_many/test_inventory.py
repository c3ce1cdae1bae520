import pytest


class Inventory:
    def __init__(self):
        self.items = {}

    def add(self, name, qty):
        self.items[name] = self.items.get(name, 0) + qty

    def remove(self, name, qty):
        have = self.items.get(name, 0)
        if qty > have:
            raise ValueError(f"only {have} {name} left")
        self.items[name] = have - qty


@pytest.mark.parametrize("n", range(12))
def test_add_many(n):
    inv = Inventory()
    for i in range(n):
        inv.add(f"item{i}", i)
    assert len(inv.items) == n


def test_remove_after_restock():
    inv = Inventory()
    inv.add("bolt", 5)
    inv.remove("bolt", 3)
    inv.add("bolts", 4)
    inv.remove("bolt", 5)
