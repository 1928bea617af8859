/** Tensor.to and the dtype shorthands (float(), long(), ...): dtype and device conversions. */
import { PENDING, type OutSpec } from './dispatch.js';
import { rule } from './rules.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  bfloat16,
  bool,
  complex128,
  complex32,
  complex64,
  float16,
  float32,
  float64,
  int16,
  int32,
  int64,
  int8,
  uint8,
  DTYPES,
  type DType,
} from '../tensor/dtype.js';
import { normalizeDevice } from '../tensor/device.js';
import { torchError } from '../errors.js';

// to(dtype, ...) | to(device=None, dtype=None, ...) | to(tensor, ...): bound by torch's overloads.
rule(
  'to',
  (a, op): OutSpec => {
    const x = a.input as Tensor;
    const other = a.tensor as Tensor | undefined; // to(tensor, ...): torch's keyword is 'tensor'
    const dtype = (other?.dtype ?? a.dtype ?? x.dtype) as DType;
    const device = other ? other.device : a.device ? normalizeDevice(a.device as string) : x.device;
    if (x.device === 'meta' && device !== 'meta') throw torchError('NotImplementedError', 'Cannot copy out of meta tensor; no data!', op);
    // other lends only its dtype and device: autograd records from self alone
    const spec: OutSpec = { shape: x.shape, dtype, device, gradFrom: [x] };
    if (dtype === x.dtype && device === x.device && a.copy !== true) spec.alias = x; // returns self
    return spec;
  },
  { mayFail: true }, // an unavailable device fails in the runtime
);

// Tensor.float() & co.: to(dtype), returning self when the dtype already matches.
const CONVERSIONS: Record<string, DType> = {
  float: float32,
  double: float64,
  half: float16,
  bfloat16,
  long: int64,
  int: int32,
  short: int16,
  char: int8,
  byte: uint8,
  bool,
  cfloat: complex64,
  cdouble: complex128,
  chalf: complex32,
};
for (const [name, dtype] of Object.entries(CONVERSIONS)) {
  rule(name, (a) => {
    const x = a.input as Tensor;
    const spec: OutSpec = { shape: x.shape, dtype, device: x.device };
    if (dtype === x.dtype) {
      // a memory format copies unless the tensor already has it (strides are not mirrored)
      if (a.memory_format !== undefined && a.memory_format !== null) return PENDING;
      spec.alias = x;
    }
    return spec;
  });
}

// type_as(other): to(other.type()), which names the device type (and dtype) of other
rule('type_as', (a) => {
  const x = a.input as Tensor;
  const other = a.other as Tensor;
  if (other.device !== x.device) return PENDING; // the current device of other's type, not other's device
  const spec: OutSpec = { shape: x.shape, dtype: other.dtype, device: x.device, gradFrom: [x] };
  if (other.dtype === x.dtype) spec.alias = x;
  return spec;
});

// Tensor.type(dtype) / type('torch.DoubleTensor'): to(dtype) on the tensor's own device, self
// when nothing changes. (type() with no dtype is a value: the generated API reads it back.)
const TYPE_NAMES = new Map([...DTYPES.values()].map((t) => [`${t.scalarTypeName}Tensor`, t]));
rule(
  'type',
  (a) => {
    const x = a.input as Tensor;
    let dtype = a.dtype as DType | string;
    if (typeof dtype === 'string') {
      // 'torch.<Name>Tensor' on the CPU; other spellings (torch.cuda., torch.sparse.) move or re-layout
      const m = /^torch\.(\w+Tensor)$/.exec(dtype);
      const named = m ? TYPE_NAMES.get(m[1]!) : undefined;
      if (!named || x.device !== 'cpu') return PENDING;
      dtype = named;
    }
    const spec: OutSpec = { shape: x.shape, dtype, device: x.device, grad_fn: 'ToCopyBackward0' };
    if (dtype === x.dtype) {
      if (a.memory_format !== undefined && a.memory_format !== null) return PENDING; // then it copies
      spec.alias = x;
    }
    return spec;
  },
  { mayFail: true }, // a malformed type string fails in the runtime
);
