/**
 * torch.py: Python modules as proxies. Every expected value comes from running the same thing
 * in Python (test/fixtures/python_twin.ts), never typed in by hand.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { Tensor, TorchError, ArgumentError } from '../src/index.js';
import { python } from './fixtures/python_twin.js';

afterAll(() => torch.shutdown());

/**
 * Every expected value, computed by one Python twin run (starting Python with torch costs
 * seconds): `expected[key]` is Python's value of the expression, as JSON (tuples as lists),
 * or [type, message] of the exception it raises.
 */
const EXPRESSIONS: Record<string, string> = {
  pi: 'math.pi',
  fsum: 'math.fsum([0.1, 0.2, 0.3])',
  log: 'math.log(8, 2)',
  dumps: 'json.dumps({"b": 1, "a": [1, 2]}, sort_keys=True, indent=1)',
  divmod: 'divmod(17, 5)',
  sorted: "sorted(['b', 'c', 'a'], reverse=True)",
  dict: "dict(x=1.5, y=None, z=[True, 'w'])",
  tuple: "(1, [2, 3], {'k': 'v'})",
  ordered: "list(OrderedDict([('b', 1), ('10', 2), ('2', 3)]).items())",
  numerator: 'Fraction(3, 6).numerator',
  fractionStr: 'str(Fraction(3, 6))',
  e: 'math.e',
  full: "np.full([2, 3], 7, dtype='int32').tolist()",
  npsum: 'float(np.sum(np.array([1.5, 2.5, 3])))',
  digits: "{'shape': list(d.data.shape), 'tshape': list(d.target.shape), 'sum': float(d.data.sum()), 'tsum': int(d.target.sum()), 'names': d.target_names.tolist(), 'first': d.data[0].tolist()}",
  noAttr: 'math.no_such_thing',
  sqrt: 'math.sqrt(-1)',
};
const ARRAYS: Record<string, string> = {
  f32: 'np.arange(12, dtype=np.float32).reshape(3, 4) / 7',
  i64: 'np.arange(-5, 5, dtype=np.int64)',
  bool: 'np.array([[True, False]])',
  f64: 'np.linspace(0, 1, 7)',
  reversed: 'np.arange(6, dtype=np.int16)[::-1]',
  bigEndian: 'np.arange(6, dtype=">f4")',
};
let expected: Record<string, unknown>;
beforeAll(() => {
  const lines = Object.entries({ ...EXPRESSIONS, ...Object.fromEntries(Object.entries(ARRAYS).map(([k, v]) => [k, `{'shape': list((${v}).shape), 'values': (${v}).tolist()}`])) }).map(
    ([k, v]) => `try:\n    out[${JSON.stringify(k)}] = ${v}\nexcept Exception as e:\n    out[${JSON.stringify(k)}] = [type(e).__name__, str(e)]`,
  );
  expected = python(['import numpy as np', 'from collections import OrderedDict', 'from fractions import Fraction', 'from sklearn.datasets import load_digits', 'd = load_digits()', 'out = {}', ...lines, 'print(json.dumps(out))'].join('\n'));
}, 240_000);

/** This process's mappings of torchbridge shared-memory segments (by name). */
function shmMappings(): Set<string> {
  const names = readFileSync('/proc/self/maps', 'utf8').match(/\/dev\/shm\/tb-\S+/g) ?? [];
  return new Set(names);
}

const py = (key: string): unknown => {
  if (!(key in expected)) throw new Error(`no twin value for ${key}`);
  return expected[key];
};

describe('torch.py.import: modules, attributes, calls', () => {
  it('reads module constants and calls functions with positional and keyword arguments', async () => {
    const math = torch.py.import('math');
    expect(await math.pi).toBe(py('pi'));
    expect(await math.fsum([0.1, 0.2, 0.3])).toBe(py('fsum'));
    expect(await math.log(8, 2)).toBe(py('log'));
    const json = torch.py.import('json');
    expect(await json.dumps({ b: 1, a: [1, 2] }, { sort_keys: true, indent: 1 })).toBe(py('dumps'));
  });

  it('converts numbers, strings, booleans, None, lists, tuples and dicts to JS values', async () => {
    const builtins = torch.py.import('builtins');
    expect(await builtins.divmod(17, 5)).toEqual(py('divmod'));
    expect(await builtins.sorted(['b', 'c', 'a'], { reverse: true })).toEqual(py('sorted'));
    expect(await builtins.isinstance(3, builtins.int)).toBe(true);
    expect(await builtins.dict({ x: 1.5, y: null, z: [true, 'w'] })).toEqual(py('dict'));
    const t = await builtins.tuple([1, [2, 3], { k: 'v' }]);
    expect(t).toEqual(py('tuple'));
    // keys a JS object would reorder, or keys that are not strings: a Map in Python's order
    const collections = torch.py.import('collections');
    const ordered = await collections.OrderedDict([['b', 1], ['10', 2], ['2', 3]]);
    expect(ordered).toBeInstanceOf(Map);
    expect([...(ordered as Map<string, number>).entries()]).toEqual(py('ordered'));
    const intKeys = (await builtins.dict([[1, 'a'], [0, 'b']])) as Map<number, string>;
    expect([...intKeys.keys()]).toEqual([1, 0]);
  });

  it('returns other objects as settled proxies whose attributes and methods work', async () => {
    const fractions = torch.py.import('fractions');
    const f = (await fractions.Fraction(3, 6)) as ReturnType<typeof torch.py.import>;
    expect(typeof f).toBe('function'); // a proxy, not a JS value
    expect(await f).toBe(f); // settled: awaiting it again gives itself
    expect(await f.numerator).toBe(py('numerator'));
    expect(await f.$str()).toBe(py('fractionStr'));
    expect(await f.limit_denominator(1).denominator).toBe(1);
    expect(String(f)).toContain('Fraction');
  });

  it('passes proxies and tensors as arguments, and sets attributes and items', async () => {
    const types = torch.py.import('types');
    const ns = types.SimpleNamespace({ a: 1 });
    ns.b = torch.arange(3);
    ns.$setattr('then', 'kept');
    const copy = torch.py.import('copy').copy(ns);
    expect(await copy.a).toBe(1);
    expect(await (await copy.b as Tensor).tolist()).toEqual([0, 1, 2]);
    expect(await copy.$attr('then')).toBe('kept');
    const d = torch.py.import('builtins').dict({ x: 1 });
    d.$setitem('y', torch.py.import('math').e);
    expect(await d.$item('y')).toBe(py('e'));
    // a keyword argument named like a helper's own parameter reaches the callee
    const fn = torch.py.import('functools').partial(torch.py.import('builtins').dict, { name: 'n', obj: 'o', fn: 'f' });
    expect(await fn()).toEqual({ name: 'n', obj: 'o', fn: 'f' });
  });
});

describe('NumPy arrays become Tensors', () => {
  it('keeps dtype, shape and values (copies where torch cannot share: reversed, big-endian)', async () => {
    const np = torch.py.import('numpy');
    const arrays: Record<keyof typeof ARRAYS, [unknown, unknown]> = {
      f32: [np.divide(np.arange(12, { dtype: np.float32 }).reshape(3, 4), 7), torch.float32],
      i64: [np.arange(-5, 5, { dtype: np.int64 }), torch.int64],
      bool: [np.array([[true, false]]), torch.bool],
      f64: [np.linspace(0, 1, 7), torch.float64],
      reversed: [np.arange(6, { dtype: np.int16 }).$item(torch.slice(null, null, -1)), torch.int16],
      bigEndian: [np.arange(6, { dtype: '>f4' }), torch.float32],
    };
    for (const [key, [array, dtype]] of Object.entries(arrays)) {
      const t = (await array) as Tensor;
      const want = py(key) as { shape: number[]; values: unknown };
      expect(t, key).toBeInstanceOf(Tensor);
      expect(t.dtype, key).toBe(dtype);
      expect([...t.shape], key).toEqual(want.shape);
      expect(await t.tolist(), key).toEqual(want.values);
    }
  });

  it('calls NumPy with JS arrays, kwargs and TypedArrays (sent as NumPy arrays)', async () => {
    const np = torch.py.import('numpy');
    const m = (await np.full([2, 3], 7, { dtype: 'int32' })) as Tensor;
    expect(m.dtype).toBe(torch.int32);
    expect(await m.tolist()).toEqual(py('full'));
    const s = await np.sum(new Float64Array([1.5, 2.5, 3]));
    expect(s).toBe(py('npsum'));
  });

  it('shares memory: a big array arrives through shared memory, and writes in Python are seen', async () => {
    const np = torch.py.import('numpy');
    const n = 1 << 20; // 4 MiB of float32, far above the inline limit
    const arr = np.arange(n, { dtype: 'float32' });
    const t = (await arr) as Tensor;
    expect([...t.shape]).toEqual([n]);
    const before = new Set(shmMappings());
    const data = await t.data<Float32Array>();
    // a view of a shared segment mapped into this process, not a copy through the socket
    expect([...shmMappings()].filter((m) => !before.has(m))).toHaveLength(1);
    expect(data.length).toBe(n);
    expect([data[0], data[12345], data[n - 1]]).toEqual([0, 12345, n - 1]);
    // from_numpy: the tensor is the array's memory
    arr.$setitem(5, -1);
    expect(await t.i('5').item()).toBe(-1);
  });

  it('pulls scikit-learn digits as tensors', async () => {
    const { load_digits } = torch.py.import('sklearn.datasets');
    const digits = (await load_digits()) as Record<string, unknown>;
    const data = digits.data as Tensor;
    const target = digits.target as Tensor;
    const twin = py('digits') as { shape: number[]; tshape: number[]; sum: number; tsum: number; names: number[]; first: number[] };
    expect(data.dtype).toBe(torch.float64);
    expect(target.dtype).toBe(torch.int64);
    expect([...data.shape]).toEqual(twin.shape);
    expect([...target.shape]).toEqual(twin.tshape);
    expect(await data.sum().item()).toBe(twin.sum);
    expect(await target.sum().item()).toBe(twin.tsum);
    expect(await data.i('0').tolist()).toEqual(twin.first);
    expect(await (digits.target_names as Tensor).tolist()).toEqual(twin.names);
    expect(typeof digits.DESCR).toBe('string');
    expect(digits.frame).toBeNull();
  }, 240_000); // importing scikit-learn takes seconds
});

describe('errors', () => {
  it('surfaces Python exceptions with their type and message at the await', async () => {
    const math = torch.py.import('math');
    const err = await math.no_such_thing.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).pyType).toBe('AttributeError');
    expect((err as TorchError).pyMessage).toBe((py('noAttr') as string[])[1]);
    const [type, message] = py('sqrt') as [string, string];
    await expect(math.sqrt(-1)).rejects.toMatchObject({ pyType: type, pyMessage: message });
    await expect(torch.py.import('no_such_module_xyz')).rejects.toMatchObject({ pyType: 'ModuleNotFoundError' });
    await expect(math.$attr('__class__')).rejects.toMatchObject({ pyType: 'AttributeError' });
    // the session goes on
    expect(await math.floor(2.5)).toBe(2);
  });

  it('refuses JS values Python cannot take, at the call', () => {
    const builtins = torch.py.import('builtins');
    expect(() => builtins.len([Symbol('s')])).toThrow(ArgumentError); // (a JS function is a Python callable: py_callbacks.test.ts)
    expect(() => builtins.len(/re/)).toThrow(/RegExp/); // (a Date is a datetime: test/py_values.test.ts)
  });
});
