/**
 * Train DigitsNet (digits_net.ts) on scikit-learn's 8x8 digits: `npm run demo`.
 * Line for line the PyTorch program in digits.py: same seed, same order of random draws, same
 * batches, so the losses match step by step (test/examples_parity.test.ts checks it).
 * TORCHBRIDGE_EXAMPLE_JSON=1 prints one JSON line {losses, accuracy} instead of progress.
 */
import torch, { nn, type Tensor } from 'torchbridge';
import { DigitsNet } from './digits_net.js';
import { JSON_MODE, Progress } from './progress.js';

const { DataLoader, TensorDataset } = torch.utils.data;
const { load_digits } = torch.py.import('sklearn.datasets');

const EPOCHS = 15;
const TEST_SIZE = 360;

// A model this small runs fastest on one thread: more only wait for each other on a busy machine.
torch.set_num_threads(1);
torch.manual_seed(0);

// 1797 grey 8x8 images with values 0..16, as N x 1 x 8 x 8 floats in [0, 1].
const digits = load_digits();
const images = ((await digits.images) as Tensor).float().div(16).unsqueeze(1);
const labels = ((await digits.target) as Tensor).long();

// A fixed split drawn with torch: the first TEST_SIZE of a permutation are the test set.
const perm = torch.randperm(labels.size(0));
const test_idx = perm.index(torch.slice(null, TEST_SIZE));
const train_idx = perm.index(torch.slice(TEST_SIZE));
const train_set = new TensorDataset(images.index(train_idx), labels.index(train_idx));
const [test_x, test_y] = [images.index(test_idx), labels.index(test_idx)];

const loader = new DataLoader(train_set, { batch_size: 32, shuffle: true, generator: new torch.Generator().manual_seed(0) });
const model = new DigitsNet();
const loss_fn = new nn.CrossEntropyLoss();
const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
const scheduler = new torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, EPOCHS);

const percent = (fraction: number): string => `${(fraction * 100).toFixed(2)}%`;

async function evaluate(): Promise<number> {
  model.eval();
  const correct = torch.no_grad(() => model.forward(test_x).argmax(1).eq(test_y).sum());
  model.train();
  return Number(await correct.item()) / test_y.size(0);
}

const all_losses: number[] = [];
let accuracy = 0;
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  const progress = new Progress(`epoch ${String(epoch + 1).padStart(2)}/${EPOCHS}`, loader.length, {
    fields: 'test accuracy {accuracy}',
    values: { accuracy: epoch === 0 ? '…' : percent(accuracy) },
  });
  const losses = [];
  for await (const [x, y] of loader) {
    optimizer.zero_grad();
    const loss = loss_fn.forward(model.forward(x), y);
    loss.backward();
    optimizer.step();
    losses.push(loss.detach());
    await progress.step(loss);
  }
  scheduler.step();
  // One read per epoch: the step losses, stacked.
  const epoch_losses = (await torch.stack(losses).tolist()) as number[];
  all_losses.push(...epoch_losses);
  accuracy = await evaluate();
  const mean = epoch_losses.reduce((a, b) => a + b, 0) / epoch_losses.length;
  progress.set({ accuracy: percent(accuracy) });
  await progress.done(`epoch ${epoch + 1}/${EPOCHS}  loss ${mean.toFixed(4)}  test accuracy ${percent(accuracy)}`);
}

if (JSON_MODE) console.log(JSON.stringify({ losses: all_losses, accuracy }));
else console.log(`final test accuracy ${percent(accuracy)}`);
await torch.shutdown();
