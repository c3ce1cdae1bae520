import csv
import io

DATA = "item,price\nbook,12.50\npen,1.20\nlamp,30.00\n"


def load_prices(text):
    return [row for row in csv.DictReader(io.StringIO(text))]


def total(rows):
    amount = 0.0
    for row in rows:
        price = row["price"]
        amount += price
    return amount


print(total(load_prices(DATA)))
