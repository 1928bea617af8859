/** Tensor.to: dtype and device conversions, with torch's overloads. */
import type { OutSpec } from './dispatch.js';
import { rule } from './rules.js';
import type { Tensor } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';
import { normalizeDevice } from '../tensor/device.js';

// to(dtype, ...) | to(device=None, dtype=None, ...) | to(other, ...): bound by torch's overloads.
rule(
  'to',
  (a): OutSpec => {
    const x = a.input as Tensor;
    const other = a.other as Tensor | undefined;
    const dtype = (other?.dtype ?? a.dtype ?? x.dtype) as DType;
    const device = other ? other.device : a.device ? normalizeDevice(a.device as string) : x.device;
    const spec: OutSpec = { shape: x.shape, dtype, device };
    if (dtype === x.dtype && device === x.device && a.copy !== true) spec.alias = x; // returns self
    return spec;
  },
  { mayFail: true }, // an unavailable device fails in the runtime
);
