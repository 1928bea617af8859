/**
 * torch.nn.functional convolutions (conv1d/2d/3d, conv_transpose1d/2d/3d): output sizes and
 * ATen's checks in their order (Convolution.cpp: batchify, _convolution, check_shape_forward).
 * Which CPU backend runs a call (oneDNN or the slow kernels) decides some messages; where it
 * does (mixed float32 dtypes, zero dilation, transposed outputs that come out empty) the
 * mirror leaves the call to torch (PENDING).
 */
import { PENDING, type OutSpec } from './dispatch.js';
import { rule } from './rules.js';
import type { Bound } from './signature.js';
import { torchError } from '../errors.js';
import { promoteTypes, resultType } from '../mirror/promotion.js';
import type { DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { notImplemented, shapeStr } from './nn_util.js';
import { constantPad } from './nn_pad.js';
import { backward, named } from '../mirror/grad_fn.js';

const F = 'nn.functional.';

/** The names torch's legacy type strings give CPU tensors ('torch.FloatTensor'). */
export const LEGACY: Record<string, string> = {
  float32: 'torch.FloatTensor',
  float64: 'torch.DoubleTensor',
  float16: 'torch.HalfTensor',
  uint8: 'torch.ByteTensor',
  int8: 'torch.CharTensor',
  int16: 'torch.ShortTensor',
  int32: 'torch.IntTensor',
  int64: 'torch.LongTensor',
  bool: 'CPUBoolType',
  bfloat16: 'CPUBFloat16Type',
  complex64: 'CPUComplexFloatType',
  complex128: 'CPUComplexDoubleType',
};

/** An IntArrayRef[n] argument as the Python binding parses it: an int repeats n times. */
export function intList(v: unknown, n: number, dflt: number): number[] {
  if (v === undefined || v === null) return Array(n).fill(dflt);
  if (typeof v === 'number') return Array(n).fill(v);
  return [...(v as number[])];
}

/** ATen's expand_param_if_needed. */
function expandParam(list: number[], name: string, dim: number, op: string): number[] {
  if (list.length === 1) return Array(dim).fill(list[0]);
  if (list.length !== dim) {
    throw torchError(
      'RuntimeError',
      `expected ${name} to be a single integer value or a list of ${dim} values to match the convolution dimensions, but got ${name}=${shapeStr(list)}`,
      op,
    );
  }
  return list;
}

interface ConvArgs {
  x: Tensor;
  w: Tensor;
  bias: Tensor | null;
  stride: number[];
  padding: number[];
  dilation: number[];
  outPad: number[];
  groups: number;
  transposed: boolean;
  /** spatial dims of the op (1, 2, 3) */
  n: number;
}

/**
 * ATen's _convolution up to the backend: parameter expansion, check_shape_forward, the
 * empty-input path. Returns the output's shape and dtype for a batched input.
 */
function convolution(c: ConvArgs, input: readonly number[], op: string): OutSpec | typeof PENDING {
  const { x, w, bias, groups, transposed } = c;
  const ws = w.shape;
  const k = ws.length;
  if (k - 2 <= 0) throw torchError('RuntimeError', 'weight should have at least three dimensions', op);
  if (groups <= 0) throw torchError('RuntimeError', 'non-positive groups is not supported', op);
  const dim = k - 2;
  const stride = expandParam(c.stride, 'stride', dim, op);
  const padding = expandParam(c.padding, 'padding', dim, op);
  const dilation = expandParam(c.dilation, 'dilation', dim, op);
  const outPad = expandParam(c.outPad, 'output_padding', dim, op);
  const fail = (msg: string) => torchError('RuntimeError', msg, op);
  if (padding.some((p) => p < 0)) throw fail('negative padding is not supported');
  if (outPad.some((p) => p < 0)) throw fail('negative output_padding is not supported');
  if (stride.some((s) => s <= 0)) throw fail('non-positive stride is not supported');
  if (dilation.some((d) => d < 0)) throw fail('dilation should be greater than zero');
  const ndim = input.length;
  if (k !== ndim) {
    throw fail(`Expected ${k}-dimensional input for ${k}-dimensional weight ${shapeStr(ws)}, but got ${ndim}-dimensional input of size ${shapeStr(input)} instead`);
  }
  if (ws[0]! < groups) {
    throw fail(`Given groups=${groups}, expected weight to be at least ${groups} at dimension 0, but got weight of size ${shapeStr(ws)} instead`);
  }
  if (ws[0]! % groups !== 0) {
    throw fail(`Given groups=${groups}, expected weight to be divisible by ${groups} at dimension 0, but got weight of size [${shapeStr(ws)}] instead`);
  }
  const spatial = input.slice(2);
  let out: number[];
  if (!transposed) {
    if (input[1] !== ws[1]! * groups) {
      throw fail(
        `Given groups=${groups}, weight of size ${shapeStr(ws)}, expected input${shapeStr(input)} to have ${ws[1]! * groups} channels, but got ${input[1]} channels instead`,
      );
    }
    if (bias && !(bias.ndim === 1 && bias.shape[0] === ws[0])) {
      throw fail(
        `Given weight of size ${shapeStr(ws)}, expected bias to be 1-dimensional with ${ws[0]} elements, but got bias of size ${shapeStr(bias.shape)} instead`,
      );
    }
    const padded = spatial.map((s, i) => s + 2 * padding[i]!);
    const kernel = ws.slice(2).map((s, i) => dilation[i]! * (s - 1) + 1);
    if (padded.some((p, i) => p < kernel[i]!)) {
      throw fail(
        `Calculated padded input size per channel: (${padded.join(' x ')}). Kernel size: (${kernel.join(' x ')}). Kernel size can't be greater than actual input size`,
      );
    }
    out = [input[0]!, ws[0]!, ...padded.map((p, i) => Math.floor((p - kernel[i]!) / stride[i]!) + 1)];
  } else {
    if (input[1] !== ws[0]) {
      throw fail(
        `Given transposed=1, weight of size ${shapeStr(ws)}, expected input${shapeStr(input)} to have ${ws[0]} channels, but got ${input[1]} channels instead`,
      );
    }
    if (bias && !(bias.ndim === 1 && bias.shape[0] === ws[1]! * groups)) {
      throw fail(
        `Given transposed=1, weight of size ${shapeStr(ws)}, expected bias to be 1-dimensional with ${ws[1]! * groups} elements, but got bias of size ${shapeStr(bias.shape)} instead`,
      );
    }
    out = [
      input[0]!,
      ws[1]! * groups,
      ...spatial.map((s, i) => (s - 1) * stride[i]! - 2 * padding[i]! + dilation[i]! * (ws[i + 2]! - 1) + outPad[i]! + 1),
    ];
  }
  if (input.includes(0)) {
    // ATen's empty-input path: no backend, the result is input * weight (type promotion)
    if (input[0] !== 0 && input[1] !== 0) {
      // by now a 1-d convolution runs as a 2-d one (view1d_as_2d)
      const shown = dim === 1 ? [input[0]!, input[1]!, 1, input[2]!] : input;
      throw fail(`Only zero batch or zero channel inputs are supported, but got input shape: ${shapeStr(shown)}`);
    }
    let dtype: DType | undefined = x.dtype;
    if (w.dtype !== x.dtype) {
      if (bias || x.dtype.category === 'complex' || w.dtype.category === 'complex') return PENDING;
      dtype = input[1] === 0 ? promoteTypes(x.dtype, w.dtype) : resultType({ dtype: x.dtype, ndim: 1 }, { dtype: w.dtype, ndim: 0 });
      if (!dtype) return PENDING;
    }
    if (input[1] === 0) out[1] = 0;
    if (transposed && out.slice(2).some((s) => s <= 0)) return PENDING; // torch's reshape then fails
    return { shape: out, dtype, device: x.device };
  }
  if (dilation.includes(0)) return PENDING; // each backend words this its own way
  if (transposed) {
    if (outPad.some((p, i) => p >= stride[i]! && p >= dilation[i]!)) {
      if (dim === 3) return PENDING;
      const [op0, op1, s0, s1, d0, d1] = dim === 1 ? [0, outPad[0], 1, stride[0], 1, dilation[0]] : [outPad[0], outPad[1], stride[0], stride[1], dilation[0], dilation[1]];
      throw fail(
        `output padding must be smaller than either stride or dilation, but got output_padding_height: ${op0} output_padding_width: ${op1} stride_height: ${s0} stride_width: ${s1} dilation_height: ${d0} dilation_width: ${d1}`,
      );
    }
    if (out.slice(2).some((s) => s <= 0)) return PENDING;
  }
  const xt = x.dtype;
  const cat = xt.category;
  if (cat === 'complex') {
    if (w.dtype !== xt) throw fail(`Input type (${LEGACY[xt.name]}) and weight type (${LEGACY[w.dtype.name]}) should be the same`);
    if (bias && bias.dtype !== xt) return PENDING;
    return { shape: out, dtype: xt, device: x.device };
  }
  // the slow kernels' dtype dispatch (oneDNN takes none of these)
  if (transposed) {
    if (cat === 'bool' || (cat === 'int' && xt.name !== 'int64')) {
      throw notImplemented(dim === 3 ? 'slow_conv_transpose3d_out_cpu' : 'slow_conv_transpose2d_out_cpu', xt, op);
    }
  } else if (dilation.some((d) => d !== 1)) {
    if (cat === 'bool' || (cat === 'int' && xt.name !== 'int64')) throw notImplemented('slow_conv_dilated<>', xt, op);
  } else if (cat === 'bool') {
    const k3 = ws.slice(2).every((s) => s === 1) ? 'slow_conv3d_cpu' : 'compute_columns3d';
    throw notImplemented(dim === 3 ? k3 : 'slow_conv2d_cpu', xt, op);
  }
  if (w.dtype !== xt) {
    // oneDNN (float32, bfloat16, maybe float16) and the slow kernels word this differently
    if (cat === 'int' || xt.name === 'float64') {
      throw fail(`expected scalar type ${xt.scalarTypeName} but found ${w.dtype.scalarTypeName}`);
    }
    return PENDING;
  }
  if (bias && bias.dtype !== xt) return PENDING;
  return { shape: out, dtype: xt, device: x.device };
}

function convRule(n: number, transposed: boolean) {
  const name = transposed ? `conv_transpose${n}d` : `conv${n}d`;
  return (a: Bound, op: string): OutSpec | typeof PENDING => {
    const x = a.input as Tensor;
    const w = a.weight as Tensor;
    const bias = (a.bias as Tensor | null | undefined) ?? null;
    if (x.device !== w.device || (bias && bias.device !== x.device)) return PENDING;
    const groups = (a.groups as number | undefined) ?? 1;
    const padStr = typeof a.padding === 'string' ? (a.padding as string) : undefined;
    // conv{n}d checks the bias dtype first (the padding-string overload leaves it to the backend)
    if (!transposed && padStr === undefined && bias && bias.dtype !== x.dtype) {
      throw torchError('RuntimeError', `Input type (${x.dtype.cppTypeName}) and bias type (${bias.dtype.cppTypeName}) should be the same`, op);
    }
    // batchify
    const batched = x.ndim === n + 2;
    if (x.ndim !== n + 1 && !batched) {
      throw torchError(
        'RuntimeError',
        `Expected ${n + 1}D (unbatched) or ${n + 2}D (batched) input to ${name}, but got input of size: ${shapeStr(x.shape)}`,
        op,
      );
    }
    const input = batched ? x.shape : [1, ...x.shape];
    // complex_convolution compares the dtypes before anything else
    if (x.dtype.category === 'complex' && w.dtype !== x.dtype) {
      throw torchError('RuntimeError', `Input type (${LEGACY[x.dtype.name]}) and weight type (${LEGACY[w.dtype.name]}) should be the same`, op);
    }
    const c: ConvArgs = {
      x,
      w,
      bias,
      stride: intList(a.stride, n, 1),
      padding: padStr === undefined ? intList(a.padding, n, 0) : Array(n).fill(0),
      dilation: intList(a.dilation, n, 1),
      outPad: transposed ? intList(a.output_padding, n, 0) : Array(n).fill(0),
      groups,
      transposed,
      n,
    };
    let out: OutSpec | typeof PENDING;
    if (padStr === 'same') {
      if (bias && bias.dtype !== x.dtype) return PENDING;
      out = convSame(c, input, op);
    } else if (padStr !== undefined && padStr !== 'valid') {
      throw torchError('RuntimeError', `Invalid padding string: '${padStr}'`, op);
    } else {
      if (padStr !== undefined && bias && bias.dtype !== x.dtype) return PENDING;
      out = convolution(c, input, op);
    }
    if (out === PENDING) return out;
    // unbatched inputs are unsqueezed, then the output squeezed; complex ones are convolved as
    // three real convolutions summed (Karatsuba)
    if (!batched) return { ...out, shape: out.shape.slice(1), grad_fn: SQUEEZE_DIM };
    return named(out, x.dtype.category === 'complex' ? ADD : CONVOLUTION);
  };
}

const CONVOLUTION = backward('convolution');
const SQUEEZE_DIM = backward('squeeze.dim');
const ADD = backward('add.Tensor');

/** ATen's _convolution_same: padding that keeps the size, asymmetric ones by padding the input. */
function convSame(c: ConvArgs, input: readonly number[], op: string): OutSpec | typeof PENDING {
  const ws = c.w.shape;
  const k = ws.length;
  if (k <= 2) throw torchError('RuntimeError', 'weight should have at least three dimensions', op);
  if (c.groups <= 0) throw torchError('RuntimeError', 'non-positive groups is not supported', op);
  const dim = k - 2;
  if (k !== input.length) {
    throw torchError(
      'RuntimeError',
      `Expected ${k}-dimensional input for ${k}-dimensional weight${shapeStr(ws)}, but got ${input.length}-dimensional input of size ${shapeStr(input)} instead`,
      op,
    );
  }
  if (c.stride.length !== dim && c.stride.length !== 1) throw torchError('RuntimeError', `stride cannot broadcast to ${dim} dimensions`, op);
  if (c.dilation.length !== dim && c.dilation.length !== 1) throw torchError('RuntimeError', `dilation cannot broadcast to ${dim} dimensions`, op);
  if (c.stride.some((s) => s !== 1)) throw torchError('RuntimeError', "padding='same' is not supported for strided convolutions", op);
  const dil = c.dilation.length === 1 ? Array(dim).fill(c.dilation[0]) : c.dilation;
  if (dil.some((d) => d <= 0)) return PENDING;
  const padding: number[] = [];
  const extra: number[] = [];
  for (let i = 0; i < dim; i++) {
    const total = dil[i]! * (ws[i + 2]! - 1);
    const left = Math.floor(total / 2);
    padding.push(left);
    extra.push(total - 2 * left);
  }
  let padded: readonly number[] = input;
  if (extra.some((e) => e > 0)) {
    // the asymmetric remainder is padded onto the input first (constant_pad_nd, last dim first)
    const padNd: number[] = [];
    for (let i = dim - 1; i >= 0; i--) padNd.push(0, extra[i]!);
    padded = constantPad(input, padNd, op);
  }
  return convolution({ ...c, padding, stride: [1], dilation: dil }, padded, op);
}

for (const n of [1, 2, 3]) {
  rule(`${F}conv${n}d`, convRule(n, false));
  rule(`${F}conv_transpose${n}d`, convRule(n, true));
}
