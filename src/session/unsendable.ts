/**
 * Values msgpack cannot carry to Python: a BigInt beyond 64 bits, a Symbol, a function, a
 * circular structure, a Promise (msgpackr throws on some, and silently writes `nil` or `{}` for
 * the others). They are refused at the call that passes them, as an ArgumentError naming the op
 * and the argument, while Session.call walks the arguments anyway; nothing is queued. Should an
 * op that bypasses that check still fail to encode, its batch is salvaged: that op alone is
 * replaced by one that poisons its outputs, and every other op of the batch runs.
 */
import { ComplexValue, Ellipsis, Handle, Slice, Tuple, WideInt, encode } from '../transport/codec.js';
import { DType } from '../tensor/dtype.js';
import { HELPER, OP, STATUS } from '../transport/protocol.js';
import { ArgumentError } from '../errors.js';

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Thrown inside the walk; the caller turns it into an ArgumentError with the op's name. */
class Unsendable {
  constructor(
    readonly why: string,
    /** where inside the argument: [1].weight */
    public path = '',
  ) {}
}

/** Why a non-object value cannot be sent, or undefined when it can. */
function scalarProblem(v: unknown): string | undefined {
  switch (typeof v) {
    case 'bigint':
      return v < INT64_MIN || v > UINT64_MAX ? `the BigInt ${v} does not fit in 64 bits (Python ints on the wire are int64 or uint64)` : undefined;
    case 'symbol':
      return `${String(v)} is a Symbol, which has no Python equivalent`;
    case 'function':
      return `a function cannot be sent to Python${v.name ? ` (${v.name})` : ''}`;
    default:
      return undefined;
  }
}

/** Objects msgpack writes whole (the codec's extension types, bytes, timestamps): nothing inside to check. */
function isLeaf(v: object): boolean {
  return v instanceof DType || v instanceof Slice || v instanceof ComplexValue || v === Ellipsis || ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof WideInt;
}

/**
 * Walk one argument (an object): throws Unsendable for what cannot be sent; returns whether it
 * holds a handle (so the runtime resolves nested refs). `owner`: handles of another session
 * (a restarted runtime) would name unrelated objects there, so they are refused too.
 */
function walk(v: object, owner: unknown, ancestors: object[]): boolean {
  if (v instanceof Handle) {
    const s = (v as { _s?: unknown })._s;
    if (s !== undefined && s !== owner) throw new Unsendable('a handle from another torchbridge runtime (one that was restarted) cannot be used in this one');
    return true;
  }
  if (isLeaf(v)) return false;
  if (typeof (v as { then?: unknown }).then === 'function') throw new Unsendable('a Promise cannot be sent to Python (is an `await` missing?)');
  if (ancestors.includes(v)) throw new Unsendable('the value contains itself (a circular structure cannot be sent to Python)');
  ancestors.push(v);
  let handles = false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') continue; // the usual case, kept tight
      try {
        if (walkValue(x, owner, ancestors)) handles = true;
      } catch (e) {
        at(e, `[${i}]`);
      }
    }
  } else {
    // msgpackr writes a Tuple's items, a Map's and a Set's entries, any other object's own keys
    const entries: [string, unknown][] =
      v instanceof Tuple
        ? v.items.map((x, i) => [`[${i}]`, x])
        : v instanceof Map
          ? [...v].flatMap(([k, x]) => [[`{key ${String(k)}}`, k], [`[${String(k)}]`, x]] as [string, unknown][])
          : v instanceof Set
            ? [...v].map((x, i) => [`{item ${i}}`, x])
            : Object.keys(v).map((k) => [`.${k}`, (v as Record<string, unknown>)[k]]);
    for (const [key, x] of entries) {
      try {
        if (walkValue(x, owner, ancestors)) handles = true;
      } catch (e) {
        at(e, key);
      }
    }
  }
  ancestors.pop();
  return handles;
}

function walkValue(x: unknown, owner: unknown, ancestors: object[]): boolean {
  if (typeof x === 'object' && x !== null) return walk(x, owner, ancestors);
  const why = scalarProblem(x);
  if (why !== undefined) throw new Unsendable(why);
  return false;
}

/** Rethrow, with where inside the argument it happened. */
function at(e: unknown, key: string): never {
  if (e instanceof Unsendable) e.path = key + e.path;
  throw e;
}

/** 'torch.full', 'Tensor.add', or the runtime helper's name. */
function opLabel(name: string): string {
  return name.startsWith('.') ? `Tensor${name}` : name.startsWith('tb.') ? name : `torch.${name}`;
}

/** 'argument 2' (Python's count: a method's self is not counted) or "keyword argument 'alpha'". */
function argLabel(name: string, where: number | string): string {
  if (typeof where === 'string') return `keyword argument '${where}'`;
  return name.startsWith('.') ? (where === 0 ? 'self' : `argument ${where}`) : `argument ${where + 1}`;
}

function refusal(name: string, where: number | string, e: Unsendable): ArgumentError {
  return new ArgumentError(`${opLabel(name)}: ${argLabel(name, where)}${e.path ? ` (at ${e.path.replace(/^\./, '')})` : ''} cannot be sent to Python: ${e.why}`);
}

/**
 * Check argument `where` of op `name` (an object): throws an ArgumentError for what cannot be
 * sent; returns whether it holds a handle.
 */
export function checkArg(v: object, owner: unknown, name: string, where: number | string): boolean {
  if (Array.isArray(v) && plainList(v)) return false; // shapes, dims: the usual case, no allocation
  try {
    return walk(v, owner, []);
  } catch (e) {
    // anything else thrown while reading it (a Map-like object that is no Map) would be thrown by msgpackr too
    throw refusal(name, where, e instanceof Unsendable ? e : new Unsendable(`reading it failed (${(e as Error)?.message ?? String(e)})`));
  }
}

/** Check a non-object argument (the caller only asks for bigints, symbols and functions). */
export function checkScalar(v: unknown, name: string, where: number | string): void {
  const why = scalarProblem(v);
  if (why !== undefined) throw refusal(name, where, new Unsendable(why));
}

/** A list of numbers, strings, booleans, null or undefined: nothing in it to check. */
function plainList(v: unknown[]): boolean {
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' && typeof x !== 'string' && typeof x !== 'boolean' && x != null) return false;
  }
  return true;
}

/** Check every keyword argument. */
export function checkKwargs(kwargs: Record<string, unknown>, owner: unknown, name: string): void {
  for (const k in kwargs) {
    const v = kwargs[k];
    if (typeof v === 'object') {
      if (v !== null) checkArg(v, owner, name, k);
    } else if (typeof v === 'bigint' || typeof v === 'symbol' || typeof v === 'function') checkScalar(v, name, k);
  }
}

/**
 * A batch msgpack refused: each op that cannot be encoded is replaced by a call of the
 * runtime's `tb.refuse`, which poisons the same outputs and answers the same reply id with the
 * reason; the others are kept as they are, in their places (the runtime's op count and the
 * client's call sites stay aligned).
 */
export function salvageBatch(batch: unknown[][]): unknown[][] {
  return batch.map((op) => {
    try {
      encode(op);
      return op;
    } catch (e) {
      return refusedOp(op, e as Error);
    }
  });
}

function refusedOp(op: unknown[], err: Error): unknown[] {
  const code = op[0];
  let outs: unknown = null;
  let replyId: unknown = 0;
  let what = 'an op';
  if (code === OP.CALL) {
    outs = op[1];
    replyId = op[5];
    what = `${opLabel(op[2] as string)}: ${culprit(op[2] as string, op[3] as unknown[], op[4] as Record<string, unknown> | null)}`;
  } else if (code === OP.FROM_DATA) {
    outs = op[1];
    what = 'torch.tensor: its data or options';
  } else if (code === OP.READ || code === OP.SYNC || code === OP.STATS || code === OP.HELLO || code === OP.SHUTDOWN) {
    replyId = op[1];
  }
  const message = `${what} could not be sent to Python (${err.message}); the op was not run`;
  if (code === OP.CALLBACK_REPLY) return [code, op[1], STATUS.ERROR, { type: 'ArgumentError', message: `its value could not be sent to Python (${err.message})`, stack: '' }]; // (Python waits for it)
  return [OP.CALL, outs, HELPER.refuse, [message], null, replyId, 0, 0];
}

/** Which argument of a call msgpack refuses. */
function culprit(name: string, args: unknown[], kwargs: Record<string, unknown> | null): string {
  for (let i = 0; i < args.length; i++) if (!encodes(args[i])) return argLabel(name, i);
  for (const k of Object.keys(kwargs ?? {})) if (!encodes(kwargs![k])) return argLabel(name, k);
  return 'its arguments';
}

function encodes(v: unknown): boolean {
  try {
    encode(v);
    return true;
  } catch {
    return false;
  }
}
