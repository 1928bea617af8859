/**
 * Values across the torch.py boundary: sets, datetimes, bytes, big ints, NumPy arrays, and
 * tables as Apache Arrow (pandas DataFrames and pyarrow Tables to apache-arrow Tables through
 * shared memory; Arrow Tables in as pyarrow Tables). Every expected value comes from the same
 * fixture functions run in Python (test/fixtures/python_twin.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromArrays, Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { ArgumentError, Tensor, TorchError } from '../src/index.js';
import { Tuple } from '../src/transport/codec.js';
import { python } from './fixtures/python_twin.js';
import { exited, started, type ServerProcess } from './fixtures/served.js';

// The fixture package on the runtime's (and the twin's) path; set before the runtime starts.
const PIPELINE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'pipeline');
process.env.PYTHONPATH = [PIPELINE, process.env.PYTHONPATH].filter(Boolean).join(':');

afterAll(() => torch.shutdown());

type Proxy = ReturnType<typeof torch.py.import>;
const frames = (): Proxy => torch.py.import('mypipeline.frames');

const SENT_MS = 1714566615250; // a Date sent to Python
const BIG = 2n ** 80n + 7n;
const FRAME_ROWS = 5000; // ~200 KiB of IPC: past the inline limit, so through shared memory

let twin: Record<string, any>;
beforeAll(() => {
  twin = python(`
    import calendar, datetime
    import pyarrow as pa
    from mypipeline import frames
    m = frames.run_metadata()
    ms = lambda dt: int(dt.timestamp()) * 1000 + dt.microsecond // 1000
    df = frames.feature_frame(${FRAME_ROWS})
    t = frames.arrow_table()
    sent = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(milliseconds=${SENT_MS})
    sent_table = pa.table({"x": [0.5 * i for i in range(200000)], "k": [["a", "b", "c"][i % 3] for i in range(200000)], "n": list(range(200000))})
    out = {
      "meta": {
        "name": m["name"], "tags": sorted(m["tags"]), "frozen_ids": sorted(m["frozen_ids"]),
        "started": ms(m["started"]), "started_local": ms(m["started_local"]), "started_ist": ms(m["started_ist"]),
        "day": calendar.timegm(m["day"].timetuple()) * 1000,
        "digest": m["digest"].hex(), "buffer": bytes(m["buffer"]).hex(),
        "seed": str(m["seed"]), "offset": str(m["offset"]), "int64_max": str(m["int64_max"]), "uint64_max": str(m["uint64_max"]),
        "nothing": m["nothing"], "shape": list(m["shape"]), "lr": m["lr"], "cost": str(m["cost"]),
      },
      "described": {
        "set": frames.describe({"a", 1, (2, "b")}),
        "date": frames.describe(sent),
        "big": frames.describe(${BIG}),
        "negbig": frames.describe(-${BIG}),
        "bytes": frames.describe(bytes([1, 2, 255])),
      },
      "frame": {"columns": list(pa.Table.from_pandas(df).column_names), "values": {c: df[c].tolist() for c in df.columns}},
      "table": {"columns": t.column_names, "values": t.to_pydict(), "types": [str(f.type) for f in t.schema]},
      "embedding": frames.embedding().tolist(),
      "summary": frames.summarize(sent_table),
      "summary_small": frames.summarize(pa.table({"v": [1.5, 2.5], "s": ["p", "q"]})),
      "big": [float(x) for x in frames.big_embedding(64)[[0, 1, 123457, -1]]],
    }
    print(json.dumps(out))
  `);
}, 240_000);

/** Sizes in bytes of this process's mappings of torchbridge shared-memory segments. */
function shmMappingSizes(): number[] {
  const lines = readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('/dev/shm/tb-'));
  return lines.map((l) => {
    const [a, b] = l.split(' ')[0]!.split('-');
    return parseInt(b!, 16) - parseInt(a!, 16);
  });
}

function columns(t: Table): Record<string, unknown[]> {
  return Object.fromEntries(t.schema.fields.map((f) => [f.name, [...t.getChild(f.name)!].map((v) => (typeof v === 'bigint' ? Number(v) : v))]));
}

describe('plain Python values as JS values', () => {
  it('converts sets, datetimes, dates, bytes, big ints, tuples and None as Python has them', async () => {
    const m = (await frames().run_metadata()) as Record<string, any>;
    const want = twin.meta;
    expect(m.name).toBe(want.name);
    expect(m.tags).toBeInstanceOf(Set);
    expect([...m.tags].sort()).toEqual(want.tags);
    expect(m.frozen_ids).toBeInstanceOf(Set);
    expect([...m.frozen_ids].sort()).toEqual(want.frozen_ids);
    // the same instant as Python's timestamp(): aware by offset, naive as local time, ms floored
    for (const k of ['started', 'started_local', 'started_ist', 'day']) {
      expect(m[k], k).toBeInstanceOf(Date);
      expect(m[k].getTime(), k).toBe(want[k]);
    }
    expect(Buffer.isBuffer(m.digest)).toBe(true);
    expect(m.digest.toString('hex')).toBe(want.digest);
    expect(m.buffer.toString('hex')).toBe(want.buffer);
    for (const k of ['seed', 'offset', 'int64_max', 'uint64_max']) {
      expect(typeof m[k], k).toBe('bigint');
      expect(m[k], k).toBe(BigInt(want[k]));
    }
    expect(m.nothing).toBeNull();
    expect(m.shape).toEqual(want.shape);
    expect(m.lr).toBe(want.lr);
    // anything else stays a proxy
    expect(typeof m.cost).toBe('function');
    expect(await m.cost.$str()).toBe(want.cost);
  });

  it('sends a Set as a set, a Date as an aware UTC datetime, bigints and Buffers as int and bytes', async () => {
    const f = frames();
    expect(await f.describe(new Set(['a', 1, new Tuple([2, 'b'])]))).toEqual(twin.described.set);
    expect(await f.describe(new Date(SENT_MS))).toEqual(twin.described.date);
    expect(await f.describe(BIG)).toEqual(twin.described.big);
    expect(await f.describe(-BIG)).toEqual(twin.described.negbig);
    expect(await f.describe(Buffer.from([1, 2, 255]))).toEqual(twin.described.bytes);
  });

  it('round-trips each value through Python unchanged', async () => {
    const copy = torch.py.import('copy').copy;
    const when = new Date(SENT_MS);
    const back = (await copy([new Set([1, 'x']), when, BIG, -BIG, 2n ** 64n - 1n, -(2n ** 63n), Buffer.from('hi')])) as unknown[];
    expect(back[0]).toEqual(new Set([1, 'x']));
    expect((back[1] as Date).getTime()).toBe(SENT_MS);
    expect(back.slice(2, 6)).toEqual([BIG, -BIG, 2n ** 64n - 1n, -(2n ** 63n)]);
    expect((back[6] as Buffer).toString()).toBe('hi');
  });

  it('refuses what Python cannot hold, at the call', () => {
    const f = frames();
    expect(() => f.describe(new Set([[1, 2]]))).toThrow(ArgumentError);
    expect(() => f.describe(new Set([[1, 2]]))).toThrow(/unhashable in Python and cannot be in a set/);
    expect(() => f.describe(new Date(NaN))).toThrow(/invalid Date/);
  });
});

describe('NumPy arrays as tensors', () => {
  it('gives a NumPy result as a Tensor with Python values', async () => {
    const e = (await frames().embedding()) as Tensor;
    expect(e).toBeInstanceOf(Tensor);
    expect(e.dtype).toBe(torch.float32);
    expect(await e.tolist()).toEqual(twin.embedding);
  });

  it('reads a 64 MiB array as a view of one shared-memory mapping (no copy in Node)', async () => {
    const big = (await frames().big_embedding(64)) as Tensor;
    const before = shmMappingSizes().filter((n) => n === 64 << 20).length;
    const d = await big.data<Float32Array>();
    expect(d.byteLength).toBe(64 << 20);
    expect(shmMappingSizes().filter((n) => n === 64 << 20).length).toBe(before + 1);
    expect([d[0], d[1], d[123457], d[d.length - 1]]).toEqual(twin.big);
    big.dispose();
  });
});

describe('tables as Apache Arrow', () => {
  it('gives a pandas DataFrame as an apache-arrow Table read in place from shared memory', async () => {
    const t = (await frames().feature_frame(FRAME_ROWS)) as Table;
    expect(t).toBeInstanceOf(Table);
    expect(t.numRows).toBe(FRAME_ROWS);
    expect(t.schema.fields.map((f) => f.name)).toEqual(twin.frame.columns);
    expect(columns(t)).toEqual(twin.frame.values);
    // columns are views of one buffer (the mapped IPC stream), not copies
    const score = t.getChild('score')!.data[0]!.values as Float64Array;
    const id = t.getChild('id')!.data[0]!.values as BigInt64Array;
    expect(score.buffer).toBe(id.buffer);
    expect(score.buffer.byteLength).toBeGreaterThan(64 << 10);
  });

  it('gives a small pyarrow Table (inline) with nulls, booleans and strings', async () => {
    const t = (await frames().arrow_table()) as Table;
    expect(t.schema.fields.map((f) => f.name)).toEqual(twin.table.columns);
    expect(columns(t)).toEqual(twin.table.values);
    expect(t.getChild('loss')!.nullCount).toBe(1);
  });

  it('converts tables nested in a dict, and several at once', async () => {
    const builtins = torch.py.import('builtins');
    const f = frames();
    const d = (await builtins.dict({ frame: f.feature_frame(10), table: f.arrow_table(), n: 3 })) as { frame: Table; table: Table; n: number };
    expect(d.n).toBe(3);
    expect(d.frame.numRows).toBe(10);
    expect(columns(d.table)).toEqual(twin.table.values);
  });

  it('passes an apache-arrow Table (large: shared memory) in as a pyarrow Table', async () => {
    const n = 200_000;
    const x = Float64Array.from({ length: n }, (_, i) => 0.5 * i);
    const k = Array.from({ length: n }, (_, i) => ['a', 'b', 'c'][i % 3]!);
    const nn = BigInt64Array.from({ length: n }, (_, i) => BigInt(i));
    const table = tableFromArrays({ x, k, n: nn });
    expect(await frames().summarize(table)).toEqual(twin.summary);
    // a RecordBatch goes the same way; small tables go inline
    const small = tableFromArrays({ v: Float64Array.from([1.5, 2.5]), s: ['p', 'q'] });
    expect(await frames().summarize(small.batches[0])).toEqual(twin.summary_small);
    // and `.to_pandas()` on it gives the DataFrame, which comes back as the same table
    const back = (await frames().as_pandas(table)) as Table;
    expect(columns(back)).toEqual(columns(table));
  });

  it('says pyarrow is missing when it is, and queued work goes on', async () => {
    const sys = torch.py.import('sys');
    const pa = await torch.py.import('pyarrow');
    sys.modules.$setitem('pyarrow', null); // `import pyarrow` now fails as for an absent package
    try {
      const err = await frames().feature_frame(3).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TorchError);
      expect((err as TorchError).pyType).toBe('ModuleNotFoundError');
      expect((err as TorchError).message).toMatch(/sending a pandas\.DataFrame to TypeScript.*needs the Python package pyarrow/);
      const passed = frames().summarize(tableFromArrays({ v: Float64Array.from([1]) }));
      const after = torch.py.import('math').sqrt(16); // queued behind the failing call
      await expect(passed).rejects.toThrow(/an Arrow Table passed from TypeScript needs the Python package pyarrow/);
      expect(await after).toBe(4);
    } finally {
      sys.modules.$setitem('pyarrow', pa);
    }
    expect(((await frames().arrow_table()) as Table).numRows).toBe(4);
  });
});

describe('a served runtime without shared memory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tb-values-test-'));
  let server: { child: ServerProcess; file: string };
  beforeAll(async () => {
    await torch.shutdown();
    server = await started(['--bind', 'tcp://127.0.0.1:0', '--connection-file', join(dir, 'runtime.json')]);
    const info = await torch.init({ connect: server.file, shm: false });
    expect(info.shm).toBe(false);
    torch.py.import('sys').path.insert(0, PIPELINE); // the server's own PYTHONPATH is the runtime's
  }, 120_000);
  afterAll(async () => {
    await torch.shutdown().catch(() => {});
    server.child.kill('SIGTERM');
    await exited(server.child);
    rmSync(dir, { recursive: true, force: true });
    await torch.init({});
  });

  it('moves tables both ways in chunks', async () => {
    const t = (await frames().feature_frame(FRAME_ROWS)) as Table;
    expect(t.numRows).toBe(FRAME_ROWS);
    expect(columns(t)).toEqual(twin.frame.values);
    const n = 200_000;
    const table = tableFromArrays({
      x: Float64Array.from({ length: n }, (_, i) => 0.5 * i),
      k: Array.from({ length: n }, (_, i) => ['a', 'b', 'c'][i % 3]!),
      n: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)),
    });
    expect(await frames().summarize(table)).toEqual(twin.summary);
  });
});
