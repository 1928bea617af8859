/**
 * Served runtime — a client of `torchbridge-runtime serve` (started here through its CLI) on
 * loopback tcp:// with CURVE, as a client on another host reaches it:
 *
 * - `await t.item()` on a ready tensor against a raw ZeroMQ DEALER/ROUTER msgpack echo with
 *   CURVE (the transport alone) and a raw TCP socket echo (node:net to Python's socket,
 *   length-prefixed msgpack: no ZeroMQ, no encryption);
 * - 64 MiB of float32 each way inline ({shm: false}: chunks under flow control) against the raw
 *   TCP socket moving the same 64 MiB as one message, and against raw ZeroMQ with CURVE doing
 *   so (the encryption's own floor); the same inline transfers to a `--no-curve` runtime (what
 *   chunking costs without encryption); and through shared memory for reference.
 *
 * Every variant runs in the same interleaved rounds; switching sessions (shutdown, connect) is
 * outside the timings. Targets assume this project's 2-vCPU development VM (AMD EPYC, shared
 * with other work). There the libsodium that CURVE encrypts with, as bundled in pyzmq's wheel
 * (and zeromq.js's addon), runs at 0.06-0.09 GB/s (poly1305, xsalsa20; the system's libsodium
 * 1.0.18 runs at 1.1-1.4 GB/s): every CURVE row is bound by that, not by torchbridge. Compare
 * them with the raw CURVE rows; the --no-curve rows show what chunking itself gives.
 */
import torch from '../../dist/index.js';
import type { CaseResult, Context } from '../context.js';
import { TcpEcho } from '../echo/tcp_client.js';
import { ZmqTcpEcho } from '../echo/zmq_tcp_client.js';
import { ServedRuntime } from '../served_runtime.js';
import { gc, interleaved, msOf, msOfRepeated, msToTorch, now } from '../stats.js';
import { type Row, gbps, num, times, us, verdict } from '../table.js';

const ROUND_TRIPS = 1_000;
const N = 16 * 1024 * 1024; // float32 elements: 64 MiB
const BYTES = N * 4;
const GBPS = (ms: number): number => BYTES / 1e6 / ms;
const ITEM = '`await t.item()` on a ready tensor, per call, served over tcp:// with CURVE';

/** Read a few elements (first, middle, last) and check they hold their index. */
function touch(d: ArrayLike<number>, what: string): void {
  for (const i of [0, N >> 1, N - 1]) {
    if (d[i] !== i) throw new Error(`${what}: element ${i} is ${d[i]}`);
  }
}

export async function served(ctx: Context): Promise<CaseResult> {
  const curve = await ServedRuntime.start(ctx.python);
  const plain = await ServedRuntime.start(ctx.python, ['--no-curve']);
  const tcp = await TcpEcho.start(ctx.python);
  const zmqEcho = await ZmqTcpEcho.start(ctx.python);
  let current = '';
  /** Make the current session one with this runtime and shared-memory setting. */
  const use = async (rt: ServedRuntime, shm: boolean): Promise<void> => {
    const key = `${rt.file} ${shm}`;
    if (current === key) return;
    await torch.shutdown();
    const info = await torch.init({ connect: rt.file, shm });
    if (info.shm !== shm) throw new Error(`served bench: asked for shm ${shm}, the runtime says ${info.shm}`);
    current = key;
  };
  try {
    const src = new Float32Array(N);
    for (let i = 0; i < N; i++) src[i] = i; // exact in float32 below 2^24
    const srcBytes = new Uint8Array(src.buffer);

    // round trips: one inline session over CURVE throughout
    await use(curve, false);
    const one = torch.ones([]);
    if ((await one.item()) !== 1) throw new Error('served bench: expected 1');
    const rt = await interleaved({
      item: () => msOfRepeated(ROUND_TRIPS, () => one.item()),
      zmq: () => msOfRepeated(ROUND_TRIPS, (i) => zmqEcho.roundTrip(i)),
      tcp: () => msOfRepeated(ROUND_TRIPS, (i) => tcp.roundTrip(i)),
    });
    one.dispose();

    const upload = (rt: ServedRuntime, shm: boolean) => async (): Promise<number> => {
      await use(rt, shm);
      return msToTorch(() => torch.tensor(src), torch.sync);
    };
    const download = (rt: ServedRuntime, shm: boolean) => async (): Promise<number> => {
      await use(rt, shm);
      const t = torch.arange(N, { dtype: torch.float32 });
      await torch.sync();
      const t0 = now();
      const d = (await t.data()) as Float32Array;
      const ms = now() - t0;
      touch(d, `torch -> TS (${shm ? 'shared memory' : 'inline'})`);
      t.dispose();
      return ms;
    };
    const bulk = await interleaved(
      {
        tcpUp: () => msOf(() => tcp.put(srcBytes)),
        tcpDown: () => msOf(() => tcp.get(BYTES)),
        zmqUp: () => msOf(() => zmqEcho.put(srcBytes)),
        zmqDown: () => msOf(() => zmqEcho.get(BYTES)),
        inlineUp: upload(curve, false),
        inlineDown: download(curve, false),
        plainUp: upload(plain, false),
        plainDown: download(plain, false),
        shmUp: upload(curve, true),
        shmDown: download(curve, true),
      },
      { between: () => gc() },
    );

    // correctness once, outside the timings: inline both ways over CURVE
    await use(curve, false);
    const back = await torch.tensor(src).data();
    for (let i = 0; i < N; i += 4099) if (back[i] !== src[i]) throw new Error(`served round trip: element ${i} is ${back[i]}`);

    const perCall = (ms: number): number => (ms * 1e3) / ROUND_TRIPS;
    const item = perCall(rt.item);
    const cell = (ms: number): string => `${gbps(GBPS(ms))} (${num(ms)} ms)`;
    const tcpCell = { up: cell(bulk.tcpUp), down: cell(bulk.tcpDown) };
    /** A bulk row against a raw baseline's GB/s; `target`: whether ≥ 0.5× of it is the goal. */
    const versus = (baseline: string) => (what: string, ms: number, base: number, target = true): Row => {
      const ratio = GBPS(ms) / GBPS(base);
      return {
        case: what,
        torchbridge: cell(ms),
        baseline,
        baselineValue: cell(base),
        ratio: `${num(ratio)}× its GB/s`,
        target: target ? '≥ 0.5× its GB/s' : 'info',
        result: target ? verdict(ratio >= 0.5) : 'info',
      };
    };
    const vsTcp = versus('raw TCP socket (node:net ↔ Python socket), 64 MiB as one length-prefixed msgpack message');
    const vsCurve = versus('raw ZeroMQ DEALER/ROUTER with CURVE, 64 MiB as one msgpack message');
    const rows: Row[] = [
      {
        case: ITEM,
        torchbridge: us(item),
        baseline: 'raw ZeroMQ msgpack echo over tcp:// with CURVE',
        baselineValue: us(perCall(rt.zmq)),
        ratio: times(item / perCall(rt.zmq)),
        target: '≤ 1.3×',
        result: verdict(item <= 1.3 * perCall(rt.zmq)),
      },
      {
        case: ITEM,
        torchbridge: us(item),
        baseline: 'raw TCP socket msgpack echo (node:net ↔ Python socket, no encryption)',
        baselineValue: us(perCall(rt.tcp)),
        ratio: times(item / perCall(rt.tcp)),
        target: 'info',
        result: 'info',
      },
      vsTcp('TS → torch, 64 MiB float32 inline in chunks over CURVE: `torch.tensor(array)` + `torch.sync()`', bulk.inlineUp, bulk.tcpUp, true),
      vsTcp('torch → TS, 64 MiB float32 inline in chunks over CURVE: `await t.data()`', bulk.inlineDown, bulk.tcpDown, true),
      vsCurve('TS → torch, 64 MiB inline over CURVE (as above)', bulk.inlineUp, bulk.zmqUp),
      vsCurve('torch → TS, 64 MiB inline over CURVE (as above)', bulk.inlineDown, bulk.zmqDown),
      vsTcp('TS → torch, 64 MiB inline in chunks, `--no-curve` loopback runtime', bulk.plainUp, bulk.tcpUp, true),
      vsTcp('torch → TS, 64 MiB inline in chunks, `--no-curve` loopback runtime', bulk.plainDown, bulk.tcpDown, true),
      vsTcp('TS → torch, 64 MiB through shared memory (served, same host)', bulk.shmUp, bulk.tcpUp, false),
      vsTcp('torch → TS, 64 MiB through shared memory (served, same host)', bulk.shmDown, bulk.tcpDown, false),
    ];
    const notes = [
      `Served runtime: the raw TCP socket moves 64 MiB at ${tcpCell.up} up and ${tcpCell.down} down; raw ZeroMQ with CURVE at ` +
        `${cell(bulk.zmqUp)} up and ${cell(bulk.zmqDown)} down. CURVE encrypts and decrypts every byte with libsodium ` +
        '(XSalsa20-Poly1305) on each side\'s ZeroMQ I/O thread: where that is slower than the socket, it bounds every CURVE row.',
    ];
    return { rows, notes };
  } finally {
    await torch.shutdown().catch(() => {});
    await torch.init({}); // the default child runtime again, for the cases after this one
    tcp.stop();
    zmqEcho.stop();
    await curve.stop();
    await plain.stop();
  }
}
