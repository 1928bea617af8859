"""The small CNN of the digits example, the Python twin of digits_net.ts."""
import torch
from torch import nn


class DigitsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))  # 16 x 4 x 4
        x = self.pool(torch.relu(self.conv2(x)))  # 32 x 2 x 2
        x = torch.flatten(x, 1)
        return self.fc2(torch.relu(self.fc1(x)))
