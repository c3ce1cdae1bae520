def rows():
    yield ("2024-01-01", "open", 10)
    yield ("2024-01-02", "close", 12, "late")
    yield ("2024-01-03", "open", 9)


def summarise():
    seen = 0
    for day, kind, value in rows():
        seen += value
    return seen


print(summarise())
