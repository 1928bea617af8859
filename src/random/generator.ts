/**
 * torch.Generator: a random-number generator held by handle in the runtime. Pass it as the
 * `generator` keyword of torch's random ops (randperm, rand, random_, ...) or of DataLoader and
 * random_split; it draws exactly what the same Python Generator draws.
 */
import { PyObject } from '../py/object.js';
import { currentSession } from '../session/current.js';
import { ArgumentError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { normalizeDevice } from '../tensor/device.js';

function checkSeed(seed: unknown, op: string): void {
  if (typeof seed === 'bigint') return;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new ArgumentError(`Generator.${op}(): seed must be an int, not ${String(seed)}`);
}

export class Generator extends PyObject {
  /** The device its state lives on ('cpu', 'cuda:0'). */
  readonly device: string;

  /** torch.Generator(device='cpu'). Calls on it are queued like ops: no round trip. */
  constructor(device: string = 'cpu') {
    const s = currentSession();
    super(s, s.newHandle(), 'Generator');
    this.device = normalizeDevice(device);
    s.call(this.id, 'Generator', [this.device], null, 0, true);
  }

  /** Seeds the generator (queued); returns it, as Python does. */
  manual_seed(seed: number | bigint): this {
    checkSeed(seed, 'manual_seed');
    this.run('manual_seed', [seed]);
    return this;
  }

  /** Seeds it from a non-deterministic source and gives that seed. A sync point. */
  async seed(): Promise<number | bigint> {
    return (await this.askValue('seed')) as number | bigint;
  }

  /** The seed it was last seeded with. A sync point. */
  async initial_seed(): Promise<number | bigint> {
    return (await this.askValue('initial_seed')) as number | bigint;
  }

  /** Its state as a uint8 Tensor (a copy), for set_state. A sync point. */
  async get_state(): Promise<Tensor> {
    const state = await this.askValue('get_state');
    if (!(state instanceof Tensor)) throw new ArgumentError('Generator.get_state(): the runtime did not return a tensor');
    return state;
  }

  /** Restores a state from get_state() (queued); returns the generator. */
  set_state(state: Tensor): this {
    if (!(state instanceof Tensor)) throw new ArgumentError('Generator.set_state(): new_state must be a uint8 Tensor from get_state()');
    this.run('set_state', [state]);
    return this;
  }

  override toString(): string {
    return this._disposed ? 'Generator(disposed)' : `Generator(device=${this.device})`;
  }

  private async askValue(name: string): Promise<unknown> {
    const r = this.method(name);
    try {
      return await r.value();
    } finally {
      r.dispose();
    }
  }
}
