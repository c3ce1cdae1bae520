"""Value provenance end to end: a real program fails under ``python -m agentlog``, and
``python -m agentlog context --max-tokens N`` says which call produced (or was handed) the bad value."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import child_env, run_python

PRICES = '''\
RATES = {"EU": 1.15, "US": 1.0}


def load_rate(region):
    return RATES.get(region)


def fetch_region(user):
    return user["region"]


class Quote:
    def __init__(self):
        self.rate = 1.0
        self.items = []

    def set_rate(self, rate):
        self.rate = rate

    def add(self, price):
        self.items.append(price)


def build_quote(user, prices):
    q = Quote()
    region = fetch_region(user)
    rate = load_rate(region)
    q.set_rate(rate)
    for p in prices:
        q.add(p)
    total = sum(q.items)
    return finish(q, total)


def finish(q, total):
    discount = compute_discount(total)
    return total * q.rate - discount


def compute_discount(total):
    if total > 100:
        return 10
    return 0


for user in ({"region": "EU"}, {"region": "UK"}):
    print(build_quote(user, [10, 20, 30]))
'''

# The value is made in main() and passed down three frames before it fails.
DEEP = '''\
def parse_timeout(config):
    value = config["timeout"]
    return value * 1000


def check(limit):
    if limit > 60000:
        raise ValueError(f"timeout out of range: {limit}")
    return limit


def schedule(limit):
    return check(limit)


def run(job, limit):
    return schedule(limit)


def main():
    for job in ("a", "b"):
        timeout = parse_timeout({"timeout": 60 if job == "a" else 120})
        run(job, timeout)


main()
'''

EARLY = '''\
USERS = {"ann": {"email": "ann@example.org"}}


def find_email(name):
    user = USERS.get(name)
    if user is None:
        return None
    return user["email"]


def log(text):
    return None


def domain_of(name):
    email = find_email(name)
    log("looked up")
    return email.split("@")[1]


print(domain_of("ann"))
print(domain_of("bob"))
'''

MESSAGE = '''\
PRICES = {"apple": 3, "pear": 4}


def normalise(name):
    return name.strip().rstrip("s")


def lookup(item):
    return PRICES[item]


def total(items):
    found = 0
    for item in items:
        found += lookup(normalise(item))
    return found


print(total(["apple", "pears ", "grass"]))
'''

NO_LINK = '''\
def helper(x):
    return x + 1


def reset():
    return None


def main():
    helper(1)
    helper(2)
    reset()
    items = []
    marker = None
    return items[3], marker


main()
'''

TESTS = '''\
def apply_discount(price, percent):
    return price - price * percent / 1000


def cart_total(prices, percent):
    total = 0
    for p in prices:
        total += apply_discount(p, percent)
    return total


def test_local_operand():
    result = cart_total([100, 50], 10)
    assert result == 135.0


def test_call_operand():
    assert cart_total([200, 100], 20) == 240
'''


def _context(tmp_path: Path, args: list[str], budget: int, source: tuple[str, str]) -> str:
    """Run ``python -m agentlog args`` on ``source`` (name, text), then the context at ``budget``."""
    name, text = source
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    env = child_env(tmp_path / "data")
    if not (tmp_path / "data").exists():
        run_python(["-m", "agentlog", *args], tmp_path, env)
    out = run_python(["-m", "agentlog", "context", "--max-tokens", str(budget)], tmp_path, env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _origins(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("origin:")]


@pytest.mark.parametrize("budget", [300, 400, 1500])
def test_attribute_set_by_an_earlier_method_call(tmp_path, budget):
    """``q.rate`` is None on the failing line of finish(); set_rate() got it in build_quote from load_rate()."""
    text = _context(tmp_path, ["prices.py"], budget, ("prices.py", PRICES))
    assert _origins(text)[0] == (
        "origin: q.rate = None <- set by Quote.set_rate(rate=None) [prices.py:17], called in build_quote, "
        "from load_rate(region='UK') -> None [prices.py:4]")
    # It comes right under the failing frame's locals, before the frames further out and the trail.
    lines = text.splitlines()
    at = lines.index("  " + _origins(text)[0])
    assert lines[at - 1].startswith("      discount: ")
    assert [line for line in lines[:at] if line.startswith("  at ")][-1].startswith("  at finish ")


@pytest.mark.parametrize("budget", [300, 400])
def test_value_made_several_frames_away(tmp_path, budget):
    """check() fails on a parameter that main() got from parse_timeout() and passed down two calls."""
    text = _context(tmp_path, ["deep.py"], budget, ("deep.py", DEEP))
    assert _origins(text) == [
        "origin: limit = 120000 <- parse_timeout(config=dict[1]) -> 120000 [deep.py:1], called in main"]


@pytest.mark.parametrize("budget", [300, 400])
def test_none_returned_early(tmp_path, budget):
    """``email`` is None: find_email() returned it from line 7, not its last line; log() -> None is not linked."""
    text = _context(tmp_path, ["early.py"], budget, ("early.py", EARLY))
    assert _origins(text) == [
        "origin: email = None <- find_email(name='bob') -> None from line 7 [early.py:4], called in domain_of"]


@pytest.mark.parametrize("budget", [300, 400])
def test_value_quoted_in_the_message(tmp_path, budget):
    """``KeyError: 'gra'``: normalise() made 'gra' out of 'grass'."""
    text = _context(tmp_path, ["message.py"], budget, ("message.py", MESSAGE))
    assert "KeyError: 'gra'" in text
    assert _origins(text)[0] == (
        "origin: item = 'gra' <- normalise(name='grass') -> 'gra' [message.py:4], called in total")


def test_no_link_when_nothing_matches(tmp_path):
    """An empty list and a None that no call produced get no origin line, even with budget to spare."""
    text = _context(tmp_path, ["nolink.py"], 1500, ("nolink.py", NO_LINK))
    assert "IndexError" in text and "helper(x)" in text and "reset()" in text
    assert _origins(text) == []


@pytest.mark.parametrize("budget", [300, 400])
def test_assertion_operands_under_pytest(tmp_path, budget):
    """A local compared in the assert, and a call made on the assert line itself, each get their producer."""
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_cart.py::test_local_operand"]
    text = _context(tmp_path, args, budget, ("tests/test_cart.py", TESTS))
    assert _origins(text) == [
        "origin: result = 148.5 <- cart_total(prices=list[2], percent=10) -> 148.5 [test_cart.py:5], "
        "called in test_local_operand"]
    args[-1] = "tests/test_cart.py::test_call_operand"
    text = _context(tmp_path / "second", args, budget, ("tests/test_cart.py", TESTS))
    assert _origins(text) == [
        "origin: 294.0 (in the message) <- cart_total(prices=list[2], percent=20) -> 294.0 [test_cart.py:5], "
        "called on the failing line"]


FIXTURE = '''\
import pytest


class Ticket:
    def __init__(self, seat):
        self.seat = seat
        self.state = "new"

    def book(self):
        if self.state not in ("new", "held"):
            raise ValueError(f"ticket in state {self.state!r} cannot be booked")
        self.state = "booked"


@pytest.fixture
def ticket():
    made = Ticket("12A")
    made.state = "void"
    return made


def test_book(ticket):
    ticket.book()
'''


@pytest.mark.parametrize("budget", [300, 400])
def test_object_made_by_a_fixture(tmp_path, budget):
    """``self.state`` was set by plain assignment (no call to link); the object came from the
    ``ticket`` fixture, which the test received as its argument: that is linked."""
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_tickets.py"]
    text = _context(tmp_path, args, budget, ("tests/test_tickets.py", FIXTURE))
    assert _origins(text) == [
        "origin: self = <test_tickets.Ticket> <- ticket() -> <test_tickets.Ticket> [test_tickets.py:15]"]


FLOW = '''\
def cmp_num(a, b):
    return (a > b) - (a < b)


def cmp_tag(a, b):
    return cmp_num(len(b), len(a))


def log(text):
    return 1


def compare(left, right):
    log(left)
    return cmp_tag(left.split("-")[1], right.split("-")[1])


def split_words(text):
    return text.replace("eR", "_e").lower()


def capitalise(text):
    return text.replace("_", " ").title()


def titleize(word):
    words = split_words(word)
    title = capitalise(words)
    return title + "."


class Version:
    def __init__(self, major, minor, patch):
        self.major, self.minor, self.patch = major, minor, patch

    def finalized(self):
        return Version(self.major, self.patch, self.minor)

    def __str__(self):
        return f"{self.major}.{self.minor}.{self.patch}"


def finalize(text):
    parts = [int(p) for p in text.split(".")]
    return str(Version(*parts).finalized())


def test_passed_through():
    assert compare("1-alpha", "1-alpha.1") == -1


def test_pipeline():
    assert titleize("ActiveRecord") == "Active Record."


def test_object_made():
    assert finalize("1.2.3") == "1.2.3"


def strip_accents(text):
    return text.encode("ascii", "ignore").decode()


def count_words(text):
    return len(text.split())


def slug(text):
    count_words(text)
    return strip_accents(text).lower() + "-"


def slug_parts(parts):
    count_words(parts[0])
    return strip_accents("".join(parts)).lower() + "-"


def test_inside():
    assert slug("Malm\u00f6") == "malmo-"


def test_inside_parts():
    assert slug_parts(["Mal", "m\u00f6"]) == "malmo-"
'''


def _flow_context(tmp_path: Path, budget: int, test: str) -> tuple[str, list[str], int]:
    """The context of FLOW's ``test`` failing under pytest, its stripped lines, and where the first origin line is."""
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", f"tests/test_flow.py::{test}"]
    text = _context(tmp_path, args, budget, ("tests/test_flow.py", FLOW))
    lines = [line.strip() for line in text.splitlines()]
    return text, lines, lines.index(_origins(text)[0])


@pytest.mark.parametrize("budget", [300, 400])
def test_value_passed_up_through_helpers(tmp_path, budget):
    """compare() returned what cmp_tag() returned, which returned what cmp_num() returned: the
    origin line is followed by those calls, with the arguments that show the swap."""
    text, lines, at = _flow_context(tmp_path, budget, "test_passed_through")
    assert _origins(text)[0].startswith("origin: 1 (in the message) <- compare(left='1-alpha', right='1-alpha.1') -> 1")
    assert lines[at + 1 : at + 3] == ["via cmp_tag(a='alpha', b='alpha.1') -> 1 [test_flow.py:5]",
                                      "via cmp_num(a=7, b=5) -> 1 [test_flow.py:1]"]
    assert not any(line.startswith("via log(") for line in lines)  # returned 1 too, but not passed on


@pytest.mark.parametrize("budget", [300, 400])
def test_value_made_by_a_pipeline_of_helpers(tmp_path, budget):
    """titleize()'s result is not a helper's unchanged: the helper that took its argument and whose
    result the next helper got is named under the origin line."""
    text, lines, at = _flow_context(tmp_path, budget, "test_pipeline")
    assert _origins(text)[0].startswith("origin: 'Activ Eecord.' (in the message) <- titleize(word='ActiveRecord')")
    assert lines[at + 1] == "via split_words(text='ActiveRecord') -> 'activ_eecord' [test_flow.py:18]"
    assert not any(line.startswith("via capitalise(") for line in lines)  # its result went nowhere else


@pytest.mark.parametrize("budget", [300, 400])
def test_string_of_an_object_made_by_a_method(tmp_path, budget):
    """'1.3.2' is Version.__str__()'s; its object came from finalized(), whose Version.__init__()
    got minor=3: both are named under the origin line."""
    text, lines, at = _flow_context(tmp_path, budget, "test_object_made")
    assert _origins(text)[0].startswith("origin: '1.3.2' (in the message) <- Version.__str__() -> '1.3.2'")
    assert lines[at + 1].startswith("via Version.finalized() -> <test_flow.Version>")
    assert lines[at + 2] == "via Version.__init__(major=1, minor=3, patch=2) -> None [test_flow.py:33]"


@pytest.mark.parametrize("budget", [300, 400])
def test_helper_handed_the_argument_that_made_a_value_alike(tmp_path, budget):
    """slug()'s argument went to two helpers: the one that made a string like slug()'s is named
    under the origin line, count_words() -> 1 (handed it too) is not."""
    text, lines, at = _flow_context(tmp_path, budget, "test_inside")
    assert _origins(text)[0].startswith("origin: 'malm-' (in the message) <- slug(")
    assert lines[at + 1] == "via strip_accents(text='Malmö') -> 'Malm' [test_flow.py:60]"
    assert not any(line.startswith(("via count_words", "inside it: count_words")) for line in lines)


@pytest.mark.parametrize("budget", [300, 400])
def test_call_inside_that_made_a_value_alike(tmp_path, budget):
    """No value of slug_parts()'s can be followed in (its argument is a list, known by its length
    only): the latest call inside it that made a string is named, count_words() -> 1 is not."""
    text, lines, at = _flow_context(tmp_path, budget, "test_inside_parts")
    assert _origins(text)[0].startswith("origin: 'malm-' (in the message) <- slug_parts(")
    assert lines[at + 1].startswith("inside it: strip_accents(text=")
    assert lines[at + 1].endswith("-> 'Malm' [test_flow.py:60]")
    assert not any(line.startswith(("via ", "inside it: count_words")) for line in lines)


TABLE = '''\
def area(w, h):
    return w * h if w != h else w + h


def test_table():
    for w, h, expected in [(2, 8, 16), (4, 4, 16)]:
        assert area(w, h) == expected
'''


@pytest.mark.parametrize("budget", [300, 1500])
def test_local_bound_from_a_table_is_not_linked(tmp_path, budget):
    """``expected`` = 16 comes from the loop's table; area(2, 8) returned 16 in the case before, but
    the source binds ``expected`` from no call: only the message's 8 is linked, to area(4, 4)."""
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_table.py"]
    text = _context(tmp_path, args, budget, ("tests/test_table.py", TABLE))
    assert "expected: int = 16" in text
    assert _origins(text) == [
        "origin: 8 (in the message) <- area(w=4, h=4) -> 8 [test_table.py:1], called on the failing line"]
