/**
 * Tables between Python and TS as Apache Arrow (apache-arrow on this side, pyarrow in the
 * runtime; see python/torchbridge_runtime/arrow.py).
 *
 * Python -> TS: a pandas DataFrame, pyarrow Table or RecordBatch in a converted value arrives
 * as a handle marked ['arrow', rows]; its bytes (an Arrow IPC stream) are read like a tensor's
 * (shared memory, inline when small, chunks from a served runtime without shared memory) and
 * `tableFromIPC` reads them in place: the columns are views of the mapped segment, not copies.
 *
 * TS -> Python: an apache-arrow Table (or RecordBatch) argument is written with `tableToIPC`,
 * sent as a uint8 tensor (through shared memory when large) and opened by the runtime as a
 * pyarrow.Table over that memory (`.to_pandas()` gives the DataFrame).
 *
 * apache-arrow loads on first use only (it takes 0.1-0.5 s): a table is recognised by the
 * Symbol.for brand apache-arrow puts on its classes, without loading it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RecordBatch, Table } from 'apache-arrow';
import { ArgumentError, TorchError } from '../errors.js';
import { READ, HELPER } from '../transport/protocol.js';
import type { Session } from '../session/session.js';
import { dataFromReply, type DataReply } from '../tensor/data.js';
import { tensor } from '../ops/from_data.js';
import { PyObject, pyCall } from './object.js';

type ArrowModule = typeof import('apache-arrow');

const TABLE_BRAND = Symbol.for('apache-arrow/Table');
const BATCH_BRAND = Symbol.for('apache-arrow/RecordBatch');

/** An apache-arrow Table or RecordBatch, from any copy of the library. */
export function isArrowTable(x: unknown): x is Table | RecordBatch {
  if (x === null || typeof x !== 'object') return false;
  const o = x as Record<symbol, unknown>;
  return o[TABLE_BRAND] === true || o[BATCH_BRAND] === true;
}

let loaded: ArrowModule | undefined;

/**
 * apache-arrow, loaded synchronously (arguments are converted in a synchronous call) as the ES
 * module `import ... from 'apache-arrow'` gives: the same copy as the user's, whose tables its
 * writer accepts (the CommonJS copy writes another copy's table as an empty stream). Node
 * >= 20.19 requires ES modules synchronously; older ones get the CommonJS copy.
 */
function arrowModule(): ArrowModule {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  let main: string;
  try {
    main = require.resolve('apache-arrow');
  } catch (cause) {
    throw new ArgumentError('Arrow tables need the npm package apache-arrow, which cannot be found: run `npm install`', { cause });
  }
  const dir = dirname(main);
  const esm = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { module?: string }).module;
  try {
    loaded = require(join(dir, esm ?? '')) as ArrowModule;
  } catch {
    loaded = require(main) as ArrowModule;
  }
  return loaded;
}

/** An Arrow table argument as the pyarrow.Table it becomes in the runtime (see the file comment). */
export function arrowArgument(x: Table | RecordBatch, path: string): { value: PyObject; temporaries: { dispose(): void }[] } {
  const arrow = arrowModule();
  const table = (x as { [BATCH_BRAND]?: boolean })[BATCH_BRAND] === true ? new arrow.Table(x as RecordBatch) : (x as Table);
  if (!Function.prototype[Symbol.hasInstance].call(arrow.Table, table)) {
    throw new ArgumentError(`${path} is a Table of another copy of apache-arrow than torchbridge loads (${dirname(createRequire(import.meta.url).resolve('apache-arrow'))}); pass a table of that copy, or use Node >= 20.19`);
  }
  const bytes = arrow.tableToIPC(table, 'stream');
  const data = tensor(bytes);
  const out = pyCall(HELPER.arrow_table, [data], undefined, `${path} (an Arrow Table as pyarrow.Table)`);
  return { value: out, temporaries: [data, out] };
}

/** A table inside a converted value, until its bytes are read (resolveArrow). */
export class ArrowRef {
  constructor(
    readonly s: Session,
    readonly id: number,
    readonly origin: string,
  ) {}
}

/** Replace each ArrowRef in a converted value (arrays, plain objects) by its Table. */
export async function resolveArrow(v: unknown, refs: readonly ArrowRef[]): Promise<unknown> {
  // every read is queued before the first is awaited: one round trip for all of them
  const reads = refs.map((r) => readTable(r));
  const tables = new Map<ArrowRef, Table>();
  const settled = await Promise.allSettled(reads);
  for (let i = 0; i < refs.length; i++) {
    const r = settled[i]!;
    if (r.status === 'rejected') throw r.reason;
    tables.set(refs[i]!, r.value);
  }
  return replace(v, tables);
}

async function readTable(r: ArrowRef): Promise<Table> {
  try {
    const reply = (await r.s.read(r.id, READ.DATA)) as DataReply;
    const bytes = dataFromReply(reply) as Uint8Array;
    const arrow = arrowModule();
    try {
      return arrow.tableFromIPC(bytes);
    } catch (err) {
      throw new TorchError({ type: 'ValueError', message: `${r.origin}: the runtime's Arrow IPC stream could not be read by apache-arrow: ${(err as Error).message}` });
    }
  } finally {
    r.s.free(r.id);
  }
}

function replace(v: unknown, tables: Map<ArrowRef, Table>): unknown {
  if (v instanceof ArrowRef) return tables.get(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = replace(v[i], tables);
    return v;
  }
  if (v instanceof Set) return new Set([...v].map((x) => replace(x, tables)));
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = replace(o[k], tables);
  }
  return v;
}
