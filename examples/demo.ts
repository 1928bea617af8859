/**
 * A short tour of torchbridge: `npm run tour`.
 * Ops return at once (metadata comes from the local mirror); reads are awaited.
 */
import torch from 'torchbridge';

const info = await torch.init();
console.log(`runtime pid ${info.pid}: Python ${info.python_version}, torch ${info.torch_version}, CUDA ${info.cuda_available}`);

torch.manual_seed(0);
const x = torch.randn(3, 4, { requires_grad: true });
const w = torch.linspace(-1, 1, 4).reshape(4, 1);
const y = x.matmul(w).exp().mean();
console.log('y is', y, '- known before any round trip:', y.shape, String(y.dtype), 'requires_grad', y.requires_grad);
console.log('y =', await y.item());
console.log(await torch.arange(6).reshape(2, 3).transpose(0, 1).str());

// Errors torch would raise are thrown right here, with torch's message.
try {
  torch.ones(2, 3).add(torch.ones(4));
} catch (e) {
  console.log('caught at the call site:', (e as Error).message);
}

// Pipelining: 10,000 small ops go out in a few batches; one read waits for all of them.
let acc = torch.zeros(10);
const t0 = performance.now();
torch.tidy(() => {
  for (let i = 0; i < 10_000; i++) acc = acc.add(1);
  return torch.keep(acc);
});
console.log(`10,000 adds -> ${(await acc.sum().item())} in ${(performance.now() - t0).toFixed(0)} ms`);

// Zero-copy: a shared array and a tensor over the same memory.
const arr = torch.shared_array(4, torch.float32);
const t = torch.frombuffer(arr);
arr.set([1, 2, 3, 4]);
t.call('mul_', [10]);
await torch.sync();
console.log('shared array after an in-place torch op:', Array.from(arr));

// Any torch function by name, before it has a typed wrapper.
const g = torch.call('nn.functional.gelu', [torch.tensor([-1.5, 0.5, 2.25])]);
console.log('gelu:', await g.tolist());

console.log(await torch.memory());
await torch.shutdown();
