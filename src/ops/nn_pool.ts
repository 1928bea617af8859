/**
 * torch.nn.functional pooling (max/avg/adaptive): output sizes and the checks of ATen's
 * pooling shape checks (Pool.h, DilatedMaxPool2d.cpp, AveragePool2d.cpp, AdaptiveAveragePooling.cpp,
 * AdaptiveMaxPooling2d.cpp), in their order, with their texts.
 */
import { PENDING, type OutSpec } from './dispatch.js';
import { maybeStrided } from '../mirror/layout.js';
import { RULES, rule } from './rules.js';
import type { Bound } from './signature.js';
import { is_grad_enabled as is_grad } from '../autograd/grad_mode.js';
import { torchError } from '../errors.js';
import { wrapDim } from '../mirror/dims.js';
import { int64, type DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { notImplemented, shapeStr } from './nn_util.js';
import { backward } from '../mirror/grad_fn.js';

const MEAN_DIM = backward('mean.dim');
const ADAPTIVE_AVG_2D = backward('_adaptive_avg_pool2d');
export const SQUEEZE_DIM = backward('squeeze.dim');

const F = 'nn.functional.';

const listOf = (v: unknown, dflt: number[]): number[] =>
  v === undefined || v === null ? dflt : typeof v === 'number' ? [v] : [...(v as number[])];

/** An IntArrayRef[2] argument as the Python binding parses it (an int repeats). */
const pair = (v: unknown, dflt: number[]): number[] =>
  v === undefined || v === null ? dflt : typeof v === 'number' ? [v, v] : [...(v as number[])];

const cdiv = (a: number, b: number) => Math.trunc(a / b); // C++ integer division

/** ATen's pooling_output_shape (with its checks). */
function poolOut(size: number, k: number, pad: number, stride: number, dil: number, ceil: boolean, op: string): number {
  if (stride === 0) throw torchError('RuntimeError', 'stride should not be zero', op);
  if (pad < 0) throw torchError('RuntimeError', `pad must be non-negative, but got pad: ${pad}`, op);
  if (pad > cdiv((k - 1) * dil + 1, 2)) {
    throw torchError('RuntimeError', `pad should be at most half of effective kernel size, but got pad=${pad}, kernel_size=${k} and dilation=${dil}`, op);
  }
  let out = Math.floor((size + 2 * pad - dil * (k - 1) - 1 + (ceil ? stride - 1 : 0)) / stride) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out--;
  return out;
}

interface Pool2d {
  k: number[];
  s: number[];
  p: number[];
  d: number[];
}

/** ATen's pool2d_shape_check; returns [outH, outW]. */
function pool2dShape(input: readonly number[], q: Pool2d, ceil: boolean, op: string): [number, number] {
  const [kH, kW] = q.k as [number, number];
  const [dH, dW] = q.s as [number, number];
  const [pH, pW] = q.p as [number, number];
  const [dilH, dilW] = q.d as [number, number];
  const n = input.length;
  const plane = input[n - 3]!;
  const h = input[n - 2]!;
  const w = input[n - 1]!;
  const oH = poolOut(h, kH, pH, dH, dilH, ceil, op);
  const oW = poolOut(w, kW, pW, dW, dilW, ceil, op);
  const fail = (m: string) => torchError('RuntimeError', m, op);
  if (!(kW > 0 && kH > 0)) throw fail(`kernel size should be greater than zero, but got kH: ${kH} kW: ${kW}`);
  if (!(dW > 0 && dH > 0)) throw fail(`stride should be greater than zero, but got dH: ${dH} dW: ${dW}`);
  if (!(dilH > 0 && dilW > 0)) throw fail(`dilation should be greater than zero, but got dilationH: ${dilH} dilationW: ${dilW}`);
  const valid = input[1] !== 0 && input[2] !== 0;
  if (!((n === 3 && input[0] !== 0 && valid) || (n === 4 && valid && input[3] !== 0))) {
    throw fail(`Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:${shapeStr(input)}`);
  }
  if (!(cdiv(kW, 2) >= pW && cdiv(kH, 2) >= pH)) {
    throw fail(`pad should be smaller than or equal to half of kernel size, but got padW = ${pW}, padH = ${pH}, kW = ${kW}, kH = ${kH}`);
  }
  if (!(oW >= 1 && oH >= 1)) {
    throw fail(`Given input size: (${plane}x${h}x${w}). Calculated output size: (${plane}x${oH}x${oW}). Output size is too small`);
  }
  return [oH, oW];
}

/** max_pool2d_with_indices' argument checks and output shape (input of 3 or 4 dims). */
function maxPool2dShape(x: readonly number[], k: number[], s: number[], p: number[], d: number[], ceil: boolean, op: string): number[] {
  const fail = (m: string) => torchError('RuntimeError', m, op);
  if (k.length !== 1 && k.length !== 2) throw fail('max_pool2d: kernel_size must either be a single int, or a tuple of two ints');
  if (s.length > 2) throw fail('max_pool2d: stride must either be omitted, a single int, or a tuple of two ints');
  if (p.length !== 1 && p.length !== 2) throw fail('max_pool2d: padding must either be a single int, or a tuple of two ints');
  if (d.length !== 1 && d.length !== 2) throw fail('max_pool2d: dilation must be either a single int, or a tuple of two ints');
  if (x.length !== 3 && x.length !== 4) throw fail('non-empty 3D or 4D (batch mode) tensor expected for input');
  const kk = k.length === 1 ? [k[0]!, k[0]!] : k;
  const ss = s.length === 0 ? kk : s.length === 1 ? [s[0]!, s[0]!] : s;
  const q = { k: kk, s: ss, p: p.length === 1 ? [p[0]!, p[0]!] : p, d: d.length === 1 ? [d[0]!, d[0]!] : d };
  const [oH, oW] = pool2dShape(x, q, ceil, op);
  return [...x.slice(0, -2), oH, oW];
}

function poolDtype(x: Tensor, kernel: string, ok: (t: DType) => boolean, op: string): DType {
  if (!ok(x.dtype)) throw notImplemented(kernel, x.dtype, op);
  return x.dtype;
}

const floatsAnd = (...names: string[]) => (t: DType) => t.category === 'float' || names.includes(t.name);
const maxPoolOk = (t: DType) => t.category === 'float' || t.category === 'int';

function withIndices(a: Bound, out: OutSpec): OutSpec | OutSpec[] {
  if (a.return_indices !== true) return out;
  return [out, { shape: out.shape, dtype: int64, device: out.device, differentiable: false }];
}

rule(F + 'max_pool2d', (a, op) => {
  const x = a.input as Tensor;
  const shape = maxPool2dShape(
    x.shape,
    pair(a.kernel_size, []),
    a.stride === undefined || a.stride === null ? [] : pair(a.stride, []),
    pair(a.padding, [0, 0]),
    pair(a.dilation, [1, 1]),
    a.ceil_mode === true,
    op,
  );
  return withIndices(a, { shape, dtype: poolDtype(x, 'max_pool2d', maxPoolOk, op), device: x.device });
});

/** check1d: an IntArrayRef[1] argument must have one value. */
function check1d(fn: string, arg: string, v: number[], op: string): void {
  if (v.length !== 1) throw torchError('RuntimeError', `${fn}() argument '${arg}' should contain one int (got ${v.length})`, op);
}

/** checkDimRange(fn, self, 2, 4). */
function checkDims23(fn: string, x: Tensor, op: string): void {
  if (x.ndim < 2 || x.ndim > 3) {
    throw torchError(
      'RuntimeError',
      `Expected 2 to 3 dimensions, but got ${x.ndim}-dimensional tensor for argument #1 'self' (while checking arguments for ${fn})`,
      op,
    );
  }
}

rule(F + 'max_pool1d', (a, op) => {
  const x = a.input as Tensor;
  const k = listOf(a.kernel_size, []);
  const s0 = a.stride === undefined || a.stride === null ? [] : listOf(a.stride, []);
  const p = listOf(a.padding, [0]);
  const d = listOf(a.dilation, [1]);
  const ceil = a.ceil_mode === true;
  const fail = (m: string) => torchError('RuntimeError', m, op);
  if (a.return_indices === true) {
    // max_pool1d_with_indices: max_pool2d_with_indices on input.unsqueeze(-2)
    const s = s0.length === 0 ? k : s0;
    checkDims23('max_pool1d', x, op);
    check1d('max_pool1d', 'kernel_size', k, op);
    check1d('max_pool1d', 'stride', s, op);
    check1d('max_pool1d', 'padding', p, op);
    check1d('max_pool1d', 'dilation', d, op);
    const u = [...x.shape.slice(0, -1), 1, x.shape[x.ndim - 1]!];
    const out = maxPool2dShape(u, [1, k[0]!], [1, s[0]!], [0, p[0]!], [1, d[0]!], ceil, op);
    out.splice(out.length - 2, 1);
    return withIndices(a, { shape: out, dtype: poolDtype(x, 'max_pool2d', maxPoolOk, op), device: x.device });
  }
  const n = x.ndim;
  const sh = x.shape;
  if (!((n === 2 && sh[0] !== 0 && sh[1] !== 0) || (n === 3 && sh[1] !== 0 && sh[2] !== 0))) {
    throw fail(`max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:${shapeStr(sh)}`);
  }
  if (k.length !== 1) throw fail(`max_pool1d() kernel_size must be an int, list of ints or tuple of ints of size 1 but got size ${k.length}`);
  if (s0.length > 1) throw fail(`max_pool1d() stride must be None, an int, list of ints, or tuple of ints of size 1 but got size ${s0.length}`);
  if (p.length !== 1) throw fail(`max_pool1d() padding must be an int, list of ints, or tuple of ints of size 1 but got size ${p.length}`);
  if (d.length !== 1) throw fail(`max_pool1d() dilation must be an int, list of ints or tuple of ints of size 1 but got size ${d.length}`);
  const s = s0.length === 0 ? k : s0;
  if (!(k[0]! > 0)) throw fail(`max_pool1d() kernel_size must be greater than zero, but got ${k[0]}`);
  if (!(s[0]! > 0)) throw fail(`max_pool1d() stride must be greater than zero, but got ${s[0]}`);
  if (!(p[0]! >= 0)) throw fail(`max_pool1d() padding must be non-negative, but got ${p[0]}`);
  if (!(p[0]! <= cdiv(k[0]!, 2))) {
    throw fail(`max_pool1d() padding should be at most half of kernel size, but got padding=${p[0]} and kernel_size=${k[0]}`);
  }
  if (!(d[0]! > 0)) throw fail(`max_pool1d() dilation must be greater than zero, but got ${d[0]}`);
  const ow = poolOut(sh[n - 1]!, k[0]!, p[0]!, s[0]!, d[0]!, ceil, op);
  if (!(ow > 0)) throw fail(`max_pool1d() Invalid computed output size: ${ow}`);
  // with grad it runs max_pool1d_with_indices (max_pool2d's kernel), else its own float kernel
  const kernel = x.requires_grad && is_grad() ? 'max_pool2d' : 'max_pool1d_impl';
  const ok = kernel === 'max_pool2d' ? maxPoolOk : floatsAnd();
  return { shape: [...sh.slice(0, -1), ow], dtype: poolDtype(x, kernel, ok, op), device: x.device };
});


/** avg_pool2d's meta function; returns the output shape. */
function avgPool2dShape(x: readonly number[], k: number[], s: number[], p: number[], ceil: boolean, divisor: unknown, op: string): number[] {
  const fail = (m: string) => torchError('RuntimeError', m, op);
  if (k.length !== 1 && k.length !== 2) throw fail('avg_pool2d: kernel_size must either be a single int, or a tuple of two ints');
  const kH = k[0]!;
  const kW = k.length === 1 ? kH : k[1]!;
  if (s.length > 2) throw fail('avg_pool2d: stride must either be omitted, a single int, or a tuple of two ints');
  const dH = s.length === 0 ? kH : s[0]!;
  const dW = s.length === 0 ? kW : s.length === 1 ? dH : s[1]!;
  if (p.length !== 1 && p.length !== 2) throw fail('avg_pool2d: padding must either be a single int, or a tuple of two ints');
  const pH = p[0]!;
  const pW = p.length === 1 ? pH : p[1]!;
  if (divisor === 0) throw fail('divisor must be not zero');
  // input.size(-3): torch's IndexError for fewer dims
  const n = x.length;
  if (n < 3) {
    if (n === 0) throw torchError('IndexError', 'Dimension specified as -3 but tensor has no dimensions', op);
    wrapDim(-3, n, op);
  }
  const [oH, oW] = pool2dShape(x, { k: [kH, kW], s: [dH, dW], p: [pH, pW], d: [1, 1] }, ceil, op);
  return [...x.slice(0, -2), oH, oW];
}

const avgOk = floatsAnd('int64');

rule(F + 'avg_pool2d', (a, op) => {
  const x = a.input as Tensor;
  const shape = avgPool2dShape(
    x.shape,
    pair(a.kernel_size, []),
    a.stride === undefined || a.stride === null ? [] : pair(a.stride, []),
    pair(a.padding, [0, 0]),
    a.ceil_mode === true,
    a.divisor_override,
    op,
  );
  return { shape, dtype: poolDtype(x, 'avg_pool2d', avgOk, op), device: x.device };
});

rule(F + 'avg_pool1d', (a, op) => {
  const x = a.input as Tensor;
  const k = listOf(a.kernel_size, []);
  const s0 = a.stride === undefined || a.stride === null ? [] : listOf(a.stride, []);
  const s = s0.length === 0 ? k : s0;
  const p = listOf(a.padding, [0]);
  checkDims23('avg_pool1d', x, op);
  check1d('avg_pool1d', 'kernel_size', k, op);
  check1d('avg_pool1d', 'stride', s, op);
  check1d('avg_pool1d', 'padding', p, op);
  const u = [...x.shape.slice(0, -1), 1, x.shape[x.ndim - 1]!];
  const out = avgPool2dShape(u, [1, k[0]!], [1, s[0]!], [0, p[0]!], a.ceil_mode === true, undefined, op);
  out.splice(out.length - 2, 1);
  return { shape: out, dtype: poolDtype(x, 'avg_pool2d', avgOk, op), device: x.device };
});

/**
 * Whether adaptive_avg_pool2d's (1, 1) mean may be restrided in place for a channels-last input
 * (AsStridedBackward1 instead of MeanBackward1): only a maybe non-contiguous 4-d input can be
 * channels-last, and only a recorded result shows it. The runtime answers then.
 */
export function channelsLastMean(x: Tensor, out: readonly number[]): boolean {
  return x.ndim === 4 && out[0] === 1 && out[1] === 1 && maybeStrided(x) && x.requires_grad && is_grad();
}

/** adaptive_avg_pool2d (ATen's composite): a mean over H, W for (1, 1), else the kernel. */
export function adaptiveAvg2d(x: Tensor, x2: readonly number[], out: number[], op: string): OutSpec {
  const fail = (m: string) => torchError('RuntimeError', m, op);
  if (out.length !== 2) throw fail('adaptive_avg_pool2d: output_size must be 2');
  if (!(out[0]! >= 0 && out[1]! >= 0)) {
    throw fail(`adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received {${out[0]}, ${out[1]}}`);
  }
  const n = x2.length;
  if (out[0] === 1 && out[1] === 1) {
    // input.mean({-1, -2}, keepdim=True)
    const c = x.dtype.category;
    if (c !== 'float' && c !== 'complex') {
      throw fail(`mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${x.dtype.scalarTypeName}`);
    }
    wrapDim(-1, n, op);
    wrapDim(-2, n, op);
    // (a channels-last input is then restrided in place: see channelsLastMean)
    return { shape: [...x2.slice(0, -2), 1, 1], dtype: x.dtype, device: x.device, grad_fn: MEAN_DIM };
  }
  if (n !== 3 && n !== 4) throw fail(`adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got ${shapeStr(x2)}`);
  for (const i of [-2, -1]) {
    if (!(x2[n + i]! > 0)) {
      throw fail(
        `adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes ${shapeStr(x2)} with dimension ${n + i} being empty`,
      );
    }
  }
  const shape = [...x2.slice(0, -2), out[0]!, out[1]!];
  const empty = shape.includes(0);
  return { shape, dtype: empty ? x.dtype : poolDtype(x, 'adaptive_avg_pool2d', floatsAnd(), op), device: x.device, grad_fn: ADAPTIVE_AVG_2D };
}

/** F._list_with_default: None entries take the input's size. */
function listWithDefault(v: unknown, sizes: readonly number[], op: string): number | number[] {
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) throw torchError('TypeError', "object of type 'NoneType' has no len()", op);
  const out = v as (number | null)[];
  if (sizes.length <= out.length) throw torchError('ValueError', `Input dimension should be at least ${out.length + 1}`, op);
  const d = sizes.slice(sizes.length - out.length);
  return out.map((o, i) => (o === null ? d[i]! : o));
}

rule(F + 'adaptive_avg_pool2d', (a, op) => {
  const x = a.input as Tensor;
  const out = listWithDefault(a.output_size, x.shape, op);
  const size = pair(out, []);
  if (channelsLastMean(x, size)) return PENDING;
  return adaptiveAvg2d(x, x.shape, size, op);
});

rule(F + 'adaptive_avg_pool1d', (a, op) => {
  const x = a.input as Tensor;
  const out = listOf(a.output_size, []);
  checkDims23('adaptive_avg_pool1d', x, op);
  check1d('adaptive_avg_pool1d', 'output_size', out, op);
  const u = [...x.shape.slice(0, -1), 1, x.shape[x.ndim - 1]!];
  const r = adaptiveAvg2d(x, u, [1, out[0]!], op);
  const shape = [...r.shape];
  shape.splice(shape.length - 2, 1);
  return { ...r, shape, grad_fn: SQUEEZE_DIM };
});

rule(F + 'adaptive_max_pool2d', (a, op) => {
  const x = a.input as Tensor;
  const out = pair(listWithDefault(a.output_size, x.shape, op), []);
  const n = x.ndim;
  const fail = (m: string) => torchError('RuntimeError', m, op);
  if (n !== 3 && n !== 4) throw fail(`adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: ${shapeStr(x.shape)}`);
  for (let i = 1; i < n; i++) {
    if (!(x.shape[i]! > 0)) {
      throw fail(
        `adaptive_max_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes ${shapeStr(x.shape)} with dimension ${i} being empty`,
      );
    }
  }
  if (out.length !== 2) throw fail('adaptive_max_pool2d(): internal error: output_size.size() must be 2');
  const shape = [...x.shape.slice(0, -2), out[0]!, out[1]!];
  const neg = shape.find((s) => s < 0);
  if (neg !== undefined) throw fail(`Trying to create tensor with negative dimension ${neg}: ${shapeStr(shape)}`);
  return withIndices(a, { shape, dtype: poolDtype(x, 'adaptive_max_pool2d', floatsAnd(), op), device: x.device });
});


// F.max_pool1d_with_indices & co.: the same function with return_indices=True (values, indices)
for (const name of ['max_pool1d', 'max_pool2d', 'adaptive_max_pool2d']) {
  const base = RULES.get(F + name)!;
  rule(F + name + '_with_indices', (a, op) => base({ ...a, return_indices: true }, op));
}
