/**
 * Data in and out: item / tolist / str like Python, data() TypedArrays for every dtype, large
 * tensors through shared memory, zero-copy shared arrays in both directions, the local
 * inspect summary, and no shared-memory segment left behind.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import torch, { ArgumentError, Tensor, TorchError } from '../src/index.js';

const PREFIX = `tb-${process.pid}-`;

/** This process's torchbridge segments that still have a name in /dev/shm. */
function namedSegments(): string[] {
  return readdirSync('/dev/shm').filter((n) => n.startsWith(PREFIX));
}

/** This process's mappings of torchbridge segments (name, size in bytes, unlinked?). */
function shmMappings(): { name: string; size: number; deleted: boolean }[] {
  const out: { name: string; size: number; deleted: boolean }[] = [];
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s+\/dev\/shm\/(\S+)( \(deleted\))?$/.exec(line);
    if (m && m[3]!.startsWith(PREFIX)) {
      out.push({ name: m[3]!, size: parseInt(m[2]!, 16) - parseInt(m[1]!, 16), deleted: m[4] !== undefined });
    }
  }
  return out;
}

/** The elements of any tensor data array, as a plain array. */
function list(d: unknown): unknown[] {
  return Array.from(d as ArrayLike<unknown>);
}

/** Python's repr of the tensor, computed by torch itself (what str(t) must equal). */
async function pyStr(t: Tensor): Promise<string> {
  return (await torch.callValue('_tensor_str._str', [t])) as string;
}

afterAll(async () => {
  await torch.shutdown();
});

describe('item()', () => {
  it('gives numbers, booleans and bigints as Python does', async () => {
    const f = await torch.tensor(0.1).item();
    expect(f).toBe(Math.fround(0.1)); // the float32 value, widened exactly
    expect(f).toBe(await torch.callValue('Tensor.item', [torch.tensor(0.1)]));
    expect(await torch.tensor([[2.5]]).item()).toBe(2.5); // any one-element tensor
    expect(await torch.tensor(1.5, { dtype: torch.float64 }).item()).toBe(1.5);

    const i = await torch.tensor(7).item();
    expect(i).toBe(7);
    expect(typeof i).toBe('number');
    expect(await torch.tensor([1, 2, 3]).sum().item()).toBe(6);
    expect(await torch.tensor(-(2 ** 53 - 1)).item()).toBe(-(2 ** 53 - 1));
    expect(await torch.tensor(2 ** 53 - 1).item()).toBe(Number.MAX_SAFE_INTEGER);

    const b = await torch.tensor(true).item();
    expect(b).toBe(true);
    expect(await torch.tensor([false]).item()).toBe(false);
  });

  it('int64 beyond 2^53 arrives as a BigInt, exactly', async () => {
    const big = 2n ** 53n + 1n;
    const v = await torch.tensor(big).item();
    expect(typeof v).toBe('bigint');
    expect(v).toBe(big);
    expect(await torch.tensor(-(2n ** 62n) - 3n).item()).toBe(-(2n ** 62n) - 3n);
    // the same value computed by torch (2**60 + 5)
    const computed = torch.tensor(2n ** 60n).add(5);
    expect(await computed.item()).toBe(2n ** 60n + 5n);
    expect(await computed.tolist()).toBe(2n ** 60n + 5n);
    expect(await torch.tensor([1n, 2n ** 60n]).tolist()).toEqual([1, 2n ** 60n]);
  });

  it('more than one element: torch\'s error at the read', async () => {
    const err = await torch
      .ones(2)
      .item()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).pyType).toBe('RuntimeError');
    expect((err as TorchError).pyMessage).toBe('a Tensor with 2 elements cannot be converted to Scalar');
  });
});

describe('tolist() and str()', () => {
  it('tolist nests like Python for every shape', async () => {
    const cases: [Tensor, unknown][] = [
      [torch.tensor(3), 3],
      [torch.tensor(2.5), 2.5],
      [torch.tensor(true), true],
      [torch.zeros(0), []],
      [torch.zeros(2, 0), [[], []]],
      [torch.zeros(2, 0, 3), [[], []]],
      [torch.tensor([1, 2, 3]), [1, 2, 3]],
      [torch.arange(6).reshape(2, 3), [[0, 1, 2], [3, 4, 5]]],
      [torch.arange(8).reshape(2, 2, 1, 2), [[[[0, 1]], [[2, 3]]], [[[4, 5]], [[6, 7]]]]],
      [torch.tensor([[true, false]]), [[true, false]]],
      [torch.tensor([0.5, -1.25]), [0.5, -1.25]],
      [torch.arange(6).reshape(2, 3).transpose(0, 1), [[0, 3], [1, 4], [2, 5]]],
    ];
    for (const [t, expected] of cases) {
      const got = await t.tolist();
      expect(got).toEqual(expected);
      expect(got).toEqual(await torch.callValue('Tensor.tolist', [t]));
    }
    // complex values come as {re, im}
    const c = torch.call('view_as_complex', [torch.tensor([[1, 2], [3.5, -4]])]);
    expect(await c.tolist()).toEqual([
      { re: 1, im: 2 },
      { re: 3.5, im: -4 },
    ]);
  });

  it('str() is exactly Python\'s str()', async () => {
    const cases: [Tensor, string][] = [
      [torch.tensor([1, 2, 3]), 'tensor([1, 2, 3])'],
      [torch.tensor([[1.5, 2], [3, 4]]), 'tensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]])'],
      [torch.tensor(3.5), 'tensor(3.5000)'],
      [torch.zeros(0, 3), 'tensor([], size=(0, 3))'],
      [torch.tensor([true, false]), 'tensor([ True, False])'],
      [torch.tensor([1.5], { dtype: torch.float64 }), 'tensor([1.5000], dtype=torch.float64)'],
      [torch.tensor([1], { dtype: torch.float32, requires_grad: true }), 'tensor([1.], requires_grad=True)'],
      [torch.arange(10000), 'tensor([   0,    1,    2,  ..., 9997, 9998, 9999])'],
      [torch.tensor([1.5]).to(torch.complex64), 'tensor([1.5000+0.j])'],
      [torch.tensor([0.1, 1e-8]), 'tensor([1.0000e-01, 1.0000e-08])'],
      [torch.tensor([2n ** 60n, 1n]), 'tensor([1152921504606846976,                   1])'],
    ];
    for (const [t, text] of cases) {
      expect(await t.str()).toBe(text);
      expect(await pyStr(t)).toBe(text);
    }
  });
});

describe('data()', () => {
  const src = () => torch.tensor([1, -2, 0.5, 3]);

  it('gives the TypedArray of each dtype, with torch\'s values', async () => {
    const cases: [unknown, Function, unknown[]][] = [
      [torch.float32, Float32Array, [1, -2, 0.5, 3]],
      [torch.float64, Float64Array, [1, -2, 0.5, 3]],
      [torch.int64, BigInt64Array, [1n, -2n, 0n, 3n]],
      [torch.int32, Int32Array, [1, -2, 0, 3]],
      [torch.int16, Int16Array, [1, -2, 0, 3]],
      [torch.int8, Int8Array, [1, -2, 0, 3]],
      [torch.uint8, Uint8Array, [1, 254, 0, 3]],
      [torch.bool, Uint8Array, [1, 1, 1, 1]],
    ];
    const x = src();
    for (const [dtype, Ctor, values] of cases) {
      const t = x.to(dtype as never);
      const d = await t.data();
      expect(d, String(dtype)).toBeInstanceOf(Ctor);
      expect(list(d)).toEqual(values);
      // the same numbers Python has (bool as 0/1)
      const py = (await t.tolist()) as (number | boolean)[];
      expect(Array.from(d as ArrayLike<number | bigint>, (v) => Number(v))).toEqual(py.map((v) => Number(v)));
    }
    const mask = await torch.tensor([true, false, true]).data();
    expect(mask).toBeInstanceOf(Uint8Array);
    expect(list(mask)).toEqual([1, 0, 1]);
  });

  it('is row-major for a multi-dimensional (and a non-contiguous) tensor', async () => {
    const t = torch.arange(6, { dtype: torch.float32 }).reshape(2, 3);
    expect(list(await t.data())).toEqual([0, 1, 2, 3, 4, 5]);
    expect(list(await t.transpose(0, 1).data())).toEqual([0, 3, 1, 4, 2, 5]);
    expect((await torch.zeros(0).data()).length).toBe(0);
    expect(list(await torch.tensor(4.5).data())).toEqual([4.5]);
  });

  it('float16 / bfloat16 come as raw Uint16 bits', async () => {
    const x = torch.tensor([1, -2, 0.5, 65504, 0.1]);
    const h = await x.to(torch.float16).data();
    expect(h).toBeInstanceOf(Uint16Array);
    expect(list(h)).toEqual([0x3c00, 0xc000, 0x3800, 0x7bff, 0x2e66]);
    // torch's own bits: t.view(torch.int16)
    const hPy = (await torch.callValue('Tensor.view', [x.to(torch.float16), torch.int16])) as number[];
    expect(list(h)).toEqual(hPy.map((v) => v & 0xffff));

    const y = torch.tensor([1, -2, 0.5, 0.1]);
    const bf = await y.to(torch.bfloat16).data();
    expect(bf).toBeInstanceOf(Uint16Array);
    expect(list(bf)).toEqual([0x3f80, 0xc000, 0x3f00, 0x3dcd]);
    const bfPy = (await torch.callValue('Tensor.view', [y.to(torch.bfloat16), torch.int16])) as number[];
    expect(list(bf)).toEqual(bfPy.map((v) => v & 0xffff));
  });

  it('complex64 / complex128 come as interleaved re/im', async () => {
    const c64 = await src().to(torch.complex64).data();
    expect(c64).toBeInstanceOf(Float32Array);
    expect(list(c64)).toEqual([1, 0, -2, 0, 0.5, 0, 3, 0]);
    const z = torch.call('view_as_complex', [torch.tensor([[1, 2], [3.5, -4]])]);
    await z.ready();
    expect(z.dtype).toBe(torch.complex64);
    expect(list(await z.data())).toEqual([1, 2, 3.5, -4]);
    const c128 = await z.to(torch.complex128).data();
    expect(c128).toBeInstanceOf(Float64Array);
    expect(list(c128)).toEqual([1, 2, 3.5, -4]);
  });
});

describe('large tensors through shared memory', () => {
  it('runtime -> TS: arange(1e6) arrives exactly, mapped from an unlinked segment', async () => {
    const before = new Set(shmMappings().map((m) => m.name));
    const t = torch.arange(1_000_000);
    const d = await t.data();
    expect(d).toBeInstanceOf(BigInt64Array);
    expect(d.length).toBe(1_000_000);
    let bad = -1;
    for (let i = 0; i < d.length; i++) {
      if (d[i] !== BigInt(i)) {
        bad = i;
        break;
      }
    }
    expect(bad).toBe(-1);
    // backed by a shared segment mapped into this process (not a heap copy), its name removed
    const fresh = shmMappings().filter((m) => !before.has(m.name));
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.deleted).toBe(true);
    expect(fresh[0]!.size).toBe(Math.ceil((8 * 1_000_000) / 4096) * 4096);
    expect(d.byteLength).toBe(8_000_000);
    expect(namedSegments()).toEqual([]);

    const f = await torch.arange(300_000, { dtype: torch.float32 }).data();
    expect(f).toBeInstanceOf(Float32Array);
    expect(f.every((v, i) => v === i)).toBe(true);
  });

  it('small tensors travel inline (no segment)', async () => {
    const before = new Set(shmMappings().map((m) => m.name));
    const d = await torch.arange(16_384, { dtype: torch.float32 }).data(); // exactly 64 KiB
    expect(d.length).toBe(16_384);
    expect(d[16_383]).toBe(16_383);
    // no segment appeared for it (earlier ones may have been unmapped by GC meanwhile)
    expect(shmMappings().filter((m) => !before.has(m.name))).toEqual([]);
  });

  it('torch.tensor(small array) copies at the call: a write right after (same turn) does not reach the tensor', async () => {
    const small = new Float32Array([1, 2, 3]); // inline in the message, which is encoded later
    // (sent at once; until it is answered the runtime counts as busy, so the next op waits in
    // the outbox for the turn's end, when the message is encoded)
    const pending = torch.sync();
    const a = torch.tensor(small);
    small[0] = 99;
    await pending;
    expect(await a.tolist()).toEqual([1, 2, 3]);
  });

  it('TS -> runtime: a big Float32Array round-trips exactly', async () => {
    const n = 250_000; // 1 MB
    const arr = new Float32Array(n);
    let jsSum = 0;
    for (let i = 0; i < n; i++) {
      arr[i] = (i % 1000) * 0.5 - 100;
      jsSum += arr[i]!;
    }
    const t = torch.tensor(arr);
    expect(t.shape).toEqual([n]);
    expect(t.dtype).toBe(torch.float32);
    expect(await t.sum({ dtype: torch.float64 }).item()).toBe(jsSum);
    const back = await t.data();
    expect(back).not.toBe(arr);
    expect(back.length).toBe(n);
    let same = true;
    for (let i = 0; i < n; i++) if (back[i] !== arr[i]) same = false;
    expect(same).toBe(true);

    // random values: torch's float64 sum equals the JS sum up to rounding order
    const r = new Float32Array(200_000).map(() => Math.random() * 2 - 1);
    const rs = r.reduce((p, v) => p + v, 0);
    expect(await torch.tensor(r).sum({ dtype: torch.float64 }).item()).toBeCloseTo(rs, 6);
    // the copy is the runtime's own: changing the JS array later does not change the tensor
    arr[0] = 12345;
    expect(await t.reshape(-1).sum({ dtype: torch.float64 }).item()).toBe(jsSum);
    // and the one-shot segment was unlinked by the runtime
    await torch.sync();
    expect(namedSegments()).toEqual([]);
  });

  it('a big int64 / float64 tensor goes in and out through shm', async () => {
    const n = 20_000; // 160 KB
    const big = new BigInt64Array(n).map((_, i) => BigInt(i) * 3n - 2n ** 40n);
    const t = torch.tensor(big);
    expect(t.dtype).toBe(torch.int64);
    const back = await t.data();
    expect(back).toEqual(big);
    const f64 = new Float64Array(n).map((_, i) => i / 7);
    expect(await torch.tensor(f64).data()).toEqual(f64);
  });
});

describe('zero-copy shared arrays', () => {
  it('a write in TS is seen by torch, an in-place op in torch is seen by TS', async () => {
    const arr = torch.shared_array(1024, torch.float32);
    expect(arr).toBeInstanceOf(Float32Array);
    expect(arr.length).toBe(1024);
    const t = torch.frombuffer(arr);
    expect(t.shape).toEqual([1024]);
    expect(t.dtype).toBe(torch.float32);

    arr[5] = 42;
    const list = (await t.tolist()) as number[];
    expect(list[5]).toBe(42);
    expect(list[4]).toBe(0);

    t.call('add_', [1]);
    await torch.sync();
    // no data() call: the JS array itself sees the in-place add
    expect(arr[5]).toBe(43);
    expect(arr[0]).toBe(1);
    expect(arr[1023]).toBe(1);

    torch.call('Tensor.mul_', [t, 2]);
    await torch.sync();
    expect(arr[5]).toBe(86);

    // data() of the shared tensor is a view of the same memory
    const view = (await t.data()) as Float32Array;
    expect(view.buffer).toBe(arr.buffer);
    expect(view.length).toBe(1024);
    view[0] = -7;
    expect(arr[0]).toBe(-7);
    expect(await t.sum().item()).toBe(-7 + 86 + 1022 * 2);
    expect(((await t.tolist()) as number[])[0]).toBe(-7);
  });

  it('other dtypes, {count, offset}, and a view of a tensor in the shared array', async () => {
    const arr = torch.shared_array(16, torch.int32);
    expect(arr).toBeInstanceOf(Int32Array);
    arr.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    const t = torch.frombuffer(arr, { count: 4, offset: 8 });
    expect(t.shape).toEqual([4]);
    expect(t.dtype).toBe(torch.int32);
    expect(await t.tolist()).toEqual([3, 4, 5, 6]);
    t.call('neg_');
    await torch.sync();
    expect(Array.from(arr.subarray(0, 8))).toEqual([1, 2, -3, -4, -5, -6, 7, 8]);
    const v = (await t.data()) as Int32Array;
    expect(v.buffer).toBe(arr.buffer);
    expect(v.byteOffset).toBe(8);
    expect(list(v)).toEqual([-3, -4, -5, -6]);

    const b = torch.shared_array(8, torch.float64);
    expect(b).toBeInstanceOf(Float64Array);
    const tb = torch.frombuffer(b);
    b[7] = 0.25;
    expect(await tb.sum().item()).toBe(0.25);
  });

  it('frombuffer refuses an ordinary (non-shared) array', () => {
    expect(() => torch.frombuffer(new Float32Array(4))).toThrow(ArgumentError);
  });
});

describe('a tensor over a shared array whose JS array was dropped', () => {
  // Run in a child with --expose-gc (see test/fixtures/shared_gc.ts).
  type Read = { ok: boolean; value?: number[]; error?: string };
  let result: { first: Read; second: Read; sum: number } | undefined;

  it('the child runs: the tensor stays usable in torch after the array is collected', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const script = fileURLToPath(new URL('./fixtures/shared_gc.ts', import.meta.url));
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code, err).toBe(0);
    result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result!.sum).toBe(1024); // the runtime still holds the memory
    expect(result!.second).toEqual({ ok: true, value: [1, 1, 1] });
  }, 30_000);

  it('data() right after the array was collected still works', () => {
    expect(result).toBeDefined();
    expect(result!.first).toEqual({ ok: true, value: [1, 1, 1] });
  });
});

describe('inspect', () => {
  it('shows shape and dtype without a round trip', () => {
    const t = torch.zeros(2, 3);
    // synchronously, right after creation: nothing can have come back from the runtime yet
    const s = inspect(t);
    expect(s).toContain('shape=[2, 3]');
    expect(s).toContain('torch.float32');
    expect(String(t)).toBe('Tensor(shape=[2, 3], dtype=torch.float32)');
    expect(inspect(torch.ones(4, { dtype: torch.int64 }))).toBe('Tensor(shape=[4], dtype=torch.int64)');
    expect(inspect(torch.tensor([1.5], { requires_grad: true }))).toBe('Tensor(shape=[1], dtype=torch.float32, requires_grad=True)');
    expect(inspect({ x: t })).toContain('shape=[2, 3]');
    const p = torch.call('nn.functional.relu', [t]);
    expect(inspect(p)).toBe('Tensor(pending)');
    t.dispose();
    expect(inspect(t)).toBe('Tensor(disposed)');
  });
});

describe('shared memory clean-up', () => {
  it('leaves no tb-<pid>- segment in /dev/shm after torch.shutdown()', async () => {
    // a shared array never handed to the runtime keeps its name until the session ends
    const unused = torch.shared_array(256, torch.float32);
    unused[0] = 1;
    expect(namedSegments().length).toBeGreaterThan(0);
    // plus a big read and a big write in flight at the end
    const big = torch.tensor(new Float32Array(100_000).fill(2));
    expect((await torch.arange(100_000).data()).length).toBe(100_000);
    expect(await big.sum().item()).toBe(200_000);
    await torch.shutdown();
    expect(namedSegments()).toEqual([]);
    expect(unused[0]).toBe(1); // the client's mapping stays valid after the name is gone
  });
});
