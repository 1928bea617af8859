"""Client-allocated shared arrays that tensors in this runtime alias (zero-copy both ways)."""

import torch

from . import shm


class SharedSegments:
    """name -> mapping of a client's shared array; kept until the client releases the array."""

    def __init__(self):
        self._maps = {}  # name -> (mmap, base address, nbytes)

    def get(self, name, nbytes):
        entry = self._maps.get(name)
        if entry is None:
            mm = shm.open_and_unlink(name, nbytes)
            base = torch.frombuffer(mm, dtype=torch.uint8, count=1).data_ptr()
            entry = (mm, base, nbytes)
            self._maps[name] = entry
        return entry[0]

    def release(self, names):
        for name in names:
            self._maps.pop(name, None)  # tensors over the mapping keep it alive via the buffer

    def locate(self, t):
        """(name, byte offset) when t is a contiguous tensor inside a shared array, else None."""
        if not self._maps or t.device.type != "cpu" or not t.is_contiguous():
            return None
        start = t.data_ptr()
        end = start + t.numel() * t.element_size()
        for name, (_, base, nbytes) in self._maps.items():
            if base <= start and end <= base + nbytes:
                return name, start - base
        return None

    @property
    def nbytes(self):
        return sum(n for _, _, n in self._maps.values())
