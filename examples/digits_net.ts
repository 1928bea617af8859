/**
 * The small CNN of the digits example (8x8 grey images, 10 classes), shared by
 * examples/digits.ts and the training-step benchmark. Its Python twin is digits_net.py.
 */
import torch, { nn, type Tensor } from 'torchbridge';

export class DigitsNet extends nn.Module {
  conv1 = new nn.Conv2d(1, 16, 3, { padding: 1 });
  conv2 = new nn.Conv2d(16, 32, 3, { padding: 1 });
  pool = new nn.MaxPool2d(2);
  fc1 = new nn.Linear(32 * 2 * 2, 64);
  fc2 = new nn.Linear(64, 10);

  override forward(x: Tensor): Tensor {
    x = this.pool.forward(torch.relu(this.conv1.forward(x))); // 16 x 4 x 4
    x = this.pool.forward(torch.relu(this.conv2.forward(x))); // 32 x 2 x 2
    x = torch.flatten(x, 1);
    return this.fc2.forward(torch.relu(this.fc1.forward(x)));
  }
}
