STOCK = {"apples": 4, "pears": 0}


def reorder(name):
    level = STOCK[name]
    return max(0, 10 - level)


for name in ["apples", "pears", "plums"]:
    print(name, reorder(name))
