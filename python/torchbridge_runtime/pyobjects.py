"""Python objects held by handle, and the helpers the wire reaches as 'tb.<name>'.

torch's own API is reachable by name; anything else (an optimizer's step, a module imported
through torch.py, an attribute of a returned object) goes through these few helpers. None of
them lets a name on the wire reach a dunder. Their own parameters are positional-only, so any
keyword argument (name=, obj=...) passes through to the Python callable untouched.
"""

import importlib

import numpy as np
import torch

from . import arrow, callbacks, conversions, nn_helpers, py_builtins, py_context, py_iteration, py_modules, serialization
from .protocol import HELPERS as WIRE_HELPERS
from .values import meta

# Ids the runtime assigns itself (objects found inside a converted result) live far above the
# client's counter, below 2^53 so JS numbers hold them exactly.
RUNTIME_ID_BASE = 1 << 52


def _public(name):
    if not isinstance(name, str) or not name or name.startswith("__"):
        raise AttributeError(f"attribute {name!r} is not reachable from TypeScript")
    return name


def import_module(name, /):
    return importlib.import_module(name)


# read-only dunders that only describe an object (what Python code logs and compares); the rest
# (__class__, __dict__, __globals__...) stay out of reach: torch.py.type(obj) gives the class
_DESCRIPTIVE = frozenset(("__name__", "__qualname__", "__module__", "__doc__", "__file__"))


def get_attr(obj, name, /):
    return getattr(obj, name if name in _DESCRIPTIVE else _public(name))


def set_attr(obj, name, value, /):
    setattr(obj, _public(name), value)


def call(fn, /, *args, **kwargs):
    return fn(*args, **kwargs)


def method(obj, name, /, *args, **kwargs):
    return getattr(obj, _public(name))(*args, **kwargs)


def get_item(obj, key, /):
    return obj[key]


def set_item(obj, key, value, /):
    obj[key] = value


def select(seq, index, /):
    """One item of a tuple or list result, e.g. (output, weights)[0]."""
    return seq[index]


class Tree:
    """Marks a value whose conversion keeps Python's structure exactly: dict key order and key
    types, lists vs tuples (see to_js). torch.py proxies and torch.load read values this way."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def tree(obj, /):
    return Tree(obj)


def refuse(message, /):
    """What the client queues in place of an op it could not encode: its outputs are poisoned
    with this error, and the ops around it run as usual."""
    raise TypeError(message)


HELPERS = {
    "import": import_module,
    "getattr": get_attr,
    "setattr": set_attr,
    "call": call,
    "method": method,
    "getitem": get_item,
    "setitem": set_item,
    "select": select,
    "tree": tree,
    "refuse": refuse,
    "callback": callbacks.unbound,  # TS functions: bound per session by the executor (callbacks.py)
    "rnn_flatten_weights": nn_helpers.rnn_flatten_weights,
    "batch_norm_cma": nn_helpers.batch_norm_cma,
    "save": serialization.save,
    "load": serialization.load,
    "arrow_table": arrow.from_ipc,
    **py_modules.HELPERS,
    **py_builtins.HELPERS,
    **py_iteration.HELPERS,
    **py_context.HELPERS,
}
# protocol.json lists the helpers the client may name; a runtime whose table differs refuses to
# start instead of failing at the first call of a missing one
if set(HELPERS) != set(WIRE_HELPERS):
    raise RuntimeError(f"runtime helpers {sorted(HELPERS)} differ from protocol.json's {sorted(WIRE_HELPERS)}")


class RemoteOut:
    """Marks an object the converted value hands over by handle: [id, meta]."""

    __slots__ = ("id", "meta")

    def __init__(self, id_, meta_):
        self.id = id_
        self.meta = meta_


_SCALARS = (bool, int, float, str, bytes, complex)
# what the codec writes as it is (besides _SCALARS, lists and dicts)
_SENDABLE = (torch.dtype, torch.device, np.generic)


def to_value(obj, register):
    """READ VALUE: a result as plain JS values, tensors and NumPy arrays as nested lists of their
    values; an object that has no such form (torch.finfo, a module) by handle, as to_js does,
    rather than a reply that cannot be encoded."""
    if obj is None or isinstance(obj, _SCALARS):
        return obj
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if isinstance(obj, np.ndarray):
        return to_value(obj.tolist(), register)
    if isinstance(obj, (list, tuple)):
        return [to_value(x, register) for x in obj]
    if isinstance(obj, dict):
        return {k if k is None or isinstance(k, _SCALARS) else str(k): to_value(v, register) for k, v in obj.items()}
    if isinstance(obj, _SENDABLE):
        return obj
    return RemoteOut(register(obj), ["py", type(obj).__name__])


def to_js(obj, register):
    """A result as JS values: numbers, strings, lists and dicts by value; tensors (and NumPy
    arrays, as tensors sharing their memory) and every other object by handle.

    A Tree converts its value with every container tagged, so nothing is lost on the way to
    JS (whose objects reorder integer-like keys and have string keys only):
    ['list', [items]], ['tuple', [items]], ['dict', [[key, value], ...]]; scalars and handles
    as above.
    """
    if obj.__class__ is Tree:
        return _convert(obj.value, register, True)
    return _convert(obj, register, False)


def _convert(obj, register, tagged):
    if obj is None or isinstance(obj, _SCALARS):
        return obj
    if isinstance(obj, np.ndarray):
        t = _ndarray_as_tensor(obj)
        if t is None:  # strings, objects, dates: as Python lists of their items
            return _convert(obj.tolist(), register, tagged)
        obj = t
    if isinstance(obj, torch.Tensor):
        return RemoteOut(register(obj), meta(obj))
    if isinstance(obj, np.generic):
        return _convert(obj.item(), register, tagged)
    if isinstance(obj, (list, tuple)):
        items = [_convert(x, register, tagged) for x in obj]
        if tagged:
            return ["tuple" if isinstance(obj, tuple) else "list", items]
        return items
    if isinstance(obj, dict):
        if tagged:
            return ["dict", [[_convert(k, register, True), _convert(v, register, True)] for k, v in obj.items()]]
        if all(isinstance(k, (str, int)) for k in obj):
            return {k: _convert(v, register, False) for k, v in obj.items()}
    if isinstance(obj, (torch.dtype, torch.device)):
        return obj  # the codec knows these
    # sets, datetimes, bytearrays, DataFrames/Arrow tables
    special = conversions.convert(obj, register, lambda x: _convert(x, register, tagged))
    if special is not conversions.NOTHING:
        return special
    return RemoteOut(register(obj), ["py", type(obj).__name__])


def _ndarray_as_tensor(a):
    """The tensor sharing a NumPy array's memory (as torch.from_numpy), or a copy where torch
    cannot share it (negative strides, foreign byte order, read-only memory); None for dtypes
    torch has no tensor for."""
    if a.dtype.kind not in "biufc":
        return None
    if not a.dtype.isnative or any(s < 0 for s in a.strides) or not a.flags.writeable:
        a = np.array(a, dtype=a.dtype.newbyteorder("="), order="C")
    try:
        return torch.from_numpy(a)
    except TypeError:
        return None
