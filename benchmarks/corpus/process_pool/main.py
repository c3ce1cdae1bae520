from concurrent.futures import ProcessPoolExecutor


def price_with_tax(item):
    name, price, rate = item
    return name, round(price * (1 + rate / 100), 2)


if __name__ == "__main__":
    items = [("tea", 3.5, 7), ("cake", 4.0, None), ("jam", 2.2, 19)]
    with ProcessPoolExecutor(max_workers=2) as ex:
        for result in ex.map(price_with_tax, items):
            print(result)
