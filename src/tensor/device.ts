/** Device strings as torch prints them: 'cpu', 'cuda:0', 'mps'. */
import { ArgumentError } from '../errors.js';

const DEVICE = /^(cpu|cuda|mps|meta|xpu)(?::(\d+))?$/;

export function normalizeDevice(device: string): string {
  const m = DEVICE.exec(device);
  if (!m) throw new ArgumentError(`Expected one of cpu, cuda, mps, meta, xpu device type at start of device string: ${device}`);
  const [, type, index] = m;
  if (type === 'cuda' || type === 'xpu') return `${type}:${index ?? 0}`;
  return index === undefined || type === 'cpu' ? type! : `${type}:${index}`;
}
