/**
 * Transport: what a message costs on ZeroMQ (the runtime's transport: zeromq.js DEALER to a
 * pyzmq ROUTER over ipc://, each side with its own I/O thread) against a plain Unix domain
 * socket (node:net to Python's socket, the kernel waking the reader directly), both echoing
 * msgpack. Measured back to back, and after a 1 ms pause as in a training loop that reads its
 * loss: the pause lets the processes' threads sleep, and every thread a message must wake adds
 * latency. Information for the transport choice (see the training-step rows), not a target.
 */
import type { CaseResult, Context } from '../context.js';
import { SocketEcho } from '../echo/socket_client.js';
import { interleaved, msOfRepeated, now } from '../stats.js';
import { type Row, times, us } from '../table.js';

const BACK_TO_BACK = 2_000;
const PAUSED = 300;
const pause = () => new Promise((r) => setTimeout(r, 1));

/** `n` round trips, each after a 1 ms pause; resolves to the ms spent in the round trips. */
async function afterPauses(n: number, roundTrip: (i: number) => Promise<void>): Promise<number> {
  let ms = 0;
  for (let i = 0; i < n; i++) {
    await pause();
    const t0 = now();
    await roundTrip(i);
    ms += now() - t0;
  }
  return ms;
}

export async function transport(ctx: Context): Promise<CaseResult> {
  const sock = await SocketEcho.start(ctx.python);
  try {
    const zmq = (i: number) => ctx.echo.roundTrip(i);
    const uds = (i: number) => sock.roundTrip(i);
    const ms = await interleaved({
      zmq: () => ctx.echo.roundTrips(BACK_TO_BACK),
      uds: () => msOfRepeated(BACK_TO_BACK, uds),
      zmqPaused: () => afterPauses(PAUSED, zmq),
      udsPaused: () => afterPauses(PAUSED, uds),
    });
    const row = (what: string, z: number, u: number): Row => ({
      case: `Transport: msgpack echo round trip ${what}, ZeroMQ ipc:// vs a plain Unix socket`,
      torchbridge: us(z),
      baseline: 'Unix domain socket echo',
      baselineValue: us(u),
      ratio: times(z / u),
      target: 'info',
      result: 'info',
    });
    return {
      rows: [
        row('back to back', (ms.zmq * 1e3) / BACK_TO_BACK, (ms.uds * 1e3) / BACK_TO_BACK),
        row('after a 1 ms pause', (ms.zmqPaused * 1e3) / PAUSED, (ms.udsPaused * 1e3) / PAUSED),
      ],
    };
  } finally {
    sock.stop();
  }
}
