"""The Python side of the "Python pipelines" benchmark: what a team's pipeline module offers,
driven from TS by torchbridge and by pythonia alike (both import it by name from this folder)."""

import numpy as np


class Scaler:
    """An object with a cheap method: the awaited call round trip."""

    def __init__(self, k):
        self.k = k

    def scale(self, x):
        return x * self.k


def items(n):
    """A generator of n small items, as a data loader yields them."""
    for i in range(n):
        yield i


def call_back(fn, n):
    """Call a (TS) function n times, as a training hook calls its callbacks; the sum of what it gave."""
    total = 0
    for i in range(n):
        total += fn(i)
    return total


def array(nbytes):
    """A float32 NumPy array of nbytes."""
    return np.arange(nbytes // 4, dtype=np.float32)


def frame(rows):
    """A DataFrame of rows: three numeric columns and a string column (pandas is optional)."""
    import pandas as pd

    i = np.arange(rows)
    return pd.DataFrame({"id": i.astype(np.int64), "x": i.astype(np.float64) * 0.5, "y": (i % 7).astype(np.float32), "tag": np.where(i % 2 == 0, "even", "odd")})
