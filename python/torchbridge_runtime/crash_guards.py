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


def _lu_unpack(*args, **kwargs):
    # torch 2.9: pivots whose last dim is empty, for a non-empty LU, die of SIGSEGV when unpacked
    lu = args[0] if args else kwargs.get("LU_data")
    pivots = args[1] if len(args) > 1 else kwargs.get("LU_pivots")
    unpack_pivots = args[3] if len(args) > 3 else kwargs.get("unpack_pivots", True)
    if (
        unpack_pivots is not False
        and isinstance(lu, torch.Tensor)
        and isinstance(pivots, torch.Tensor)
        and lu.dim() >= 2
        and pivots.dim() >= 1
        and pivots.shape[-1] == 0
        and min(lu.shape[-2], lu.shape[-1]) > 0
    ):
        raise RuntimeError(
            "pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive.Did you properly pass the result of lu_factor?"
        )
    return torch.lu_unpack(*args, **kwargs)


def _integral_step(name):
    # torch 2.9: arange/range of an integer dtype with 0 < |step| < 1 cast the step to 0 and die of SIGFPE
    fn = getattr(torch, name)

    def guard(*args, **kwargs):
        step = kwargs["step"] if "step" in kwargs else args[2] if len(args) > 2 else 1
        out = kwargs.get("out")
        dtype = kwargs.get("dtype") or (out.dtype if isinstance(out, torch.Tensor) else None)
        if isinstance(dtype, torch.dtype) and not (dtype.is_floating_point or dtype.is_complex or dtype == torch.bool):
            try:
                zero = float(step) != 0 and int(float(step)) == 0
            except (TypeError, ValueError, OverflowError, RuntimeError):
                zero = False  # torch says what is wrong with it
            if zero:
                raise RuntimeError(f"step must be nonzero (step {step} is 0 as {dtype})")
        return fn(*args, **kwargs)

    return guard


GUARDS = {".mvlgamma_": _mvlgamma_, "lu_unpack": _lu_unpack, "arange": _integral_step("arange"), "range": _integral_step("range")}


def guarded(name, fn):
    """The callable to run for wire name `name`: fn itself, or its guard."""
    return GUARDS.get(name, fn)
