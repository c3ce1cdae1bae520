"""Record store: versioned JSON lines in the data dir, appended atomically."""

from agentlog.store.reader import iter_records
from agentlog.store.records import SCHEMA_VERSION, make_record
from agentlog.store.writer import append

__all__ = ["SCHEMA_VERSION", "append", "iter_records", "make_record"]
