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


def describe(exc, seq, op_name, register=None):
    """The error record sent to TypeScript: Python type, message, traceback, failing op.

    `module` is where the exception's class lives ('mypkg.errors'; builtins for Python's own).
    With `register` (a Python call from torch.py, whose exceptions are the user's own), the
    exception object itself is kept under a handle, `exc`, that TS reads as err.pyException.
    """
    cls = type(exc)
    record = {
        "type": cls.__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(cls, exc, exc.__traceback__)),
        "seq": seq,
        "op": op_name,
        "module": cls.__module__,
    }
    if register is not None:
        # the traceback is in the record as text; its frames (and the tensors they hold) are not kept
        record["exc"] = register(exc.with_traceback(None))
    return record
