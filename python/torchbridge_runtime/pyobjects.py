"""Python objects held by handle, and the helpers the wire reaches as 'tb.<name>'.

torch's own API is reachable by name; anything else (an optimizer's step, a module imported
through torch.py, an attribute of a returned object) goes through these few helpers. None of
them lets a name on the wire reach a dunder.
"""

import importlib

import numpy as np
import torch

from .values import meta

# Ids the runtime assigns itself (objects found inside a converted result) live far above the
# client's counter, below 2^53 so JS numbers hold them exactly.
RUNTIME_ID_BASE = 1 << 52


def _public(name):
    if not isinstance(name, str) or not name or name.startswith("__"):
        raise AttributeError(f"attribute {name!r} is not reachable from TypeScript")
    return name


def import_module(name):
    return importlib.import_module(name)


def get_attr(obj, name):
    return getattr(obj, _public(name))


def set_attr(obj, name, value):
    setattr(obj, _public(name), value)


def call(fn, *args, **kwargs):
    return fn(*args, **kwargs)


def method(obj, name, *args, **kwargs):
    return getattr(obj, _public(name))(*args, **kwargs)


def get_item(obj, key):
    return obj[key]


def set_item(obj, key, value):
    obj[key] = value


def select(seq, index):
    """One item of a tuple or list result, e.g. (output, weights)[0]."""
    return seq[index]


HELPERS = {
    "import": import_module,
    "getattr": get_attr,
    "setattr": set_attr,
    "call": call,
    "method": method,
    "getitem": get_item,
    "setitem": set_item,
    "select": select,
}


class RemoteOut:
    """Marks an object the converted value hands over by handle: [id, meta]."""

    __slots__ = ("id", "meta")

    def __init__(self, id_, meta_):
        self.id = id_
        self.meta = meta_


def to_js(obj, register):
    """A result as JS values: numbers, strings, lists and dicts by value; tensors (and NumPy
    arrays, as tensors sharing their memory) and every other object by handle."""
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, complex)):
        return obj
    if isinstance(obj, np.ndarray):
        try:
            obj = torch.from_numpy(obj)
        except TypeError:
            obj = torch.from_numpy(obj.astype(np.float64)) if obj.dtype.kind in "fiub" else obj
    if isinstance(obj, torch.Tensor):
        return RemoteOut(register(obj), meta(obj))
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (list, tuple)):
        return [to_js(x, register) for x in obj]
    if isinstance(obj, dict) and all(isinstance(k, (str, int)) for k in obj):
        return {k: to_js(v, register) for k, v in obj.items()}
    if isinstance(obj, (torch.dtype, torch.device, torch.Size)):
        return obj  # the codec knows these
    return RemoteOut(register(obj), ["py", type(obj).__name__])
