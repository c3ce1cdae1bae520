def moving_pairs(items):
    pairs = []
    for i in range(len(items)):
        pairs.append((items[i], items[i + 1]))
    return pairs


readings = [3, 5, 9, 14]
print(moving_pairs(readings))
