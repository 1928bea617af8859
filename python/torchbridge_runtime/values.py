"""Reading values out of runtime objects: item, tolist, str, raw data, metadata."""

import torch

from . import shm
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


class DataReader:
    """Turns tensor contents into bytes: inline when small, else a fresh shared segment."""

    def __init__(self, prefix, shared):
        self._prefix = prefix
        self._counter = 0
        self._shared = shared  # SharedSegments: tensors that already live in client memory
        # False where the client cannot map our segments (another host, a container without a
        # shared /dev/shm): everything travels inline. A served runtime sets it from HELLO's probe.
        self.use_shm = True

    def read(self, t, allow_alias=True):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"data() needs a Tensor, got {type(t).__name__}")
        dtype = DTYPE_NAMES[t.dtype]
        shape = list(t.shape)
        alias = self._shared.locate(t) if allow_alias else None
        if alias is not None:
            name, offset = alias
            return {"dtype": dtype, "shape": shape, "alias": name, "offset": offset}
        nbytes = t.numel() * t.element_size()
        flat = t.detach().reshape(-1)
        if nbytes <= INLINE_MAX_BYTES or not self.use_shm:
            raw = flat.cpu().contiguous().view(torch.uint8)  # numpy has no bfloat16: ship bytes
            return {"dtype": dtype, "shape": shape, "bytes": raw.numpy().tobytes()}
        self._counter += 1
        name = f"{self._prefix}r{self._counter}"
        mm = shm.create(name, nbytes)
        dst = torch.frombuffer(mm, dtype=t.dtype, count=t.numel())
        dst.copy_(flat)
        del dst
        # The client maps the segment then unlinks its name; the session sweep catches the rest.
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

