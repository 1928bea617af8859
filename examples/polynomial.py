"""Fit y = sin(x) on [-pi, pi] with a third-order polynomial: torch.nn and torch.optim do the work.

The Python twin of polynomial.ts (same seed, same steps, same losses).
TORCHBRIDGE_EXAMPLE_JSON=1 prints one JSON line {losses, coefficients} instead of progress.
"""
import json
import math
import os

import torch
from torch import nn

JSON_MODE = os.environ.get("TORCHBRIDGE_EXAMPLE_JSON") == "1"
STEPS = 2000

# A model this small runs fastest on one thread: more only wait for each other on a busy machine.
torch.set_num_threads(1)
torch.manual_seed(0)

x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

# Features x, x^2, x^3: each row of xx is one point, (2000, 1) ** (3,) broadcasts to (2000, 3).
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

# y = a + b x + c x^2 + d x^3 is a linear layer on the features; Flatten(0, 1) makes (2000, 1) -> (2000,).
model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
loss_fn = nn.MSELoss(reduction="sum")
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)

losses = []
for t in range(STEPS):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    losses.append(loss.detach())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if not JSON_MODE and t % 100 == 99:
        print(f"step {t + 1:4d}  loss {loss.item():.4f}")

linear = model[0]
a = linear.bias.item()
b, c, d = linear.weight[0].tolist()
if JSON_MODE:
    print(json.dumps({"losses": torch.stack(losses).tolist(), "coefficients": [a, b, c, d]}))
else:
    print(f"Result: y = {a:.6f} + {b:.6f} x + {c:.6f} x^2 + {d:.6f} x^3")
