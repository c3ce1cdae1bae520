import re

import pytest


def slugify(title):
    words = re.findall(r"[a-z0-9]+", title)
    return "-".join(words)


@pytest.mark.parametrize("title, expected", [
    ("hello world", "hello-world"),
    ("Hello World", "hello-world"),
    ("a  b", "a-b"),
    ("Ünïcode Title", "unicode-title"),
])
def test_slugify(title, expected):
    assert slugify(title) == expected
