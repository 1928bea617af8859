"""Reading values out of runtime objects: item, tolist, str, raw data, metadata."""

import torch

from . import shm
from .arrow import ArrowIPC
from .codec import DTYPE_NAMES
from .protocol import INLINE_MAX_BYTES, READ


def meta(obj):
    """What the client mirror needs to know about a result."""
    if isinstance(obj, torch.Tensor):
        fn = obj.grad_fn
        return [
            list(obj.shape),
            DTYPE_NAMES[obj.dtype],
            str(obj.device),
            obj.requires_grad,
            obj.is_leaf,
            type(fn).__name__ if fn is not None else None,
            obj.is_contiguous(),  # lets the mirror know layouts it did not predict (and check those it did)
        ]
    return ["py", type(obj).__name__]


class Chunked:
    """Data too large for one message, for a client without shared memory: the executor sends
    `data` (a 1-D uint8 tensor over the tensor's bytes) in chunks (streams.py), then `reply`."""

    __slots__ = ("reply", "data")

    def __init__(self, reply, data):
        self.reply = reply
        self.data = data


def _bytes_of(t):
    """A 1-D uint8 tensor over t's bytes, on t's device (a copy only where t is not contiguous)."""
    flat = t.detach().resolve_conj().resolve_neg().reshape(-1).contiguous()
    return flat.view(torch.uint8)  # numpy has no bfloat16: ship bytes


class DataReader:
    """Turns tensor contents into bytes: inline when small, else a fresh shared segment, or,
    for a client that cannot map our segments, chunks (values.Chunked)."""

    def __init__(self, prefix, shared):
        self._prefix = prefix
        self._counter = 0
        self._shared = shared  # SharedSegments: tensors that already live in client memory
        # False where the client cannot map our segments (another host, a container without a
        # shared /dev/shm): data travels in messages, in chunks when large. A served runtime sets
        # it from HELLO's probe.
        self.use_shm = True

    def new_segment(self, nbytes):
        """(name, mmap) of a fresh segment for the client; it maps it, then unlinks its name (the
        session sweep catches the rest)."""
        self._counter += 1
        name = f"{self._prefix}r{self._counter}"
        return name, shm.create(name, nbytes)

    def read(self, t, allow_alias=True):
        if t.__class__ is ArrowIPC:  # a table's IPC stream, written straight into the reply's memory
            return t.read(self)
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"data() needs a Tensor, got {type(t).__name__}")
        dtype = DTYPE_NAMES[t.dtype]
        shape = list(t.shape)
        alias = self._shared.locate(t) if allow_alias else None
        if alias is not None:
            name, offset = alias
            return {"dtype": dtype, "shape": shape, "alias": name, "offset": offset}
        nbytes = t.numel() * t.element_size()
        if nbytes <= INLINE_MAX_BYTES:
            return {"dtype": dtype, "shape": shape, "bytes": _bytes_of(t).cpu().numpy().tobytes()}
        if not self.use_shm:
            return Chunked({"dtype": dtype, "shape": shape, "chunked": nbytes}, _bytes_of(t))
        flat = t.detach().reshape(-1)
        name, mm = self.new_segment(nbytes)
        dst = torch.frombuffer(mm, dtype=t.dtype, count=t.numel())
        dst.copy_(flat)
        del dst
        return {"dtype": dtype, "shape": shape, "shm": name, "nbytes": nbytes}


def read_value(obj, what, data_reader):
    if what == READ["ITEM"]:
        return obj.item()
    if what == READ["TOLIST"]:
        return obj.tolist()
    if what == READ["STR"]:
        return str(obj)
    if what == READ["META"]:
        return meta(obj)
    if what == READ["DATA"]:
        return data_reader.read(obj)
    if what == READ["DATA_COPY"]:
        return data_reader.read(obj, allow_alias=False)
    raise ValueError(f"unknown read kind {what}")

