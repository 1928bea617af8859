/**
 * Mirror rules the fuzz test (test/fuzz.test.ts) caught disagreeing with torch, each checked
 * against the same calls run in Python. Strict mode is on for the suite, so a mirror that
 * still disagreed would fail torch.sync() here with a MirrorMismatchError.
 */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { ArgumentError, type Tensor } from '../src/index.js';
import { python } from './fixtures/python_twin.js';

afterAll(() => torch.shutdown());

/** What TS knows of a tensor, in the twin's terms. */
async function metaOf(t: Tensor): Promise<[number[], string, boolean, string | null]> {
  await t.ready();
  return [[...t.shape], String(t.dtype), t.requires_grad, t.grad_fn?.name() ?? null];
}

describe('mirror fixes found by fuzzing', () => {
  it('an in-place op the mirror has no rule for (resize_, set_) leaves its tensor with the shape torch gives, not a stale one', async () => {
    const x = torch.zeros(1, 4, 1);
    x.resize_([2, 0]);
    const y = torch.ones(2, 3);
    y.set_(torch.arange(6, { dtype: torch.float32 }).reshape(3, 2).t());
    const twin = python<number[][]>(`
      x = torch.zeros(1, 4, 1); x.resize_([2, 0])
      y = torch.ones(2, 3); y.set_(torch.arange(6, dtype=torch.float32).reshape(3, 2).t())
      print(json.dumps([list(x.shape), list(y.abs().shape)]))`);
    await x.ready();
    await y.ready();
    expect([[...x.shape], [...y.abs().shape]]).toEqual(twin);
    await torch.sync();
  });

  it('a failed in-place op keeps what the mirror knew', async () => {
    const x = torch.zeros(2, 3);
    x.resize_([-5]);
    const twin = python<string>(`
      try: torch.zeros(2, 3).resize_([-5])
      except RuntimeError as e: print(json.dumps(str(e)))`);
    await expect(torch.sync()).rejects.toThrow(twin);
    await x.ready();
    expect([...x.shape]).toEqual([2, 3]);
  });

  it('asarray(t, requires_grad=True) returns t itself, now requiring grad', async () => {
    const x = torch.randn(1, 4, 1, { dtype: torch.float64 });
    const y = torch.asarray(x, { requires_grad: true });
    const twin = python<unknown[]>(`
      x = torch.randn(1, 4, 1, dtype=torch.float64); y = torch.asarray(x, requires_grad=True)
      z = x.movedim([1, 0], [0, -1])
      print(json.dumps([x.requires_grad, y is x, type(z.grad_fn).__name__]))`);
    await y.ready();
    await x.ready();
    const z = x.movedim([1, 0], [0, -1]);
    expect([x.requires_grad, y.requires_grad, z.grad_fn?.name()]).toEqual([twin[0], true, twin[2]]);
    await torch.sync();
  });

  it("to(other) and type_as(other) take only other's dtype and device: autograd records from self alone", async () => {
    const x = torch.randn(2, 3, { dtype: torch.float16 });
    const other = torch.randn(3, { requires_grad: true });
    const twin = python<unknown[]>(`
      x = torch.randn(2, 3, dtype=torch.float16); other = torch.randn(3, requires_grad=True)
      def m(t): return [list(t.shape), str(t.dtype), t.requires_grad, type(t.grad_fn).__name__ if t.grad_fn else None]
      print(json.dumps([m(x.type_as(other)), m(x.to(other)), m(x.requires_grad_().to(other))]))`);
    const got = [await metaOf(x.type_as(other)), await metaOf(x.to(other)), await metaOf(x.requires_grad_().to(other))];
    expect(got).toEqual(twin);
    await torch.sync();
  });

  it('arange of Python bools is an integer range, as Python\'s bool is an int', async () => {
    const twin = python<string[]>(`print(json.dumps([str(torch.arange(False).dtype), str(torch.arange(True).dtype), str(torch.arange(True, 3, 1).dtype)]))`);
    expect([torch.arange(false), torch.arange(true), torch.arange(true, 3, 1)].map((t) => String(t.dtype))).toEqual(twin);
    await torch.sync();
  });

  it('an int argument given as a BigInt is the same int to the mirror; one beyond int64 is refused at the call', async () => {
    // the typed API takes numbers; JS code that computes ints as BigInts reaches the same calls
    const x = torch.randn(3, 4) as unknown as Record<string, (...a: unknown[]) => Tensor>;
    const twin = python<number[][]>(`x = torch.randn(3, 4); print(json.dumps([list(x.sum(dim=0).shape), list(x.any(1).shape), list(x.rot90(1, [0, 1]).shape)]))`);
    expect([[...x.sum!({ dim: 0n }).shape], [...x.any!(1n).shape], [...x.rot90!(1n, [0n, 1n]).shape]]).toEqual(twin);
    expect(() => x.sum!({ dim: 2n ** 64n - 1n })).toThrow(ArgumentError);
    expect(() => x.rot90!(1, [0, 2n ** 64n - 1n])).toThrow(/'dims' is 18446744073709551615, which overflows int64/);
    await torch.sync();
  });

  it('broadcast_tensors() and atleast_1d() of nothing are empty tuples', async () => {
    expect(torch.broadcast_tensors()).toEqual([]);
    expect(torch.atleast_1d()).toEqual([]);
    await torch.sync();
  });

  it("special.round records RoundBackward1 (it always passes decimals)", async () => {
    const x = torch.randn(3, { requires_grad: true });
    const twin = python<string>(`print(json.dumps(type(torch.special.round(torch.randn(3, requires_grad=True)).grad_fn).__name__))`);
    expect(torch.special.round(x).grad_fn?.name()).toBe(twin);
    await torch.sync();
  });

  it('copy_ is mirrored: broadcast src, any dtype, CopyBackwards from a src that requires grad, torch\'s shape errors', async () => {
    const twin = python<unknown[]>(`
      def m(t): return [list(t.shape), str(t.dtype), t.requires_grad, type(t.grad_fn).__name__ if t.grad_fn else None]
      a = torch.zeros(2, 3); a.copy_(torch.ones(1, 3, dtype=torch.int64))
      b = torch.zeros(3); b.copy_(torch.randn(3, requires_grad=True))
      c = torch.zeros(3, dtype=torch.int64); c.copy_(torch.randn(3, requires_grad=True))
      errs = []
      for shape in [(2, 3), (2,)]:
          try: torch.zeros(3).copy_(torch.zeros(*shape))
          except RuntimeError as e: errs.append(str(e))
      print(json.dumps([m(a), m(b), m(c), errs]))`);
    const a = torch.zeros(2, 3).copy_(torch.ones(1, 3, { dtype: torch.int64 }));
    const b = torch.zeros(3).copy_(torch.randn(3, { requires_grad: true }));
    const c = torch.zeros(3, { dtype: torch.int64 }).copy_(torch.randn(3, { requires_grad: true }));
    const meta = (t: Tensor) => [[...t.shape], String(t.dtype), t.requires_grad, t.grad_fn?.name() ?? null];
    const errs = [[2, 3], [2]].map((shape) => {
      try {
        torch.zeros(3).copy_(torch.zeros(shape));
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect([meta(a), meta(b), meta(c), errs.map((m) => m.replace(/^RuntimeError: /, ''))]).toEqual(twin);
    await torch.sync();
  });
});
