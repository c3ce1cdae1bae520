import unittest


def parse_duration(text):
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = text[:-1], text[-1]
    return int(number) * units[unit]


class TestDuration(unittest.TestCase):
    def setUp(self):
        self.samples = {"30s": 30, "2m": 120, "1h": 3600}

    def test_samples(self):
        for text, seconds in self.samples.items():
            self.assertEqual(parse_duration(text), seconds)

    def test_minutes_and_seconds(self):
        got = parse_duration("1m30s")
        self.assertEqual(got, 90)
