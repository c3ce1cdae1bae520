from statistics import mean


def parse_line(line):
    name, *scores = line.split(";")
    return name, [float(s) for s in scores]


def load(text):
    return dict(parse_line(line) for line in text.strip().splitlines())


def report(text):
    data = load(text)
    return {name: round(mean(scores), 1) for name, scores in data.items()}


def test_report():
    text = "ann;9;8\nbob;7;x\ncid;10;10"
    assert report(text)["ann"] == 8.5
