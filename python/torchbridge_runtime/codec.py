"""msgpack encoding with torchbridge's extension types (no pickle anywhere)."""

import struct

import msgpack
import numpy as np
import torch

from .protocol import EXT


class Ref:
    """A client handle id inside an op's arguments."""

    __slots__ = ("id",)

    def __init__(self, id_):
        self.id = id_


DTYPES = {
    name: getattr(torch, name)
    for name in (
        "bool uint8 int8 int16 int32 int64 uint16 uint32 uint64 float16 bfloat16 "
        "float32 float64 complex32 complex64 complex128"
    ).split()
    if hasattr(torch, name)
}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}

_EXT_REF = EXT["REF"]
_EXT_DTYPE = EXT["DTYPE"]
_EXT_SLICE = EXT["SLICE"]
_EXT_TUPLE = EXT["TUPLE"]
_EXT_ELLIPSIS = EXT["ELLIPSIS"]
_EXT_COMPLEX = EXT["COMPLEX"]
_EXT_REMOTE = EXT["REMOTE"]
_EXT_BIGINT = EXT["BIGINT"]
_EXT_SET = EXT["SET"]
_unpackb = msgpack.unpackb
_from_bytes = int.from_bytes


def _ext_hook(code, data):
    if code == _EXT_REF:
        return Ref(_from_bytes(data, "big"))
    if code == _EXT_DTYPE:
        name = data.decode()
        # never raise here: a batch that fails to decode takes every op in it down with it
        return DTYPES.get(name) or UnknownDType(name)
    if code == _EXT_SLICE:
        return slice(*_unpackb(data, ext_hook=_ext_hook))
    if code == _EXT_TUPLE:
        return tuple(_unpackb(data, ext_hook=_ext_hook, timestamp=3))
    if code == _EXT_ELLIPSIS:
        return Ellipsis
    if code == _EXT_COMPLEX:
        re, im = struct.unpack(">dd", data)
        return complex(re, im)
    if code == _EXT_BIGINT:  # a JS bigint beyond 64 bits: two's complement, big-endian
        return _from_bytes(data, "big", signed=True)
    if code == _EXT_SET:
        # the client sends only hashable items; should one not be, the set stays a list rather
        # than failing the batch
        items = _unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False, timestamp=3)
        try:
            return set(items)
        except TypeError:
            return items
    return msgpack.ExtType(code, data)


def _default(obj):
    if obj.__class__.__name__ == "RemoteOut":  # a handle the runtime registered: [id, meta]
        return msgpack.ExtType(_EXT_REMOTE, msgpack.packb([obj.id, obj.meta]))
    if isinstance(obj, complex):
        return msgpack.ExtType(_EXT_COMPLEX, struct.pack(">dd", obj.real, obj.imag))
    if isinstance(obj, torch.dtype) and obj in DTYPE_NAMES:
        return msgpack.ExtType(_EXT_DTYPE, DTYPE_NAMES[obj].encode())
    if isinstance(obj, torch.device):
        return str(obj)
    if isinstance(obj, torch.Size):
        return list(obj)
    if isinstance(obj, np.generic):  # a numpy scalar (never an array: .item() of one raises)
        return obj.item()
    if isinstance(obj, int):  # beyond 64 bits: a JS bigint (two's complement, big-endian)
        return msgpack.ExtType(_EXT_BIGINT, obj.to_bytes((obj.bit_length() + 8) // 8, "big", signed=True))
    if obj.__class__.__name__ == "PySet":  # conversions.PySet: a set's converted items
        return msgpack.ExtType(_EXT_SET, msgpack.packb(obj.items, default=_default, use_bin_type=True))
    raise TypeError(f"cannot send {describe_value(obj)} to TypeScript")


class UnknownDType:
    """A dtype name this runtime's torch does not have: torch refuses it where it is used."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name} (unknown to this runtime's torch {torch.__version__})"


def describe_value(obj):
    """'a Python numpy.ndarray of shape (3, 5) and dtype float32', for messages."""
    cls = type(obj)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    if isinstance(obj, np.ndarray):
        return f"a Python {name} of shape {obj.shape} and dtype {obj.dtype}"
    return f"a Python {name}"


def refusal(value, exc):
    """The error record for a reply whose value cannot be encoded (see Server._reply)."""
    # _default's TypeError names the very item that failed; anything else (a recursion limit) gets the whole value's type
    why = str(exc) if isinstance(exc, TypeError) else f"{describe_value(value)}: {type(exc).__name__}: {exc}"
    return {"type": "TypeError", "message": f"the runtime cannot send this result to TypeScript: {why}", "traceback": ""}


def unpack(payload):
    # surrogatepass: a JS string may hold a lone surrogate; decoding it must not fail the batch
    # timestamp=3: a JS Date arrives as an aware datetime in UTC
    return _unpackb(payload, ext_hook=_ext_hook, raw=False, strict_map_key=False, unicode_errors="surrogatepass", timestamp=3)


_packer = msgpack.Packer(default=_default, use_bin_type=True, unicode_errors="surrogatepass")


def pack(obj):
    return _packer.pack(obj)


def pack_array_header(n):
    return _packer.pack_array_header(n)
