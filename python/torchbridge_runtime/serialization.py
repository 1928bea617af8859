"""torch.save and torch.load for TypeScript: the runtime's own torch writes and reads the
files, so they are the very .pt files Python uses. Loading is weights-only: a file that holds
any other pickled object is refused by torch's restricted unpickler, never executed."""

import torch


def save(obj, f, /, **kwargs):
    """torch.save(obj, f, pickle_protocol=..., _use_new_zipfile_serialization=...)."""
    torch.save(obj, f, **kwargs)


def load(f, /, map_location=None, *, weights_only=True, mmap=None):
    if weights_only is not True:
        raise ValueError(
            "torch.load from TypeScript loads with weights_only=True only: unpickling arbitrary "
            "objects can run any code. Load such a file in Python."
        )
    return torch.load(f, map_location=map_location, weights_only=True, mmap=mmap)
