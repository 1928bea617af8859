"""Native PyTorch side of the small-ops benchmark: N dependent `x = x.add(x)` on a 10-element
float32 tensor, then one `.item()` (of the sum, as a 10-element tensor has no single item),
timed with perf_counter. Usage: python small_ops.py N REPS WARMUP -> one JSON line on stdout.
"""
import json
import statistics
import sys
import time

import torch


def once(n: int) -> float:
    t0 = time.perf_counter()
    x = torch.zeros(10, dtype=torch.float32)
    for _ in range(n):
        x = x.add(x)
    value = x.sum().item()
    elapsed = time.perf_counter() - t0
    assert value == 0.0, value
    return elapsed


def main() -> None:
    n, reps, warmup = (int(a) for a in sys.argv[1:4])
    for _ in range(warmup):
        once(n)
    samples = [once(n) * 1e3 for _ in range(reps)]
    print(json.dumps({
        "ops": n,
        "median_ms": statistics.median(samples),
        "samples_ms": samples,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
