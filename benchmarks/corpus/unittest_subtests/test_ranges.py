import unittest


def clamp(value, low, high):
    if value < low:
        return low
    if value > high:
        return low
    return value


class TestClamp(unittest.TestCase):
    def test_cases(self):
        cases = [(5, 0, 10, 5), (-3, 0, 10, 0), (12, 0, 10, 10), (99, 1, 9, 9)]
        for value, low, high, expected in cases:
            with self.subTest(value=value):
                self.assertEqual(clamp(value, low, high), expected)
