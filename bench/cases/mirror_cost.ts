/**
 * The local mirror's cost: the small-op loop with the mirror on (every result's shape, dtype
 * and autograd flags predicted at the call site) and off (metadata only when awaited).
 * Target: at most 10% slower with the mirror on.
 */
import torch from '../../dist/index.js';
import type { CaseResult } from '../context.js';
import { interleaved, now } from '../stats.js';
import { times, us, verdict } from '../table.js';

const N = 10_000;

function loop(mirrorOn: boolean) {
  return async (): Promise<number> => {
    torch.set_mirror(mirrorOn);
    const t0 = now();
    let x = torch.zeros(10);
    for (let i = 0; i < N; i++) x = x.add(x);
    await x.sum().item();
    const ms = now() - t0;
    torch.set_mirror(true);
    return ms;
  };
}

export async function mirrorCost(): Promise<CaseResult> {
  const ms = await interleaved({ on: loop(true), off: loop(false) }, { between: () => torch.sync() });
  const on = (ms.on * 1e3) / N;
  const off = (ms.off * 1e3) / N;
  return {
    rows: [
      {
        case: `Mirror cost: ${N.toLocaleString('en')} × \`x = x.add(x)\` + \`item()\`, per op, mirror on`,
        torchbridge: us(on),
        baseline: 'the same with the mirror off',
        baselineValue: us(off),
        ratio: times(on / off),
        target: '≤ 1.10×',
        result: verdict(on <= 1.1 * off),
      },
    ],
  };
}
