/**
 * Fit y = sin(x) on [-pi, pi] with a third-order polynomial: torch.nn and torch.optim do the work.
 * Line for line the PyTorch program in polynomial.py (same seed, same steps, same losses).
 * TORCHBRIDGE_EXAMPLE_JSON=1 prints one JSON line {losses, coefficients} instead of progress.
 */
import torch, { nn } from 'torchbridge';
import { JSON_MODE, Progress } from './progress.js';

const STEPS = 2000;

// A model this small runs fastest on one thread: more only wait for each other on a busy machine.
torch.set_num_threads(1);
torch.manual_seed(0);

const x = torch.linspace(-Math.PI, Math.PI, 2000);
const y = torch.sin(x);

// Features x, x^2, x^3: each row of xx is one point, (2000, 1) ** (3,) broadcasts to (2000, 3).
const p = torch.tensor([1, 2, 3]);
const xx = x.unsqueeze(-1).pow(p);

// y = a + b x + c x^2 + d x^3 is a linear layer on the features; Flatten(0, 1) makes (2000, 1) -> (2000,).
const model = new nn.Sequential(new nn.Linear(3, 1), new nn.Flatten(0, 1));
const loss_fn = new nn.MSELoss({ reduction: 'sum' });
const optimizer = new torch.optim.RMSprop(model.parameters(), { lr: 1e-3 });

const progress = new Progress('fitting', STEPS, { every: 10 });
const losses = [];
for (let t = 0; t < STEPS; t++) {
  const y_pred = model.forward(xx);
  const loss = loss_fn.forward(y_pred, y);
  losses.push(loss.detach());
  optimizer.zero_grad();
  loss.backward();
  optimizer.step();
  await progress.step(loss);
}

const linear = model[0] as nn.Linear;
const a = Number(await linear.bias!.item());
const [b, c, d] = (await linear.weight.index(0).tolist()) as number[];
const result = `Result: y = ${a.toFixed(6)} + ${b!.toFixed(6)} x + ${c!.toFixed(6)} x^2 + ${d!.toFixed(6)} x^3`;
if (JSON_MODE) console.log(JSON.stringify({ losses: await torch.stack(losses).tolist(), coefficients: [a, b, c, d] }));
else {
  await progress.done(`${STEPS} steps, final loss ${Number(await losses[STEPS - 1]!.item()).toFixed(4)}`);
  console.log(result);
}
await torch.shutdown();
