/**
 * Python indexing (src/ops/indexing.ts, src/ops/index_parse.ts), checked against real torch:
 *  - an oracle: the runtime's own Python evaluates `x[<text>]` (and `x[<text>] = v`) for every
 *    case in the tables below, giving the result's shape, dtype and values, or the exception;
 *  - the mirror's synchronous metadata equals the oracle's and the runtime's report (strict
 *    mode checks every result too); values (tolist) equal the oracle's;
 *  - the string form x.i('...') and the variadic form x.index(...) agree;
 *  - the same indexing on a tensor whose metadata is pending goes to the runtime unmirrored
 *    and gives the same result or the same exception;
 *  - errors torch raises are thrown synchronously, with torch's type and message.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { ArgumentError, MirrorMismatchError, PendingMetadataError, Tensor, TorchError, type Index } from '../src/index.js';
import { resolveIndex } from '../src/ops/index_parse.js';
import { Slice } from '../src/transport/codec.js';

const S = torch.slice;

/** An index tensor made for a case: torch.tensor(data, dtype=dtype). */
interface TensorArg {
  data: unknown;
  dtype: 'int64' | 'int32' | 'bool' | 'float32' | 'uint8';
}
type Arg = TensorArg | number | boolean | null | unknown[];

interface Case {
  shape: number[];
  /** the index in Python syntax, as x.i() takes it (null: no string form) */
  text: string | null;
  /** the variadic form x.index(...items), when given */
  items?: Index[];
  /** the index as Python evaluates it, when it differs from text */
  py?: string;
  args?: Arg[];
  dtype?: 'int64' | 'float32';
  /** the mirror cannot see the error (it depends on index values): it surfaces in the runtime */
  late?: boolean;
  /** the result's metadata is data-dependent (masks): pending until the runtime answers */
  pending?: boolean;
  /** a setitem case: x[text] = value */
  set?: Arg;
}

interface Outcome {
  shape?: number[];
  dtype?: string;
  values?: unknown;
  error?: [string, string];
}

const isTensorArg = (a: unknown): a is TensorArg => typeof a === 'object' && a !== null && !Array.isArray(a) && 'dtype' in a;

function makeArg(a: Arg): Index | Tensor {
  if (isTensorArg(a)) return torch.tensor(a.data as never, { dtype: torch[a.dtype] });
  return a as Index;
}

function caseName(c: Case): string {
  const args = c.args?.length ? ` with ${JSON.stringify(c.args.map((a) => (isTensorArg(a) ? `tensor(${JSON.stringify(a.data)}, ${a.dtype})` : a)))}` : '';
  const set = c.set !== undefined ? ` = ${JSON.stringify(c.set)}` : '';
  return `[${c.shape.join(', ')}][${c.py ?? c.text}]${args}${set}`;
}

// ---------------------------------------------------------------------------------------------
// The getitem table: shapes [5], [4, 5], [2, 3, 4], [2, 3, 4, 5], plus 0-dim and empty tensors

const t64 = (data: unknown): TensorArg => ({ data, dtype: 'int64' });
const tbool = (data: unknown): TensorArg => ({ data, dtype: 'bool' });

const GET: Case[] = [
  // [5]
  { shape: [5], text: '0', items: [0] },
  { shape: [5], text: '-1', items: [-1] },
  { shape: [5], text: '4', items: [4] },
  { shape: [5], text: '5', items: [5] },
  { shape: [5], text: '-6', items: [-6] },
  { shape: [5], text: '1:3', items: [S(1, 3)] },
  { shape: [5], text: ':', items: [S()] },
  { shape: [5], text: '::2', items: [S(null, null, 2)] },
  { shape: [5], text: '-1:', items: [S(-1)] },
  { shape: [5], text: '3:1', items: [S(3, 1)] },
  { shape: [5], text: '-100:100', items: [S(-100, 100)] },
  { shape: [5], text: '1::3', items: [S(1, null, 3)] },
  { shape: [5], text: '::-1', items: [S(null, null, -1)] },
  { shape: [5], text: '::0', items: [S(null, null, 0)] },
  { shape: [5], text: 'None', items: [null] },
  { shape: [5], text: '...', items: ['...'] },
  { shape: [5], text: '0,', py: '0,' },
  { shape: [5], text: '', py: '()', items: [] },
  { shape: [5], text: '[0, 2, 4]', items: [[0, 2, 4]] },
  { shape: [5], text: '[[0, 1], [3, 4]]', items: [[[0, 1], [3, 4]]], py: '([[0, 1], [3, 4]],)' },
  { shape: [5], text: '[]', items: [[]] },
  { shape: [5], text: '[-1, 0, -5]', items: [[-1, 0, -5]] },
  { shape: [5], text: '[1, 5]', items: [[1, 5]] },
  { shape: [5], text: 'True', items: [true] },
  { shape: [5], text: 'False', items: [false] },
  { shape: [5], text: '0, 0', items: [0, 0] },
  { shape: [5], text: null, py: '1.5', items: [1.5] },
  { shape: [5], text: '[True, False, True, False, True]', items: [[true, false, true, false, true]] },
  { shape: [5], text: '[True, False]', items: [[true, false]] },
  { shape: [5], text: '$0', args: [tbool([true, false, true, true, false])], pending: true },
  { shape: [5], text: '$0', args: [t64([[0, 1], [2, 3]])] },
  { shape: [5], text: '$0', args: [t64(3)] },
  { shape: [5], text: '$0', args: [t64(7)], late: true },
  { shape: [5], text: '$0', args: [{ data: [1, 2], dtype: 'float32' }] },
  { shape: [5], text: '$0', args: [{ data: [1, 2], dtype: 'int32' }] },
  { shape: [5], text: '$0', args: [t64([9])], late: true },
  // [4, 5]
  { shape: [4, 5], text: '1, 2', items: [1, 2] },
  { shape: [4, 5], text: '-1, -1', items: [-1, -1] },
  { shape: [4, 5], text: '1', items: [1] },
  { shape: [4, 5], text: ':, 2', items: [S(), 2] },
  { shape: [4, 5], text: '1:3, ::2', items: [S(1, 3), S(null, null, 2)] },
  { shape: [4, 5], text: '..., 0', items: ['...', 0] },
  { shape: [4, 5], text: '0, ...', items: [0, '...'] },
  { shape: [4, 5], text: 'None, :, None', items: [null, S(), null] },
  { shape: [4, 5], text: ':, None, :', items: [S(), null, S()] },
  { shape: [4, 5], text: '2:, -2:', items: [S(2), S(-2)] },
  { shape: [4, 5], text: '1:1', items: [S(1, 1)] },
  { shape: [4, 5], text: '[0, 3], [1, 4]', items: [[0, 3], [1, 4]] },
  { shape: [4, 5], text: '[0, 3], :', items: [[0, 3], S()] },
  { shape: [4, 5], text: ':, [0, 4]', items: [S(), [0, 4]] },
  { shape: [4, 5], text: '[[0], [3]], [1, 4]', items: [[[0], [3]], [1, 4]] },
  { shape: [4, 5], text: '[0, 1], [0, 1, 2]', items: [[0, 1], [0, 1, 2]] },
  { shape: [4, 5], text: 'True, 0', items: [true, 0] },
  { shape: [4, 5], text: '0, False', items: [0, false] },
  { shape: [4, 5], text: '..., [1, 2]', items: ['...', [1, 2]] },
  { shape: [4, 5], text: '[1, 2], ...', items: [[1, 2], '...'] },
  { shape: [4, 5], text: '4:, [0]', items: [S(4), [0]] },
  { shape: [4, 5], text: '[0, 1], 4:', items: [[0, 1], S(4)] },
  { shape: [4, 5], text: '[4], :', items: [[4], S()] },
  { shape: [4, 5], text: ':, [5]', items: [S(), [5]] },
  { shape: [4, 5], text: '0, 0, 0', items: [0, 0, 0] },
  { shape: [4, 5], text: '..., ...', items: ['...', '...'] },
  { shape: [4, 5], text: '0, ::-2', items: [0, S(null, null, -2)] },
  { shape: [4, 5], text: '9, ::0', items: [9, S(null, null, 0)] },
  { shape: [4, 5], text: '[True, False, True, True]', items: [[true, false, true, true]] },
  { shape: [4, 5], text: '[True, False, True, True], [0, 1, 2]', items: [[true, false, true, true], [0, 1, 2]] },
  { shape: [4, 5], text: '$0', args: [tbool([[true, false, true, false, true], [false, false, false, false, false], [true, true, true, true, true], [false, true, false, true, false]])], pending: true },
  { shape: [4, 5], text: '$0, 1', args: [tbool([true, false, true, true])], pending: true },
  { shape: [4, 5], text: ':, $0', args: [{ data: [[1, 3]], dtype: 'int32' }] },
  { shape: [4, 5], text: '$0, $1', args: [t64([[0], [3]]), t64([1, 2, 4])] },
  { shape: [4, 5], text: '$0, $1', args: [t64([0, 1]), t64([0, 1, 2])] },
  { shape: [4, 5], text: '$0:$1, $2', args: [1, 3, 0], items: [S(1, 3), 0] },
  { shape: [4, 5], text: '$0, 1', args: [tbool([true, false])] },
  // [2, 3, 4]
  { shape: [2, 3, 4], text: '0, 1, 2', items: [0, 1, 2] },
  { shape: [2, 3, 4], text: '1, ..., 2', items: [1, '...', 2] },
  { shape: [2, 3, 4], text: '..., 1', items: ['...', 1] },
  { shape: [2, 3, 4], text: 'None, 0, None, 1', items: [null, 0, null, 1] },
  { shape: [2, 3, 4], text: '[0, 1], :, [0, 1]', items: [[0, 1], S(), [0, 1]] },
  { shape: [2, 3, 4], text: '[0, 1], [0, 1]', items: [[0, 1], [0, 1]] },
  { shape: [2, 3, 4], text: ':, [0, 2], [1, 3]', items: [S(), [0, 2], [1, 3]] },
  { shape: [2, 3, 4], text: '[0, 1], 0, [0, 1]', items: [[0, 1], 0, [0, 1]] },
  { shape: [2, 3, 4], text: '0, :, [0, 1]', items: [0, S(), [0, 1]] },
  { shape: [2, 3, 4], text: '[0, 1], None, [0, 1]', items: [[0, 1], null, [0, 1]] },
  { shape: [2, 3, 4], text: '[0, 1], ..., [0, 1]', items: [[0, 1], '...', [0, 1]] },
  { shape: [2, 3, 4], text: 'True, :, [0, 1]', items: [true, S(), [0, 1]] },
  { shape: [2, 3, 4], text: '[0], True, [2]', items: [[0], true, [2]] },
  { shape: [2, 3, 4], text: '..., None', items: ['...', null] },
  { shape: [2, 3, 4], text: ':, :, ::3', items: [S(), S(), S(null, null, 3)] },
  { shape: [2, 3, 4], text: '-1, -1:, 1::2', items: [-1, S(-1), S(1, null, 2)] },
  { shape: [2, 3, 4], text: '[0, 0], [[0], [2]], :', items: [[0, 0], [[0], [2]], S()] },
  { shape: [2, 3, 4], text: '[[0]], :, [[1, 2]]', items: [[[0]], S(), [[1, 2]]] },
  { shape: [2, 3, 4], text: ':, 3', items: [S(), 3] },
  { shape: [2, 3, 4], text: '..., 4', items: ['...', 4] },
  { shape: [2, 3, 4], text: 'None, 2', items: [null, 2] },
  { shape: [2, 3, 4], text: '[0, 1], [2, 5]', items: [[0, 1], [2, 5]] },
  { shape: [2, 3, 4], text: '[0, 1], :, [[5], [7]]', items: [[0, 1], S(), [[5], [7]]] },
  { shape: [2, 3, 4], text: '[[True, False, True], [True, True, True]]', items: [[[true, false, true], [true, true, true]]], py: '([[True, False, True], [True, True, True]],)' },
  { shape: [2, 3, 4], text: '[[True, False, True], [True, True, True]], 0', items: [[[true, false, true], [true, true, true]], 0] },
  { shape: [2, 3, 4], text: '[True, False], [[True, False, True]]', items: [[true, false], [[true, false, true]]] },
  { shape: [2, 3, 4], text: '[[0, 1], 2]', items: [[[0, 1], 2]], py: '([[0, 1], 2],)' },
  { shape: [2, 3, 4], text: '[[0, 1], [2]]', items: [[[0, 1], [2]]], py: '([[0, 1], [2]],)' },
  { shape: [2, 3, 4], text: '$0', args: [tbool([[true, false, true], [true, true, false]])], pending: true },
  { shape: [2, 3, 4], text: '$0, 0', args: [tbool([[true, false, true], [true, true, false]])], pending: true },
  { shape: [2, 3, 4], text: '0, $0', args: [tbool([[true, false, true, true], [true, true, false, false], [false, false, false, true]])], pending: true },
  { shape: [2, 3, 4], text: '$0, [1, 0]', args: [t64(1)] },
  { shape: [2, 3, 4], text: '$0, [1, 0]', args: [tbool(true)], pending: true },
  { shape: [2, 3, 4], text: '[1, 0], $0', args: [{ data: 1, dtype: 'float32' }] },
  { shape: [2, 3, 4], text: '$0, $1', args: [t64([[1, 0]]), { data: [1, 0], dtype: 'int32' }] },
  { shape: [2, 3, 4], text: '$0', args: [{ data: [1, 0], dtype: 'uint8' }], pending: true },
  // [2, 3, 4, 5]
  { shape: [2, 3, 4, 5], text: '0, ..., 0', items: [0, '...', 0] },
  { shape: [2, 3, 4, 5], text: ':, [0, 2], :, [1, 3]', items: [S(), [0, 2], S(), [1, 3]] },
  { shape: [2, 3, 4, 5], text: '[0, 1], [0, 2], :, :', items: [[0, 1], [0, 2], S(), S()] },
  { shape: [2, 3, 4, 5], text: ':, :, [1], [2]', items: [S(), S(), [1], [2]] },
  { shape: [2, 3, 4, 5], text: '..., [0, 1], [1, 2]', items: ['...', [0, 1], [1, 2]] },
  { shape: [2, 3, 4, 5], text: '[1], ..., [4]', items: [[1], '...', [4]] },
  { shape: [2, 3, 4, 5], text: 'None, ..., None', items: [null, '...', null] },
  { shape: [2, 3, 4, 5], text: '1, None, [0, 2], ::2', items: [1, null, [0, 2], S(null, null, 2)] },
  { shape: [2, 3, 4, 5], text: ':, 1:3, None, [0, 3, 2]', items: [S(), S(1, 3), null, [0, 3, 2]] },
  { shape: [2, 3, 4, 5], text: '-1, [[0, 1], [2, 0]], 1:, [[4]]', items: [-1, [[0, 1], [2, 0]], S(1), [[4]]] },
  { shape: [2, 3, 4, 5], text: '..., 1:, None, 0', items: ['...', S(1), null, 0] },
  { shape: [2, 3, 4, 5], text: '0, 0, 0, 0, 0', items: [0, 0, 0, 0, 0] },
  { shape: [2, 3, 4, 5], text: 'True, False, 0', items: [true, false, 0] },
  { shape: [2, 3, 4, 5], text: '$0, :, $1', args: [t64(1), t64([[0, 1]])] },
  // 0-dim
  { shape: [], text: '0', items: [0] },
  { shape: [], text: '0,', py: '0,' },
  { shape: [], text: ':', items: [S()] },
  { shape: [], text: 'None', items: [null] },
  { shape: [], text: '...', items: ['...'] },
  { shape: [], text: 'True', items: [true] },
  { shape: [], text: 'False', items: [false] },
  { shape: [], text: '', py: '()', items: [] },
  { shape: [], text: '[0]', items: [[0]] },
  { shape: [], text: 'None, None', items: [null, null] },
  // empty
  { shape: [0, 3], text: '0', items: [0] },
  { shape: [0, 3], text: '[0]', items: [[0]] },
  { shape: [0, 3], text: ':, [0]', items: [S(), [0]] },
  { shape: [0, 3], text: ':, [9]', items: [S(), [9]] },
  { shape: [0, 3], text: '[], :', items: [[], S()] },
  { shape: [0, 3], text: '::2, 1', items: [S(null, null, 2), 1] },
  // float input
  { shape: [3, 4], text: '1:, [0, 3]', items: [S(1), [0, 3]], dtype: 'float32' },
];

// ---------------------------------------------------------------------------------------------
// The setitem table (x = arange(...) of the given dtype; x[text] = set)

const SET: Case[] = [
  { shape: [3, 4], text: '0', items: [0], set: 5, dtype: 'float32' },
  { shape: [3, 4], text: ':, 1', items: [S(), 1], set: 7, dtype: 'float32' },
  { shape: [3, 4], text: '[0, 2]', items: [[0, 2]], set: { data: [1, 2, 3, 4], dtype: 'float32' }, dtype: 'float32' },
  { shape: [3, 4], text: '$0', args: [tbool([[true, false, false, true], [false, true, false, false], [true, true, true, true]])], set: 0, dtype: 'float32' },
  { shape: [3, 4], text: '$0', args: [tbool([true, false, true])], set: { data: [9, 8, 7, 6], dtype: 'float32' }, dtype: 'float32' },
  { shape: [3, 4], text: '1:3', items: [S(1, 3)], set: { data: [[1], [2]], dtype: 'float32' }, dtype: 'float32' },
  { shape: [3, 4], text: '0', items: [0], set: { data: [[[1, 2, 3, 4]]], dtype: 'float32' }, dtype: 'float32' },
  { shape: [3, 4], text: '0', items: [0], set: { data: [[1, 2, 3, 4], [1, 2, 3, 4]], dtype: 'float32' }, dtype: 'float32' },
  { shape: [3, 4], text: '0', items: [0], set: { data: [1, 2], dtype: 'float32' }, dtype: 'float32' },
  { shape: [3, 4], text: '[0, 1]', items: [[0, 1]], set: { data: [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]], dtype: 'float32' }, dtype: 'float32' },
  { shape: [3, 4], text: '[0, 1]', items: [[0, 1]], set: { data: [[[1, 2, 3, 4], [1, 2, 3, 4]]], dtype: 'float32' }, dtype: 'float32' },
  { shape: [3, 4], text: '[0, 1]', items: [[0, 1]], set: { data: [1, 2, 3, 4], dtype: 'int64' }, dtype: 'float32' },
  { shape: [3, 4], text: '0', items: [0], set: { data: [1.5, 2.5, 3.5, 4.5], dtype: 'float32' } },
  { shape: [3, 4], text: '[0, 1]', items: [[0, 1]], set: { data: [1.5, 2.5, 3.5, 4.5], dtype: 'float32' } },
  { shape: [3, 4], text: '$0', args: [tbool([true, false, true])], set: { data: 2.5, dtype: 'float32' } },
  { shape: [3, 4], text: '[0, 1]', items: [[0, 1]], set: 1.5 },
  { shape: [3, 4], text: 'False', items: [false], set: { data: [1, 2, 3, 4, 5, 6, 7], dtype: 'float32' } },
  { shape: [3, 4], text: 'False,', set: { data: [1, 2, 3, 4, 5, 6, 7], dtype: 'float32' }, py: 'False,' },
  { shape: [3, 4], text: 'True', items: [true], set: { data: [1, 2, 3, 4], dtype: 'int64' } },
  { shape: [3, 4], text: 'None', items: [null], set: 3 },
  { shape: [3, 4], text: '...', items: ['...'], set: { data: [1, 2, 3, 4], dtype: 'int64' } },
  { shape: [3, 4], text: '::-1', items: [S(null, null, -1)], set: 1 },
  { shape: [3, 4], text: '5', items: [5], set: 1 },
  { shape: [3, 4], text: ':, [0, 9]', items: [S(), [0, 9]], set: 1 },
  { shape: [3, 4], text: ':, $0', args: [t64([3, 0])], set: -1 },
  { shape: [3, 4], text: '0, 0, 0', items: [0, 0, 0], set: 1 },
  { shape: [3, 4], text: '[0, 0], [1, 1]', items: [[0, 0], [1, 1]], set: { data: [5, 6], dtype: 'int64' } },
  { shape: [2, 3, 4], text: '[0, 1], :, [0, 3]', items: [[0, 1], S(), [0, 3]], set: { data: [[1], [2]], dtype: 'int64' } },
  { shape: [2, 3, 4], text: '..., None, 1', items: ['...', null, 1], set: 0 },
  { shape: [2, 3, 4], text: '1, 1:', items: [1, S(1)], set: { data: [7, 8, 9, 10], dtype: 'int64' } },
  { shape: [3], text: '0', items: [0], set: 2 ** 40 },
  { shape: [3], text: '0', items: [0], set: 1e39, dtype: 'float32' },
];

// ---------------------------------------------------------------------------------------------
// The oracle: the runtime's Python evaluates every case

const ORACLE = String.raw`
import json, sys, warnings
import torch
warnings.simplefilter('ignore')

def arg(a):
    if isinstance(a, dict):
        return torch.tensor(a['data'], dtype=getattr(torch, a['dtype']))
    return a

out = []
for c in json.load(sys.stdin):
    n = 1
    for d in c['shape']:
        n *= d
    x = torch.arange(n, dtype=getattr(torch, c.get('dtype') or 'int64')).reshape(c['shape'])
    env = {'x': x, 'torch': torch}
    text = c['py']
    args = c.get('args') or []
    for i in reversed(range(len(args))):
        env['_a%d' % i] = arg(args[i])
        text = text.replace('$%d' % i, '_a%d' % i)
    try:
        if 'set' in c:
            env['v'] = arg(c['set'])
            exec('x[%s] = v' % text, env)
            r = x
        else:
            r = eval('x[%s]' % text, env)
        out.append({'shape': list(r.shape), 'dtype': str(r.dtype), 'values': r.tolist()})
    except Exception as e:
        out.append({'error': [type(e).__name__, str(e)]})
print(json.dumps(out))
`;

function oracle(python: string, cases: Case[]): Outcome[] {
  const input = cases.map((c) => ({
    shape: c.shape,
    dtype: c.dtype,
    py: c.py ?? c.text ?? '',
    args: c.args,
    ...(c.set !== undefined ? { set: c.set } : {}),
  }));
  const out = execFileSync(python, ['-c', ORACLE], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out) as Outcome[];
}

let getOutcomes: Outcome[] = [];
let setOutcomes: Outcome[] = [];

beforeAll(async () => {
  const info = await torch.init();
  getOutcomes = oracle(info.python, GET);
  setOutcomes = oracle(info.python, SET);
});

afterAll(async () => {
  await torch.shutdown();
});

// ---------------------------------------------------------------------------------------------
// helpers

type Meta = { shape: number[]; dtype: unknown; device: string; requires_grad: boolean; is_leaf: boolean; grad_fn: string | null };

/** The mirror's metadata, grad_fn by class name as the runtime reports it (Node.name() qualifies CopySlices). */
function mirror(t: Tensor): Meta {
  return { shape: [...t.shape], dtype: t.dtype, device: t.device, requires_grad: t.requires_grad, is_leaf: t.is_leaf, grad_fn: t._meta.grad_fn };
}

async function expectMirrorMatches(t: Tensor): Promise<void> {
  const rt = (await torch.runtime.meta(t)) as unknown as Meta;
  expect(mirror(t)).toEqual(rt);
}

/** What fn throws synchronously (fails if it returns). */
function thrownBy(fn: () => unknown): Error {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error(`expected a synchronous throw, got ${String(result)}`);
}

function expectTorchError(err: unknown, expected: [string, string]): void {
  expect(err).toBeInstanceOf(TorchError);
  const e = err as TorchError;
  expect([e.pyType, e.pyMessage]).toEqual(expected);
}

function input(c: Case): Tensor {
  const n = c.shape.reduce((a, b) => a * b, 1);
  return torch.arange(n, { dtype: torch[c.dtype ?? 'int64'] }).reshape(c.shape);
}

/** Check a getitem result (made synchronously) against the oracle's outcome. */
async function expectOutcome(y: Tensor, want: Outcome, pending: boolean): Promise<void> {
  if (pending) {
    expect(() => y.shape).toThrow(PendingMetadataError);
    await y.ready();
  }
  expect([...y.shape]).toEqual(want.shape);
  expect(String(y.dtype)).toBe(want.dtype);
  await expectMirrorMatches(y);
  expect(await y.tolist()).toEqual(want.values);
}

// ---------------------------------------------------------------------------------------------

describe('getitem: x.i(text) / x.index(...items) against Python', () => {
  it('has the cases it claims', () => {
    expect(GET.length).toBeGreaterThanOrEqual(60);
  });

  GET.forEach((c, n) => {
    it(caseName(c), async () => {
      const want = getOutcomes[n]!;
      const x = input(c);
      const args = (c.args ?? []).map(makeArg);
      const forms: [string, () => Tensor][] = [];
      if (c.text !== null) forms.push(['string', () => x.i(c.text!, ...(args as Index[]))]);
      if (c.items) forms.push(['variadic', () => x.index(...c.items!)]);
      if (c.text === null && !c.items) throw new Error('a case needs a form');
      for (const [form, make] of forms) {
        if (want.error && !c.late) {
          expectTorchError(thrownBy(make), want.error);
          continue;
        }
        const y = make();
        if (want.error) {
          // values the mirror cannot see: the runtime raises at the next sync point
          expect(() => y.shape).not.toThrow();
          expectTorchError(await y.tolist().catch((e: unknown) => e), want.error);
          continue;
        }
        await expectOutcome(y, want, c.pending === true).catch((e: Error) => {
          e.message = `${form} form: ${e.message}`;
          throw e;
        });
      }
      // the same indexing unmirrored: on a tensor whose metadata is pending, the runtime decides
      const xp = x.call('clone');
      expect(() => xp.shape).toThrow(PendingMetadataError);
      const yp = c.text !== null ? xp.i(c.text, ...(args as Index[])) : xp.index(...c.items!);
      if (want.error) {
        expectTorchError(await yp.ready().catch((e: unknown) => e), want.error);
        // the runtime reports a failed op once more at the next sync point
        expectTorchError(await torch.sync().catch((e: unknown) => e), want.error);
      } else await expectOutcome(yp, want, true);
    });
  });
});

describe('getitem: values computed in JS', () => {
  it('basic indexing of arange(2*3*4)', async () => {
    const x = torch.arange(24).reshape(2, 3, 4);
    const at = (i: number, j: number, k: number) => i * 12 + j * 4 + k;
    expect(await x.index(1, 2, 3).item()).toBe(at(1, 2, 3));
    expect(await x.i('1, :, -1').tolist()).toEqual([0, 1, 2].map((j) => at(1, j, 3)));
    expect(await x.i('..., ::2').tolist()).toEqual([0, 1].map((i) => [0, 1, 2].map((j) => [0, 2].map((k) => at(i, j, k)))));
    expect(await x.i('[1, 0], [2, 1], [3, 0]').tolist()).toEqual([at(1, 2, 3), at(0, 1, 0)]);
    expect(await x.i('[0, 1], :, [0, 1]').tolist()).toEqual([0, 1].map((n) => [0, 1, 2].map((j) => at(n, j, n))));
  });
});

describe('setitem: x.setitem(text | items, value) against Python', () => {
  SET.forEach((c, n) => {
    it(caseName(c), async () => {
      const want = setOutcomes[n]!;
      const forms: [string, (x: Tensor, v: Tensor | number) => Tensor][] = [];
      const args = () => (c.args ?? []).map(makeArg);
      if (c.text !== null) forms.push(['string', (x, v) => x.setitem(c.text!, v, ...(args() as Index[]))]);
      if (c.items) forms.push(['array', (x, v) => x.setitem(c.items!, v)]);
      for (const [form, run] of forms) {
        const x = input(c);
        const before = mirror(x);
        const v = c.set as Arg;
        const value = isTensorArg(v) ? (makeArg(v) as Tensor) : (v as number);
        if (want.error) {
          expectTorchError(thrownBy(() => run(x, value)), want.error);
          expect(await x.tolist()).toEqual(await input(c).tolist()); // unchanged
          continue;
        }
        const r = run(x, value);
        expect(r).toBe(x);
        expect(mirror(x)).toEqual(before);
        expect(await x.tolist(), `${form} form`).toEqual(want.values);
        await expectMirrorMatches(x);
      }
    });
  });

  it('a single item without an array: x.setitem(mask, 0), x.setitem(0, v)', async () => {
    const x = torch.arange(6, { dtype: torch.float32 });
    x.setitem(x.call('gt', [3]), 0);
    x.setitem(0, 9);
    x.setitem(S(1, 3), torch.tensor([7, 8], { dtype: torch.float32 }));
    expect(await x.tolist()).toEqual([9, 7, 8, 3, 0, 0]);
  });

  it('int tensors take float values by truncation, bool tensors by truth', async () => {
    const i = torch.zeros(3, { dtype: torch.int64 });
    i.setitem([0], 1.5);
    i.setitem([1], torch.tensor(2.7, { dtype: torch.float32 }));
    expect(await i.tolist()).toEqual([1, 2, 0]);
    const b = torch.zeros(3, { dtype: torch.bool });
    b.setitem([0], 2);
    expect(await b.tolist()).toEqual([true, false, false]);
  });

  it('overflowing Python scalars raise torch\'s error at the call', () => {
    const u = torch.zeros(3, { dtype: torch.uint8 });
    expectTorchError(thrownBy(() => u.setitem([0], 300)), ['RuntimeError', 'value cannot be converted to type uint8_t without overflow']);
    u.setitem([0], -1); // wraps, as in torch
    const i8 = torch.zeros(3, { dtype: torch.int8 });
    expectTorchError(thrownBy(() => i8.setitem([0], 128)), ['RuntimeError', 'value cannot be converted to type int8_t without overflow']);
    expectTorchError(thrownBy(() => i8.setitem([false], 128)), ['RuntimeError', 'value cannot be converted to type int8_t without overflow']);
  });
});

describe('views: basic indexing shares memory', () => {
  it('y = x.index(0); y.setitem(...) changes x', async () => {
    const x = torch.zeros(2, 3);
    const y = x.index(0);
    y.setitem([2], 5);
    y.setitem(':2', torch.tensor([1, 2], { dtype: torch.float32 }));
    expect(await x.tolist()).toEqual([[1, 2, 5], [0, 0, 0]]);
    const z = x.i('1, ::2');
    z.setitem('...', 7);
    expect(await x.tolist()).toEqual([[1, 2, 5], [7, 0, 7]]);
  });

  it('advanced indexing copies', async () => {
    const x = torch.zeros(2, 3);
    const y = x.index([0]);
    y.setitem([0], 5);
    expect(await x.tolist()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(await y.tolist()).toEqual([[5, 5, 5]]);
  });
});

describe('autograd', () => {
  const leaf = () => torch.zeros(3, 4, { requires_grad: true });
  const rg = () => torch.ones([], { requires_grad: true });

  it('getitem of a tensor that requires grad: views and copies, with and without grad mode', async () => {
    for (const make of [(x: Tensor) => x.index(0), (x: Tensor) => x.i('..., 1:'), (x: Tensor) => x.index([0, 1]), (x: Tensor) => x.index(true)]) {
      const x = leaf();
      const y = make(x);
      expect([y.requires_grad, y.is_leaf]).toEqual([true, false]);
      await expectMirrorMatches(y);
      // under no_grad a view still shares its base's requires_grad (torch's view semantics), a copy does not
      const z = torch.no_grad(() => make(x));
      await expectMirrorMatches(z);
    }
    const ints = torch.arange(4).index(S(1));
    expect([ints.requires_grad, ints.is_leaf]).toEqual([false, true]);
  });

  it('x.setitem(..., y) makes x require grad when y does (x not a leaf any more)', async () => {
    for (const idx of [[0], [S()], [[0, 2]], ['...'], [true]] as Index[][]) {
      const x = torch.zeros(3, 4);
      expect(x.setitem(idx, rg())).toBe(x);
      expect([x.requires_grad, x.is_leaf]).toEqual([true, false]);
      await expectMirrorMatches(x);
    }
    const x = torch.zeros(3, 4);
    x.setitem(x.call('gt', [0]), rg()); // a mask: the value is written with masked_fill, still tracked
    // the node recorded depends on the pending mask (its dtype picks the kernel): x is pending too
    await x.ready();
    expect(x.requires_grad).toBe(true);
    await expectMirrorMatches(x);
  });

  it('no change when grad mode is off, for x[False] = y, or for integer tensors', async () => {
    const cases: [Tensor, () => void][] = [];
    const a = torch.zeros(3);
    cases.push([a, () => torch.no_grad(() => a.setitem([0], rg()))]);
    const b = torch.zeros(3);
    cases.push([b, () => b.setitem(false, rg())]);
    const c = torch.zeros(3, { dtype: torch.int64 });
    cases.push([c, () => c.setitem([0], rg())]);
    for (const [x, run] of cases) {
      run();
      expect([x.requires_grad, x.is_leaf]).toEqual([false, true]);
      await expectMirrorMatches(x);
    }
    // (False,) is a tuple: torch indexes an empty selection, which autograd records
    const d = torch.zeros(3);
    d.setitem('False,', rg());
    expect([d.requires_grad, d.is_leaf]).toEqual([true, false]);
    await expectMirrorMatches(d);
  });

  it('in place on a leaf that requires grad raises torch\'s error at the call', async () => {
    const LEAF = 'a leaf Variable that requires grad is being used in an in-place operation.';
    const VIEW = 'a view of a leaf Variable that requires grad is being used in an in-place operation.';
    const cases: [string, (x: Tensor) => unknown, string][] = [
      ['x[0] = 1', (x) => x.setitem([0], 1), VIEW],
      ['x[...] = 1', (x) => x.setitem('...', 1), LEAF],
      ['x[:] = 1', (x) => x.setitem(':', 1), LEAF],
      ['x[0:3] = 1', (x) => x.setitem('0:3', 1), LEAF],
      ['x[0:2] = 1', (x) => x.setitem('0:2', 1), VIEW],
      ['x[-3:] = 1', (x) => x.setitem('-3:', 1), VIEW],
      ['x[:, :] = 1', (x) => x.setitem(':, :', 1), LEAF],
      ['x[[0]] = 1', (x) => x.setitem([[0]], 1), LEAF],
      ['x[:, [0]] = 1', (x) => x.setitem(':, [0]', 1), LEAF],
      ['x[1:, [0]] = 1', (x) => x.setitem('1:, [0]', 1), VIEW],
      ['x[None] = 1', (x) => x.setitem([null], 1), VIEW],
      ['x[True] = 1', (x) => x.setitem(true, 1), VIEW],
      ['x[mask] = 1', (x) => x.setitem([torch.ones(3, 4, { dtype: torch.bool })], 1), LEAF],
      ['x[()] = 1', (x) => x.setitem([], 1), LEAF],
    ];
    for (const [what, run, message] of cases) {
      const x = leaf();
      const err = thrownBy(() => run(x));
      expect([what, (err as TorchError).pyMessage]).toEqual([what, message]);
      expect([x.requires_grad, x.is_leaf]).toEqual([true, true]);
    }
    // allowed under no_grad, and x[False] = v does nothing at all
    const x = leaf();
    torch.no_grad(() => x.setitem([0], 1));
    x.setitem(false, 1);
    expect(await x.tolist()).toEqual([[1, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]]);
    await expectMirrorMatches(x);
  });

  it('indexing the mirror cannot follow (a pending mask): torch\'s refusal surfaces at the next sync, x unchanged', async () => {
    const x = leaf();
    const mask = x.call('ge', [0]); // metadata pending
    x.setitem([mask], rg());
    expectTorchError(await torch.sync().catch((e: unknown) => e), ['RuntimeError', 'a leaf Variable that requires grad is being used in an in-place operation.']);
    expect([x.requires_grad, x.is_leaf]).toEqual([true, true]);
    await expectMirrorMatches(x);
    const y = torch.zeros(3, 4);
    y.setitem([y.call('ge', [0])], rg());
    await y.ready(); // the node recorded depends on the pending mask
    expect([y.requires_grad, y.is_leaf]).toEqual([true, false]);
    await expectMirrorMatches(y);
  });

  it('a view of a leaf that requires grad: torch\'s view message; of a no_grad view: the no_grad message', async () => {
    const x = leaf();
    const y = x.index(0);
    expectTorchError(thrownBy(() => y.setitem([1], 5)), ['RuntimeError', 'a view of a leaf Variable that requires grad is being used in an in-place operation.']);
    const v = torch.no_grad(() => x.index(1));
    expect([v.requires_grad, v.is_leaf]).toEqual([true, true]);
    await expectMirrorMatches(v);
    const err = thrownBy(() => v.setitem([1], 5)) as TorchError;
    expect(err.pyMessage).toMatch(/^Output 0 of SelectBackward0 is a view of a view which was created in no_grad mode and is being modified inplace with grad mode enabled\./);
    const base = torch.zeros(2, 3);
    const w = torch.no_grad(() => base.index(0));
    const err2 = thrownBy(() => w.setitem([1], rg())) as TorchError;
    expect(err2.pyMessage).toMatch(/^A view was created in no_grad mode and is being modified inplace with grad mode enabled\./);
    await torch.sync();
  });

  it('writing a value that requires grad through a view: the base and its other views require grad too', async () => {
    const x = torch.zeros(2, 3);
    const a = x.index(0);
    const b = x.index(1);
    const c = a.i('1:');
    const copy = x.index([0]);
    c.setitem([0], rg());
    for (const t of [x, a, b, c]) {
      expect([t.requires_grad, t.is_leaf]).toEqual([true, false]);
      await expectMirrorMatches(t);
    }
    expect([copy.requires_grad, copy.is_leaf]).toEqual([false, true]);
    await expectMirrorMatches(copy);
    // and through the base: views made before see it
    const y = torch.zeros(2, 3);
    const yv = y.index(0);
    y.setitem([1], rg());
    expect([yv.requires_grad, yv.is_leaf]).toEqual([true, false]);
    await expectMirrorMatches(yv);
  });

  it('gradients flow through getitem and setitem', async () => {
    const w = torch.ones(3, 4, { requires_grad: true });
    const x = torch.zeros(3, 4);
    x.setitem('1:, $0', w.i(':2, [0, 3]').mul(2), [0, 3]);
    expect(await x.sum().item()).toBe(8);
    const [grad] = (await torch.callValue('autograd.grad', [x.sum(), w])) as unknown[];
    expect(grad).toEqual([
      [2, 0, 0, 2],
      [2, 0, 0, 2],
      [0, 0, 0, 0],
    ]);
  });
});

describe('index_put_ (torch\'s own method)', () => {
  it('writes values at index tensors, accumulate adds, returns a handle to x itself', async () => {
    const x = torch.zeros(3, 4);
    const r = x.index_put_([torch.tensor([0, 2]), torch.tensor([1, 3])], torch.tensor([5, 6], { dtype: torch.float32 }));
    expect(mirror(r)).toEqual(mirror(x));
    await expectMirrorMatches(r);
    x.index_put_([torch.tensor([0, 0])], torch.ones(4), true);
    x.index_put_([torch.tensor([1])], torch.ones(4), { accumulate: true });
    expect(await x.tolist()).toEqual([
      [2, 7, 2, 2],
      [1, 1, 1, 1],
      [0, 0, 0, 6],
    ]);
    r.index_put_([torch.tensor([2])], torch.full([4], 3, { dtype: torch.float32 }));
    expect(await x.tolist()).toEqual([
      [2, 7, 2, 2],
      [1, 1, 1, 1],
      [3, 3, 3, 3],
    ]);
  });

  it('torch\'s checks at the call: dtypes must match, shapes broadcast, leaves requiring grad', () => {
    const x = torch.zeros(3);
    expectTorchError(thrownBy(() => x.index_put_([torch.tensor([0])], torch.tensor([1]))), [
      'RuntimeError',
      'Index put requires the source and destination dtypes match, got Float for the destination and Long for the source.',
    ]);
    expectTorchError(thrownBy(() => x.index_put_([torch.tensor([0, 1])], torch.ones(3))), [
      'RuntimeError',
      'shape mismatch: value tensor of shape [3] cannot be broadcast to indexing result of shape [2]',
    ]);
    expectTorchError(thrownBy(() => x.index_put_([torch.tensor([0]), torch.tensor([0])], torch.ones(1))), [
      'IndexError',
      'too many indices for tensor of dimension 1 (got 2)',
    ]);
    expectTorchError(thrownBy(() => x.index_put_([torch.tensor([0.5])], torch.ones(1))), [
      'IndexError',
      'tensors used as indices must be long, int, byte or bool tensors',
    ]);
    expectTorchError(thrownBy(() => torch.zeros(3, { requires_grad: true }).index_put_([torch.tensor([0])], torch.ones(1))), [
      'RuntimeError',
      'a leaf Variable that requires grad is being used in an in-place operation.',
    ]);
    // a single mask and a one-element value: masked_fill, which casts
    x.index_put_([torch.tensor([true, false, true])], torch.tensor(1));
  });

  it('values that require grad: x requires grad afterwards', async () => {
    const x = torch.zeros(3);
    const r = x.index_put_([torch.tensor([1])], torch.ones(1, { requires_grad: true }));
    expect([x.requires_grad, x.is_leaf]).toEqual([true, false]);
    await expectMirrorMatches(x);
    await expectMirrorMatches(r);
    const o = torch.zeros(3).index_put([torch.tensor([1])], torch.ones(1, { requires_grad: true }));
    expect([o.requires_grad, o.is_leaf]).toEqual([true, false]);
    await expectMirrorMatches(o);
  });
});

describe('the string form', () => {
  it('parses Python index syntax', () => {
    const r = (t: string, ...a: unknown[]) => resolveIndex(t, a);
    expect(r('0')).toEqual({ items: [0], tuple: false });
    expect(r('0,')).toEqual({ items: [0], tuple: true });
    expect(r('')).toEqual({ items: [], tuple: true });
    expect(r('()')).toEqual({ items: [], tuple: true });
    expect(r(' -1 , 1:3 , ::2, -1:, :-1, ..., None ')).toEqual({
      items: [-1, new Slice(1, 3, null), new Slice(null, null, 2), new Slice(-1, null, null), new Slice(null, -1, null), r('...').items[0], null],
      tuple: true,
    });
    expect(r('None:3:None')).toEqual({ items: [new Slice(null, 3, null)], tuple: false });
    expect(r('[0, [1, 2]], True, False, 0x10, 1_000')).toEqual({ items: [[0, [1, 2]], true, false, 16, 1000], tuple: true });
    expect(r('$1, $0:$1', null, 2)).toEqual({ items: [2, new Slice(null, 2, null)], tuple: true });
    expect(r('$0:', null)).toEqual({ items: [new Slice(null, null, null)], tuple: false });
    expect(r('99999999999999999999')).toEqual({ items: [99999999999999999999n], tuple: false });
  });

  it('reports parse errors with the text and the position', () => {
    const x = torch.zeros(3);
    const cases: [string, number, RegExp][] = [
      ['0, 1:3:x', 7, /expected ',' or the end of the index, got "x"/],
      ['[0, 1', 5, /'\[' at position 0 is never closed/],
      ['1.5', 1, /only integers are valid indices/],
      ['0 1', 2, /expected ',' or the end/],
      ['$', 0, /must be followed by an argument number/],
      [',', 0, /expected an index/],
      ['0,,1', 2, /expected an index/],
      ['foo', 0, /expected an index/],
      ['[0, x]', 4, /expected an int, True, False or a list/],
      ['1:2:3:4', 5, /expected ','/],
    ];
    for (const [text, pos, what] of cases) {
      const err = thrownBy(() => x.i(text));
      expect(err).toBeInstanceOf(ArgumentError);
      expect(err.message).toContain(`cannot parse the index '${text}' at position ${pos}:`);
      expect(err.message).toMatch(what);
      expect(err.message).toContain(`\n    ${text}\n    ${' '.repeat(pos)}^`);
    }
  });

  it('checks the placeholder arguments', () => {
    const x = torch.zeros(3);
    expect(thrownBy(() => x.i('$0, $1', 0)).message).toMatch(/uses \$1 but only 1 argument/);
    expect(thrownBy(() => x.i('0', 1)).message).toMatch(/1 argument\(s\) follow the index '0' but it uses no \$n placeholder/);
    expect(thrownBy(() => x.i('$0:', 1.5)).message).toMatch(/\$0 is the start of a slice in '\$0:', so it must be an int or null/);
    expect(thrownBy(() => x.index('0, 1' as Index))).toBeInstanceOf(ArgumentError);
    expect(thrownBy(() => x.index({} as Index))).toBeInstanceOf(ArgumentError);
  });
});

describe('strict mode and mirror off', () => {
  it('strict mode checks x after an in-place write, against torch', async () => {
    const x = torch.zeros(3);
    x._setMeta({ ...x._m!, is_leaf: false }); // a deliberately wrong mirror
    x.setitem([0], 1);
    const err = (await torch.sync().catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(MirrorMismatchError);
    expect(err.message).toContain('Tensor.__setitem__ (in place)');
    await torch.sync(); // reported once
  });

  it('with the mirror off, results are read when awaited', async () => {
    torch.set_mirror(false);
    try {
      const x = torch.arange(6).reshape(2, 3);
      await x.ready();
      const y = x.i('1, ::2');
      expect(() => y.shape).toThrow(PendingMetadataError);
      await y.ready();
      expect([...y.shape]).toEqual([2]);
      x.setitem('0', torch.ones(3, { dtype: torch.int64 }));
      expect(await x.tolist()).toEqual([[1, 1, 1], [3, 4, 5]]);
    } finally {
      torch.set_mirror(true);
    }
  });
});

describe('wire details', () => {
  it('ints beyond 32 bits travel as ints (index and slice bounds)', async () => {
    const x = torch.arange(5);
    expect(await x.index(S(null, 2 ** 40)).tolist()).toEqual([0, 1, 2, 3, 4]);
    expect(await x.index(S(-(2 ** 40), 2)).tolist()).toEqual([0, 1]);
    expectTorchError(thrownBy(() => x.index(2 ** 40)), ['IndexError', 'index 1099511627776 is out of bounds for dimension 0 with size 5']);
    expectTorchError(thrownBy(() => x.index(0, 2 ** 40)), ['IndexError', 'too many indices for tensor of dimension 1']);
    const big = torch.zeros(3, { dtype: torch.int64 });
    big.setitem([0], 2 ** 40);
    expect(await big.tolist()).toEqual([2 ** 40, 0, 0]);
  });

  it('tensors from a tidy scope and pending index tensors', async () => {
    const x = torch.arange(10);
    const r = torch.tidy(() => x.index(torch.tensor([1, 3])).add(1));
    expect(await r.tolist()).toEqual([2, 4]);
    const idx = torch.call('nonzero', [x.call('gt', [7])]); // pending, data-dependent
    const y = x.index(idx);
    expect(() => y.shape).toThrow(PendingMetadataError);
    await y.ready();
    expect([...y.shape]).toEqual([2, 1]);
    await expectMirrorMatches(y);
  });
});
