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
 * apache-arrow loads on first use only (it takes ~100 ms): a table is recognised by the
 * Symbol.for brand apache-arrow puts on its classes, which holds across copies of the library.
 */
import { createRequire } from 'node:module';
import type { RecordBatch, Table } from 'apache-arrow';
import { TorchError } from '../errors.js';
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

let syncArrow: ArrowModule | undefined;

/** apache-arrow, loaded synchronously (arguments are converted in a synchronous call). */
function arrowSync(): ArrowModule {
  if (syncArrow === undefined) syncArrow = createRequire(import.meta.url)('apache-arrow') as ArrowModule;
  return syncArrow;
}

let asyncArrow: Promise<ArrowModule> | undefined;

/** apache-arrow as an ES module: the copy `import ... from 'apache-arrow'` gives the user. */
function arrowModule(): Promise<ArrowModule> {
  asyncArrow ??= import('apache-arrow');
  return asyncArrow;
}

/** An Arrow table argument as the pyarrow.Table it becomes in the runtime (see the file comment). */
export function arrowArgument(x: Table | RecordBatch, path: string): { value: PyObject; temporaries: { dispose(): void }[] } {
  const arrow = arrowSync();
  const table = (x as { [BATCH_BRAND]?: boolean })[BATCH_BRAND] === true ? new arrow.Table(x as RecordBatch) : (x as Table);
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
    const arrow = await arrowModule();
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
