/**
 * Python values into TS (issue 12): a 64 MiB NumPy array (`await proxy` gives a Tensor over
 * the array's memory, `await t.data()` a view of shared memory) and a 1M-row DataFrame (four
 * numeric columns and a string one, to an apache-arrow Table over shared memory), each against
 * a Node memcpy of the same number of bytes into a fresh array, measured in the same rounds.
 * Target: ≥ memcpy/4, i.e. at most 4× its time.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Table } from 'apache-arrow';
import torch, { type Tensor } from '../../dist/index.js';
import type { CaseResult } from '../context.js';
import { gc, interleaved, now } from '../stats.js';
import { type Row, num, times, verdict } from '../table.js';

const PIPELINE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'pipeline');
const ROWS = 1_000_000;

function memcpy(src: Uint8Array): () => number {
  return () => {
    const t0 = now();
    const dst = new Uint8Array(src.byteLength);
    dst.set(src);
    const t = now() - t0;
    if (dst[src.byteLength - 1] !== src[src.byteLength - 1]) throw new Error('memcpy: last byte differs');
    return t;
  };
}

export async function pyValues(): Promise<CaseResult> {
  // the fixture package, on the path of the runtime the bench already started
  torch.py.import('sys').path.insert(0, PIPELINE);
  const frames = torch.py.import('mypipeline.frames');
  const array = frames.big_embedding(64);
  const frame = frames.feature_frame(ROWS);
  const first = (await frame) as Table; // also the IPC size, for the memcpy of as many bytes
  const ipcBytes = (first.getChild('id')!.data[0]!.values as BigInt64Array).buffer.byteLength;
  const arrayBytes = 64 << 20;
  const srcArray = new Uint8Array(arrayBytes).fill(7);
  const srcFrame = new Uint8Array(ipcBytes).fill(7);

  const ms = await interleaved(
    {
      memcpyArray: memcpy(srcArray),
      memcpyFrame: memcpy(srcFrame),
      numpy: async () => {
        const t0 = now();
        const t = (await array) as Tensor;
        const d = (await t.data()) as Float32Array;
        const ms = now() - t0;
        if (d.length !== arrayBytes / 4 || d[0] !== -1) throw new Error(`numpy -> TS: got ${d.length} values starting ${d[0]}`);
        t.dispose();
        return ms;
      },
      frame: async () => {
        const t0 = now();
        const t = (await frame) as Table;
        const ms = now() - t0;
        if (t.numRows !== ROWS) throw new Error(`DataFrame -> TS: ${t.numRows} rows`);
        return ms;
      },
    },
    {
      between: async () => {
        gc();
        await new Promise((r) => setImmediate(r));
      },
    },
  );

  const row = (name: string, x: number, base: number, bytes: number): Row => ({
    case: name,
    torchbridge: `${num(x)} ms`,
    baseline: `Node memcpy of the same ${num(bytes / (1 << 20))} MiB into a fresh array`,
    baselineValue: `${num(base)} ms`,
    ratio: times(x / base),
    target: '≤ 4× (≥ memcpy/4)',
    result: verdict(x <= 4 * base),
  });
  return {
    rows: [
      row('Python → TS, 64 MiB NumPy float32 array: `await (await proxy).data()`', ms.numpy, ms.memcpyArray, arrayBytes),
      row(`Python → TS, ${ROWS / 1e6}M-row DataFrame (4 numeric + 1 string column) as an Arrow Table: \`await proxy\``, ms.frame, ms.memcpyFrame, ipcBytes),
    ],
  };
}
