/**
 * The examples' progress display. On a terminal: a cli-progress bar with the live loss, left on
 * screen when done. Elsewhere (a pipe, a CI log): no redraws at all, only the summary line given
 * to done(). In JSON mode (TORCHBRIDGE_EXAMPLE_JSON=1, for the parity test): nothing.
 *
 * Ops are queued, not run, when a TS line executes: a bar counting loop iterations would race
 * ahead of the runtime. So the bar counts steps whose loss has been read, and reads the loss one
 * step (or `every` steps) behind: while TS waits for step k's loss, step k+1 is already queued,
 * and the runtime never idles.
 */
import cliProgress from 'cli-progress';
import type { Tensor } from 'torchbridge';

/** The parity test's mode: the program prints one JSON line {losses, accuracy} and no progress. */
export const JSON_MODE = process.env.TORCHBRIDGE_EXAMPLE_JSON === '1';

export class Progress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly every: number;
  private steps = 0;
  private pending: { step: number; loss: Promise<unknown> } | null = null;

  /**
   * `fields` shows values other than the loss, e.g. 'test accuracy {accuracy}', starting from
   * `values`; the loss is read every `every` steps.
   */
  constructor(title: string, total: number, opts: { fields?: string; values?: Record<string, string>; every?: number } = {}) {
    this.every = opts.every ?? 1;
    const live = !JSON_MODE && process.stdout.isTTY === true;
    const format = `${title} {bar} {value}/{total} | loss {loss}${opts.fields ? ` | ${opts.fields}` : ''}`;
    this.bar = live ? new cliProgress.SingleBar({ format, stream: process.stdout, hideCursor: true, barsize: 24 }, cliProgress.Presets.shades_classic) : null;
    this.bar?.start(total, 0, { loss: '…', ...opts.values });
  }

  /** One training step done (queued): shows the loss read `every` steps behind. */
  async step(loss: Tensor): Promise<void> {
    this.steps++;
    if (!this.bar || this.steps % this.every !== 0) return;
    await this.show();
    this.pending = { step: this.steps, loss: loss.item() };
  }

  /** Values other than the loss (e.g. test accuracy), shown from now on. */
  set(values: Record<string, string>): void {
    this.bar?.update(values);
  }

  /** Ends the bar; without a terminal the summary line stands in for it. */
  async done(summary: string): Promise<void> {
    if (this.bar) {
      await this.show();
      this.bar.update(this.steps);
      this.bar.stop();
    } else if (!JSON_MODE) console.log(summary);
  }

  private async show(): Promise<void> {
    if (!this.pending) return;
    const { step, loss } = this.pending;
    this.pending = null;
    this.bar!.update(step, { loss: Number(await loss).toFixed(4) });
  }
}
