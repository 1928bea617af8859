/** torch.nn.Module: discovery, traversal, state_dict, modes, conversion, compared with Python. */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { Tensor, TorchError, ArgumentError } from '../src/index.js';
import { python } from './fixtures/python_twin.js';

const nn = torch.nn;

afterAll(async () => {
  await torch.shutdown();
});

async function lists(ts: Tensor[]): Promise<unknown[]> {
  return Promise.all(ts.map((t) => t.tolist()));
}

describe('nn.Linear', () => {
  it('starts from the same weights as Python for the same seed', async () => {
    torch.manual_seed(0);
    const fc = new nn.Linear(5, 3);
    const fc2 = new nn.Linear(3, 2, { bias: false });
    const py = python<unknown[]>(`
      torch.manual_seed(0)
      fc = torch.nn.Linear(5, 3); fc2 = torch.nn.Linear(3, 2, bias=False)
      print(json.dumps([fc.weight.tolist(), fc.bias.tolist(), fc2.weight.tolist()]))
    `);
    expect(await lists([fc.weight, fc.bias!, fc2.weight])).toEqual(py);
    expect(fc2.bias).toBeNull();
    expect(fc.weight).toBeInstanceOf(nn.Parameter);
    expect(fc.weight.requires_grad).toBe(true);
    expect(fc.weight.is_leaf).toBe(true);
    expect(String(fc)).toBe('Linear(in_features=5, out_features=3, bias=True)');
  });

  it('forward equals Python for the same weights and input', async () => {
    torch.manual_seed(1);
    const fc = new nn.Linear(4, 2);
    const x = torch.randn(3, 4);
    const y = fc.forward(x);
    expect(y.shape).toEqual([3, 2]);
    expect(y.requires_grad).toBe(true);
    const py = python<number[][]>(`
      torch.manual_seed(1)
      fc = torch.nn.Linear(4, 2); x = torch.randn(3, 4)
      print(json.dumps(fc(x).tolist()))
    `);
    expect(await y.tolist()).toEqual(py);
  });

  it('checks its arguments like Python', () => {
    expect(() => new nn.Linear(2, 3, { bogus: 1 } as never)).toThrow(ArgumentError);
    expect(() => new nn.Linear(2, 'x' as never)).toThrow(/out_features/);
  });
});
