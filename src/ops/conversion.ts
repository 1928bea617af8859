/** Tensor.to: dtype and device conversions, with torch's overloads. */
import { defineOp, isTensor, type OutSpec } from './dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { DType } from '../tensor/dtype.js';
import { normalizeDevice } from '../tensor/device.js';
import { ArgumentError } from '../errors.js';

// to(dtype) | to(device, dtype?) | to(other) — plus keyword forms.
export const to = defineOp(
  'to(Tensor input, any arg1=None, any arg2=None, *, dtype? dtype=None, device? device=None, bool non_blocking=False, bool copy=False)',
  (a): OutSpec => {
    const x = a.input as Tensor;
    let dtype = a.dtype as DType | null | undefined;
    let device = a.device as string | null | undefined;
    for (const v of [a.arg1, a.arg2]) {
      if (v === undefined || v === null) continue;
      if (v instanceof DType) dtype = v;
      else if (typeof v === 'string') device = v;
      else if (isTensor(v)) {
        dtype = v.dtype;
        device = v.device;
      } else throw new ArgumentError(`to(): expected a dtype, a device string or a Tensor, not ${typeof v}`);
    }
    const outDtype = dtype ?? x.dtype;
    const outDevice = device ? normalizeDevice(device) : x.device;
    const spec: OutSpec = { shape: [...x.shape], dtype: outDtype, device: outDevice };
    if (outDtype === x.dtype && outDevice === x.device && a.copy !== true) spec.alias = x; // returns self
    return spec;
  },
  { mayFail: true }, // an unavailable device fails in the runtime
);
