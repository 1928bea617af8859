"""Python values that reach TypeScript as JS's own types, beyond what msgpack carries as is
(pyobjects._convert asks here before handing an object over by handle):

- set, frozenset -> a JS Set (ext SET; its items converted as any value is);
- datetime.datetime -> a JS Date for the same instant: an aware datetime by its offset, a
  naive one as the runtime's local time (what datetime.timestamp() does); microseconds
  below the millisecond are dropped (floored), as a Date holds milliseconds;
- datetime.date -> a JS Date at that day's UTC midnight (what `new Date('2024-05-01')` gives);
- bytearray, memoryview -> bytes (a Node Buffer);
- pandas DataFrame, pyarrow Table/RecordBatch -> an apache-arrow Table (arrow.py).

Ints beyond 64 bits go as ext BIGINT (codec.py) and arrive as a JS bigint. The way back (a JS
Date arrives as an aware datetime in UTC, a Set as a set) is codec.py's.
"""

import datetime

import msgpack

from . import arrow

NOTHING = object()  # "not one of mine": the caller goes on


class PySet:
    """A set's converted items, written as ext SET."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items


def convert(obj, register, convert_item):
    """JS's form of obj, or NOTHING. convert_item converts a contained value."""
    if isinstance(obj, (set, frozenset)):
        return PySet([convert_item(x) for x in obj])
    if isinstance(obj, datetime.datetime):
        return _timestamp(obj)
    if isinstance(obj, datetime.date):
        return _timestamp(datetime.datetime(obj.year, obj.month, obj.day, tzinfo=datetime.timezone.utc))
    if isinstance(obj, (bytearray, memoryview)):
        return bytes(obj)
    if arrow.is_table(obj):
        table = arrow.ArrowIPC(obj)
        return _RemoteOut(register(table), table.meta())
    return NOTHING


def _timestamp(dt):
    if dt.tzinfo is None or dt.utcoffset() is None:
        dt = dt.astimezone()  # naive: local time, as datetime.timestamp() reads it
    dt = dt.replace(microsecond=dt.microsecond // 1000 * 1000)
    return msgpack.Timestamp.from_datetime(dt)


def _RemoteOut(id_, meta):
    from .pyobjects import RemoteOut  # pyobjects imports this module

    return RemoteOut(id_, meta)
