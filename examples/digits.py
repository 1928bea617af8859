"""Train DigitsNet on scikit-learn's 8x8 digits: the Python twin of digits.ts.

Same seed, same order of random draws, same batches: the losses match digits.ts step by step.
TORCHBRIDGE_EXAMPLE_JSON=1 prints one JSON line {losses, accuracy} instead of progress.
"""
import json
import os

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits

from digits_net import DigitsNet

JSON_MODE = os.environ.get("TORCHBRIDGE_EXAMPLE_JSON") == "1"
EPOCHS = 15
TEST_SIZE = 360

# A model this small runs fastest on one thread: more only wait for each other on a busy machine.
torch.set_num_threads(1)
torch.manual_seed(0)

# 1797 grey 8x8 images with values 0..16, as N x 1 x 8 x 8 floats in [0, 1].
digits = load_digits()
images = torch.from_numpy(digits.images).float().div(16).unsqueeze(1)
labels = torch.from_numpy(digits.target).long()

# A fixed split drawn with torch: the first TEST_SIZE of a permutation are the test set.
perm = torch.randperm(labels.size(0))
test_idx, train_idx = perm[:TEST_SIZE], perm[TEST_SIZE:]
train_set = TensorDataset(images[train_idx], labels[train_idx])
test_x, test_y = images[test_idx], labels[test_idx]

loader = DataLoader(train_set, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0))
model = DigitsNet()
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, EPOCHS)


def evaluate():
    model.eval()
    with torch.no_grad():
        correct = model(test_x).argmax(1).eq(test_y).sum().item()
    model.train()
    return correct / test_y.size(0)


all_losses = []
accuracy = 0.0
for epoch in range(EPOCHS):
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    scheduler.step()
    # One read per epoch: the step losses, stacked.
    epoch_losses = torch.stack(losses).tolist()
    all_losses.extend(epoch_losses)
    accuracy = evaluate()
    if not JSON_MODE:
        mean = sum(epoch_losses) / len(epoch_losses)
        print(f"epoch {epoch + 1}/{EPOCHS}  loss {mean:.4f}  test accuracy {accuracy:.2%}")

if JSON_MODE:
    print(json.dumps({"losses": all_losses, "accuracy": accuracy}))
else:
    print(f"final test accuracy {accuracy:.2%}")
