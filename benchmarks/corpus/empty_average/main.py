def load_scores(path_lines):
    return [int(line) for line in path_lines if line.strip().isdigit()]


def average(values):
    return sum(values) / len(values)


lines = ["n/a", "  ", "pending"]
scores = load_scores(lines)
print("average", average(scores))
