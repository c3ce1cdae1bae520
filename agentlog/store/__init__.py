"""Record store: versioned JSON lines in the data dir, appended atomically.

Re-exported lazily: a process that only writes (its session records at exit)
imports the writer and the envelope, never the reader and its glob/pathlib/json.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentlog.store.reader import iter_records
    from agentlog.store.records import SCHEMA_VERSION, make_record
    from agentlog.store.writer import append

__all__ = ["SCHEMA_VERSION", "append", "iter_records", "make_record"]
_HOMES = {"SCHEMA_VERSION": "records", "make_record": "records", "append": "writer", "iter_records": "reader"}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # An import statement's machinery (not importlib.import_module): audited and in -X importtime.
    value = getattr(__import__(f"{__name__}.{home}", fromlist=[name]), name)
    globals()[name] = value
    return value
