"""msgpack encoding with torchbridge's extension types (no pickle anywhere)."""

import struct

import msgpack
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
_unpackb = msgpack.unpackb
_from_bytes = int.from_bytes


def _ext_hook(code, data):
    if code == _EXT_REF:
        return Ref(_from_bytes(data, "big"))
    if code == _EXT_DTYPE:
        name = data.decode()
        try:
            return DTYPES[name]
        except KeyError:
            raise TypeError(f"unknown dtype torch.{name}") from None
    if code == _EXT_SLICE:
        return slice(*_unpackb(data, ext_hook=_ext_hook))
    if code == _EXT_TUPLE:
        return tuple(_unpackb(data, ext_hook=_ext_hook))
    if code == _EXT_ELLIPSIS:
        return Ellipsis
    if code == _EXT_COMPLEX:
        re, im = struct.unpack(">dd", data)
        return complex(re, im)
    return msgpack.ExtType(code, data)


def _default(obj):
    if obj.__class__.__name__ == "RemoteOut":  # a handle the runtime registered: [id, meta]
        return msgpack.ExtType(_EXT_REMOTE, msgpack.packb([obj.id, obj.meta]))
    if isinstance(obj, complex):
        return msgpack.ExtType(_EXT_COMPLEX, struct.pack(">dd", obj.real, obj.imag))
    if isinstance(obj, torch.dtype):
        return msgpack.ExtType(_EXT_DTYPE, DTYPE_NAMES[obj].encode())
    if isinstance(obj, torch.device):
        return str(obj)
    if isinstance(obj, torch.Size):
        return list(obj)
    if hasattr(obj, "item") and hasattr(obj, "dtype"):  # numpy scalar
        return obj.item()
    raise TypeError(f"cannot send a Python {type(obj).__name__} to TypeScript")


def unpack(payload):
    return _unpackb(payload, ext_hook=_ext_hook, raw=False, strict_map_key=False)


_packer = msgpack.Packer(default=_default, use_bin_type=True)


def pack(obj):
    return _packer.pack(obj)


def pack_array_header(n):
    return _packer.pack_array_header(n)
