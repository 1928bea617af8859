"""Native PyTorch side of the training-step benchmark, run as a plain Python process (not the
runtime) so the TS case can interleave its repetitions with these.

Usage: python training_step.py THREADS. Prints one JSON line with its settings, then answers
each request line on stdin, `MODEL STEPS EVERY` (model: cnn or mlp), with one JSON line: the
milliseconds for STEPS training steps, reading `loss.item()` every EVERY steps and after the
last one. A step is what the TS side does: forward, CrossEntropyLoss, zero_grad, backward,
SGD(momentum=0.9).step(), on a batch of 64 that already lives in torch.
"""
import json
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
from digits_net import DigitsNet  # noqa: E402 -- the CNN shared with the TS side

BATCH = 64


def setup(kind):
    """Model, optimizer and one resident batch, as the TS side builds them."""
    if kind == "cnn":
        model = DigitsNet()
        x = torch.randn(BATCH, 1, 8, 8)
    else:
        model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        x = torch.randn(BATCH, 784)
    y = torch.randint(0, 10, (BATCH,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return model, nn.CrossEntropyLoss(), opt, x, y


def run(setup_, steps, every):
    model, loss_fn, opt, x, y = setup_
    t0 = time.perf_counter()
    for i in range(steps):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (i + 1) % every == 0:
            loss.item()
    value = loss.item()
    ms = (time.perf_counter() - t0) * 1e3
    assert value == value, "loss is NaN"
    return ms


def main():
    threads = int(sys.argv[1])
    if threads > 0:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    models = {kind: setup(kind) for kind in ("cnn", "mlp")}
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        kind, steps, every = line.split()
        ms = run(models[kind], int(steps), int(every))
        print(json.dumps({"ms": ms}), flush=True)


if __name__ == "__main__":
    main()
