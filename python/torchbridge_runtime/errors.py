"""How a failing op is described to the client, and how failures propagate (poison)."""

import traceback


class Poison:
    """Stored in place of an op's outputs when the op failed or depended on a failure."""

    __slots__ = ("error",)

    def __init__(self, error):
        self.error = error


class Poisoned(Exception):
    """Raised when an op reads a poisoned handle: the op is skipped, its outputs poisoned."""

    def __init__(self, poison):
        super().__init__()
        self.poison = poison


def describe(exc, seq, op_name):
    """The error record sent to TypeScript: Python type, message, traceback, failing op."""
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        "seq": seq,
        "op": op_name,
    }
