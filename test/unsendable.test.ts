/**
 * No queued work is lost to a value msgpack cannot carry: an argument that cannot be sent is
 * an ArgumentError at its own call (nothing queued, nothing else affected); a batch that still
 * fails to encode loses only its bad op; a result that cannot be sent is that read's error, and
 * the runtime lives on.
 */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { ArgumentError, Tensor, TorchError } from '../src/index.js';
import { PyObject } from '../src/py/object.js';
import { currentSession } from '../src/session/current.js';
import { OP, READ } from '../src/transport/protocol.js';

afterAll(() => torch.shutdown());

const circularList = (): unknown[] => {
  const a: unknown[] = [1, 2];
  a.push(a);
  return a;
};
const circularObject = (): Record<string, unknown> => {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
};

/** [what, the call (refused), what its message must say] */
const REFUSED: [string, () => unknown, RegExp][] = [
  ['a BigInt beyond int64 (generated function)', () => torch.full([2], 2n ** 70n), /torch\.full: argument 2 .*BigInt 1180591620717411303424 does not fit in 64 bits/],
  ['a BigInt below int64 (Tensor method kwarg)', () => torch.arange(3).call('add', [1], { alpha: -(2n ** 64n) }), /Tensor\.add: keyword argument 'alpha' .*does not fit in 64 bits/],
  ['a Symbol (torch.call)', () => torch.call('add', [torch.ones(2), Symbol('s')]), /torch\.add: argument 2 .*Symbol\(s\) is a Symbol/],
  ['a function (Tensor.call)', () => torch.ones(2).call('mul', [function twice() {}]), /Tensor\.mul: argument 1 .*function .*twice/],
  ['a circular list (torch.call)', () => torch.call('tensor', [circularList()]), /torch\.tensor: an argument nests lists more than 256 deep/],
  ['a circular list (torch.py, checked at the top of the call)', () => torch.py.import('builtins').len(circularList()), /argument\[0\]\[2\] contains itself/],
  ['a circular object (kwarg)', () => torch.call('ones', [2], { names: circularObject() }), /torch\.ones: keyword argument 'names' \(at self\) .*contains itself/],
  ['a Promise (a missing await)', () => torch.call('add', [torch.ones(2), [Promise.resolve(1)]]), /torch\.add: argument 2 \(at \[0\]\) .*Promise .*await/],
  ['a BigInt deep in a list', () => torch.call('tensor', [[1, [2, 2n ** 65n]]]), /argument 1 \(at \[1\]\[1\]\)/],
];

describe('an argument msgpack cannot carry', () => {
  it.each(REFUSED)('%s: ArgumentError at the call, the op before it reads back right', async (_what, bad, message) => {
    const good = torch.arange(4).add(1); // queued first, in the same batch
    let thrown: unknown;
    try {
      bad();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ArgumentError);
    expect((thrown as Error).message).toMatch(message);
    const after = torch.arange(3).mul(2); // and the ops after it run too
    expect(await good.tolist()).toEqual([1, 2, 3, 4]);
    expect(await after.tolist()).toEqual([0, 2, 4]);
    await torch.sync(); // no error was left for later
    // no reply is still awaited (a refused pending op settles its waiter at once)
    expect((currentSession() as unknown as { waiters: Map<number, unknown> }).waiters.size).toBe(0);
  });

  it('torch.callValue rejects with the ArgumentError; later reads are unaffected', async () => {
    const good = torch.ones(3).sum();
    await expect(torch.callValue('is_nonzero', [Symbol('x')])).rejects.toThrow(/torch\.is_nonzero: argument 1 .*Symbol/);
    expect(await good.item()).toBe(3);
  });

  it('a handle of a restarted runtime, nested where sessionOf does not look, is refused', async () => {
    const old = torch.ones(2);
    await torch.shutdown();
    await torch.init();
    expect(() => torch.call('stack', [[torch.ones(2)]], { out: { t: old } } as never)).toThrow(/another torchbridge runtime/);
    expect(await torch.ones(2).sum().item()).toBe(2);
  });

  it('a string with a lone surrogate (a valid JS string, invalid UTF-8) reaches Python as it is', async () => {
    const builtins = torch.py.import('builtins') as unknown as { len(s: string): Promise<number> };
    const keep = torch.arange(3).add(1);
    expect(await builtins.len('a\ud800b')).toBe(3); // one code point, as in Python
    expect(await keep.tolist()).toEqual([1, 2, 3]);
  });

  it('values msgpack carries as they are still pass: int64/uint64 BigInts, NaN, Infinity, strings', async () => {
    expect(await torch.full([1], 2n ** 63n - 1n).item()).toBe(2n ** 63n - 1n);
    expect(await torch.full([1], -(2n ** 63n)).item()).toBe(-(2n ** 63n));
    expect(Number.isNaN(await torch.full([1], NaN).item())).toBe(true);
    expect(await torch.full([1], -Infinity).item()).toBe(-Infinity);
    expect(await torch.ones(4).sum(0, { keepdim: true }).tolist()).toEqual([4]);
  });
});

describe('a batch that still fails to encode', () => {
  it('loses only the op msgpack refuses: its outputs and its reply carry the error, the rest runs', async () => {
    const s = currentSession();
    // the session's private queue, to queue what Session.call would never queue (a path that skips the check)
    const raw = s as unknown as { enqueue(op: unknown[], mayFail?: boolean): number };
    const good = torch.arange(4).add(1);
    const bad = s.newHandle();
    raw.enqueue([OP.CALL, bad, 'full', [[2], 2n ** 70n], null, 0, 0, 0], true);
    const pending = s.expectReply();
    const bad2 = s.newHandle();
    raw.enqueue([OP.CALL, bad2, 'add', [1, Symbol('s')], null, pending.id, 0, 0], true);
    const after = torch.arange(3).mul(2);
    // the first sync point reports the refused op, as it does any failed op
    const err = await torch.sync().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).pyType).toBe('TypeError');
    expect((err as TorchError).message).toMatch(/torch\.full: argument 2 could not be sent to Python .*too large.*the op was not run/);
    expect((err as TorchError).message).toMatch(/1 later op\(s\) failed too/);
    // the refused op's reply is its error, not silence
    await expect(pending.promise).rejects.toThrow(/torch\.add: argument 2 could not be sent/);
    // its outputs are poisoned with it
    await expect(s.read(bad, READ.TOLIST)).rejects.toThrow(/torch\.full: argument 2 could not be sent/);
    expect(await good.tolist()).toEqual([1, 2, 3, 4]);
    expect(await after.tolist()).toEqual([0, 2, 4]);
    s.free(bad);
    s.free(bad2);
  });
});

describe('a result msgpack cannot carry', () => {
  it('Tensor.numpy() gives the array as values (nested lists), whatever its size', async () => {
    expect(await (torch.ones(3, 5) as unknown as { numpy(): Promise<unknown> }).numpy()).toEqual(Array.from({ length: 3 }, () => [1, 1, 1, 1, 1]));
    expect(await (torch.arange(1) as unknown as { numpy(): Promise<unknown> }).numpy()).toEqual([0]); // not the scalar .item() made of it
  });

  it('torch.callValue gives an object with no plain form (torch.finfo) as a PyObject', async () => {
    const keep = torch.arange(4).add(1);
    const finfo = await torch.callValue('finfo', [torch.float32]);
    expect(finfo).toBeInstanceOf(PyObject);
    expect(await (finfo as PyObject).attr('eps').value()).toBe(2 ** -23);
    expect(await (finfo as PyObject).attr('bits').value()).toBe(32);
    expect(await keep.tolist()).toEqual([1, 2, 3, 4]);
  });

  it('a value that cannot be encoded at all is a TorchError for that read; the runtime and its tensors live on', async () => {
    const pid = torch.runtime.pid;
    const keep = torch.arange(4).add(1);
    // (a Python int of any size now travels, as a bigint): a list nested deeper than msgpack writes
    const json = torch.py.import('json');
    let err: unknown;
    try {
      await json.loads('['.repeat(300) + ']'.repeat(300));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).pyType).toBe('TypeError');
    expect((err as TorchError).message).toMatch(/cannot send this result to TypeScript: a Python list: ValueError: recursion limit exceeded/);
    expect(((await torch.runtime.ping()) as { pid: number }).pid).toBe(pid);
    expect(await keep.tolist()).toEqual([1, 2, 3, 4]);
    expect(keep).toBeInstanceOf(Tensor);
  });
});
