"""Python iterables iterated from TS (`for await (const x of proxy)`), a batch per round trip.

The client asks for n items at a time (n grows), so a generator streams without one round
trip per item. A batch comes back as a pyobjects.Tree, so its items convert exactly as
`await proxy` converts a value.
"""

from . import pyobjects  # (its Tree; a module import, as pyobjects imports this file)


def py_iter(obj, /):
    return iter(obj)


def next_batch(it, n, /):
    """Up to n items of the iterator, and whether it is exhausted: Tree((items, done))."""
    items = []
    append = items.append
    try:
        for _ in range(n):
            append(next(it))
    except StopIteration:
        return pyobjects.Tree((items, True))
    return pyobjects.Tree((items, False))


def close_iter(it, /):
    """The loop stopped early (break, return, an exception): a generator's close() runs its
    finally blocks and context managers now, as Python's for loop would when it is dropped."""
    close = getattr(it, "close", None)
    if close is not None:
        close()


HELPERS = {
    "iter": py_iter,
    "next_batch": next_batch,
    "close_iter": close_iter,
}
