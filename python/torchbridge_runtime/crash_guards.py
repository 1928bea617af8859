"""torch calls that crash the process (a signal, not an exception) for some arguments.

Each is checked before the call and refused with the error torch raises for the same call on
similar inputs, so that one bad op cannot end the runtime and every tensor in it. Found by
test/fuzz.test.ts; the guard costs nothing to any other op (looked up once per op name).
"""

import torch


def _mvlgamma_(self, *args, **kwargs):
    # torch 2.9: an int64 tensor's mvlgamma_(p) dies of SIGFPE; int32, int16, uint8 raise this
    if isinstance(self, torch.Tensor) and self.dtype == torch.int64:
        raise RuntimeError("result type Float can't be cast to the desired output type Long")
    return torch.Tensor.mvlgamma_(self, *args, **kwargs)


GUARDS = {".mvlgamma_": _mvlgamma_}


def guarded(name, fn):
    """The callable to run for wire name `name`: fn itself, or its guard."""
    return GUARDS.get(name, fn)
