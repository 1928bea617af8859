/**
 * torch.nn.functional pad and interpolate: output sizes and the checks of ATen's padding
 * (PadNd.cpp, ReflectionPad.cpp, ReplicationPadding.cpp) and upsampling (UpSample.h), and of
 * F.interpolate's Python wrapper, in their order, with their texts.
 */
import { PENDING } from './dispatch.js';
import { rule } from './rules.js';
import { torchError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { notImplemented, pyFloat, shapeStr } from './nn_util.js';
import { adaptiveAvg2d, channelsLastMean, SQUEEZE_DIM } from './nn_pool.js';
import { backward } from '../mirror/grad_fn.js';

const CONSTANT_PAD = backward('constant_pad_nd');
/** circular padding copies slices of the input into a new tensor */
const COPY_SLICES = 'CopySlices';
/** reflection_pad{1,2,3}d / replication_pad{1,2,3}d by the number of padded dims */
const PAD_NODE: Record<string, string[]> = {
  reflect: [1, 2, 3].map((d) => backward(`reflection_pad${d}d`)),
  replicate: [1, 2, 3].map((d) => backward(`replication_pad${d}d`)),
};

const F = 'nn.functional.';

const listOf = (v: unknown, dflt: number[]): number[] =>
  v === undefined || v === null ? dflt : typeof v === 'number' ? [v] : [...(v as number[])];

// ---- pad ---------------------------------------------------------------------------------------

rule(F + 'pad', (a, op) => {
  const x = a.input as Tensor;
  const pad = listOf(a.pad, []);
  const mode = (a.mode as string | undefined) ?? 'constant';
  const fail = (m: string) => torchError('RuntimeError', m, op);
  if (!['constant', 'reflect', 'replicate', 'circular'].includes(mode)) {
    throw torchError('NotImplementedError', `Unrecognised padding mode ${mode}`, op);
  }
  const n = x.ndim;
  if (pad.length % 2 !== 0) throw fail('Padding length must be divisible by 2');
  if (pad.length > n * 2) {
    throw fail(`Padding length should be less than or equal to two times the input dimension but got padding length ${pad.length} and input of dimension ${n}`);
  }
  const sh = x.shape;
  const same = { dtype: x.dtype, device: x.device };
  if (mode === 'constant') return { shape: constantPad(sh, pad, op), ...same, grad_fn: CONSTANT_PAD };
  const value = a.value as number | null | undefined;
  if (value !== undefined && value !== null && value !== 0) throw fail(`Padding mode "${mode}" doesn't take in value argument`);
  const dims = pad.length / 2;
  if (!(dims >= 1 && dims <= 3 && (n === dims + 1 || n === dims + 2))) {
    throw torchError(
      'NotImplementedError',
      `Padding size ${pad.length} is not supported for ${n}D input tensor.\n` +
        'Supported combinations for non-constant padding:\n' +
        '  - 2D or 3D input: padding size = 2 (pads last dimension)\n' +
        '  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n' +
        '  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)',
      op,
    );
  }
  const out = [...sh];
  if (mode === 'circular') {
    // negative pads can make torch's circular copy overlap itself (it raises): leave them to torch
    if (pad.some((p) => p < 0)) return PENDING;
    const lead = n - dims;
    for (let i = 0; i < dims; i++) {
      const l = pad[2 * (dims - i - 1)]!;
      const r = pad[2 * (dims - i - 1) + 1]!;
      const size = sh[lead + i]!;
      out[lead + i] = size + l + r;
      if (!(l <= size && r <= size)) throw fail('Padding value causes wrapping around more than once.');
      if (out[lead + i]! < 0) throw fail('Negative padding value is resulting in an empty dimension');
    }
    return { shape: out, ...same, grad_fn: COPY_SLICES };
  }
  // reflection_pad / replication_pad: check_valid_input, then (reflect) pads below each size
  const batch = n === dims + 2;
  const valid = batch ? sh.slice(1).every((s) => s !== 0) : sh.every((s) => s !== 0);
  if (!valid) {
    throw fail(
      `Expected ${dims + 1}D or ${dims + 2}D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: ${shapeStr(sh)}`,
    );
  }
  if (pad.some((p) => p < 0)) {
    if (dims !== 1) return PENDING; // the 2-d and 3-d kernels treat negative pads each their own way
    const w = sh[n - 1]!;
    const [l, r] = [pad[0]!, pad[1]!];
    if (mode === 'reflect' && !(l < w && r < w)) {
      throw fail(`Argument #4: Padding size should be less than the corresponding input dimension, but got: padding (${l}, ${r}) at dimension ${n - 1} of input ${shapeStr(sh)}`);
    }
    if (w + l + r < 1) throw fail(`input (W: ${w}) is too small. Calculated output W: ${w + l + r}`);
  }
  if (mode === 'reflect') {
    for (let i = 0; i < dims; i++) {
      const d = n - 1 - i; // W, then H, then D
      const [l, r] = [pad[2 * i]!, pad[2 * i + 1]!];
      if (!(l < sh[d]! && r < sh[d]!)) {
        throw fail(
          `Argument #${4 + 2 * i}: Padding size should be less than the corresponding input dimension, but got: padding (${l}, ${r}) at dimension ${d} of input ${shapeStr(sh)}`,
        );
      }
    }
  }
  for (let i = 0; i < dims; i++) out[n - 1 - i]! += pad[2 * i]! + pad[2 * i + 1]!;
  if (x.dtype.category === 'bool') throw notImplemented(`${mode === 'reflect' ? 'reflection' : 'replication'}_pad${dims}d`, x.dtype, op);
  return { shape: out, ...same, grad_fn: PAD_NODE[mode]![dims - 1]! };
});

/** ATen's constant_pad_nd: negative pads narrow the input first. */
export function constantPad(sh: readonly number[], pad: number[], op: string): number[] {
  const n = sh.length;
  const lp = pad.length / 2;
  const cur = [...sh];
  let allNonPositive = true;
  const narrow = (i: number, start: number, length: number) => {
    if (length < 0) throw torchError('RuntimeError', 'narrow(): length must be non-negative.', op);
    const size = cur[i]!;
    if (!(-size <= start && start <= size)) {
      throw torchError('IndexError', `start out of range (expected to be in range of [${-size}, ${size}], but got ${start})`, op);
    }
    const s = start < 0 ? start + size : start;
    if (!(s <= size - length)) {
      throw torchError('RuntimeError', `start (${s}) + length (${length}) exceeds dimension size (${size}).`, op);
    }
    cur[i] = length;
  };
  for (let i = n - lp; i < n; i++) {
    const idx = 2 * (n - i - 1);
    if (pad[idx]! < 0) narrow(i, -pad[idx]!, cur[i]! + pad[idx]!);
    else if (pad[idx] !== 0) allNonPositive = false;
    if (pad[idx + 1]! < 0) narrow(i, 0, cur[i]! + pad[idx + 1]!);
    else if (pad[idx + 1] !== 0) allNonPositive = false;
  }
  if (allNonPositive) return cur;
  const out = sh.slice(0, n - lp);
  for (let i = 0; i < lp; i++) {
    const idx = pad.length - (i + 1) * 2;
    const size = sh[n - lp + i]!;
    const nd = size + pad[idx]! + pad[idx + 1]!;
    if (!(nd > 0)) {
      throw torchError(
        'RuntimeError',
        `The input size ${size}, plus negative padding ${pad[idx]} and ${pad[idx + 1]} resulted in a negative output size, which is invalid. Check dimension ${n - lp + i} of your input.`,
        op,
      );
    }
    out.push(nd);
  }
  return out;
}

// ---- interpolate -------------------------------------------------------------------------------

/** The upsample kernel F.interpolate calls, by mode and number of spatial dims. */
const UPSAMPLE: Record<string, string> = {
  nearest: 'upsample_nearest',
  'nearest-exact': '_upsample_nearest_exact',
  linear: 'upsample_linear',
  bilinear: 'upsample_bilinear',
  bicubic: 'upsample_bicubic',
  trilinear: 'upsample_trilinear',
};
const UPSAMPLE_NODE = new Map<string, string>();
function upsampleNode(mode: string, dim: number, antialias: boolean): string {
  const key = `${mode}${dim}${antialias}`;
  let name = UPSAMPLE_NODE.get(key);
  if (name === undefined) {
    const kernel = `${UPSAMPLE[mode]!}${dim}d`;
    UPSAMPLE_NODE.set(key, (name = backward(antialias ? `_${kernel}_aa` : kernel)));
  }
  return name;
}

const MODES = 'nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact';
const pyList = (v: number[]) => `[${v.map((x) => pyFloat(x)).join(', ')}]`;

rule(F + 'interpolate', (a, op) => {
  const x = a.input as Tensor;
  const mode = (a.mode as string | undefined) ?? 'nearest';
  const size = a.size as number | number[] | null | undefined;
  const scale = a.scale_factor as number | number[] | null | undefined;
  const recompute = a.recompute_scale_factor === true;
  const value = (m: string) => torchError('ValueError', m, op);
  if (['nearest', 'area', 'nearest-exact'].includes(mode)) {
    if (a.align_corners !== undefined && a.align_corners !== null) {
      throw value('align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear');
    }
  }
  const dim = x.ndim - 2;
  const spatial = x.shape.slice(2);
  let outSize: number[] | undefined;
  let scales: number[] | undefined;
  const given = (v: unknown) => v !== undefined && v !== null;
  if (given(size) && given(scale)) throw value('only one of size or scale_factor should be defined');
  if (given(size)) {
    if (Array.isArray(size)) {
      if (size.length !== dim) {
        throw value(
          `Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of ${pyList(spatial)} and output size of ${pyList(size)}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.`,
        );
      }
      outSize = size;
    } else outSize = Array(Math.max(dim, 0)).fill(size);
  } else if (given(scale)) {
    if (Array.isArray(scale)) {
      if (scale.length !== dim) {
        throw value(
          `Input and scale_factor must have the same number of spatial dimensions, but got input with spatial dimensions of ${pyList(spatial)} and scale_factor of shape ${pyList(scale)}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.`,
        );
      }
      scales = scale;
    } else scales = Array(Math.max(dim, 0)).fill(scale);
  } else throw value('either size or scale_factor should be defined');
  if (recompute && given(size)) throw value('recompute_scale_factor is not meaningful with an explicit size.');
  if (scales && (recompute || mode === 'area')) {
    // Python's int(size * scale); the C++ kernels do the same with the scale
    outSize = scales.map((s, i) => Math.trunc(spatial[i]! * s));
    scales = undefined;
  }
  const antialias = a.antialias === true;
  if (antialias && !((mode === 'bilinear' || mode === 'bicubic') && x.ndim === 4)) {
    throw value('Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor as input');
  }
  const n = x.ndim;
  const want: Record<string, number> = { linear: 3, bilinear: 4, bicubic: 4, trilinear: 5 };
  const known = ['nearest', 'nearest-exact', 'area'].includes(mode) ? n >= 3 && n <= 5 : want[mode] === n;
  if (!known) {
    if (n >= 3 && n <= 5 && want[mode] !== undefined && mode !== 'bicubic') {
      throw torchError('NotImplementedError', `Got ${n}D input, but ${mode} mode needs ${want[mode]}D input`, op);
    }
    throw torchError(
      'NotImplementedError',
      `Input Error: Only 3D, 4D and 5D input Tensors supported (got ${n}D) for the modes: ${MODES} (got ${mode})`,
      op,
    );
  }
  const out = outSize ?? scales!.map((s, i) => spatial[i]! * s);
  if (out.some((o) => !Number.isFinite(o) || Math.abs(o) >= 2 ** 63)) return PENDING;
  const osz = out.map((o) => Math.trunc(o));
  if (mode === 'area') {
    if (n === 5) return PENDING; // adaptive_avg_pool3d
    if (n === 3) {
      const r = adaptiveAvg2d(x, [...x.shape.slice(0, -1), 1, x.shape[2]!], [1, osz[0]!], op);
      const shape = [...r.shape];
      shape.splice(shape.length - 2, 1);
      return { ...r, shape, grad_fn: SQUEEZE_DIM };
    }
    if (channelsLastMean(x, osz)) return PENDING;
    return adaptiveAvg2d(x, x.shape, osz, op);
  }
  // upsample_{1,2,3}d_common_check
  const names = ['D', 'H', 'W'].slice(3 - dim);
  const ins = names.map((nm, i) => `${nm}: ${spatial[i]}`).join(', ');
  const outs = names.map((nm, i) => `${nm}: ${osz[i]}`).join(', ');
  if (!(spatial.every((s) => s > 0) && osz.every((s) => s > 0))) {
    const msg =
      dim === 1
        ? `Input and output sizes should be greater than 0, but got input (${ins}) and output (${outs})`
        : `Input and output sizes should be greater than 0, but got input (${ins}) output (${outs})`;
    throw torchError('RuntimeError', msg, op);
  }
  if (x.shape[1] === 0) {
    throw torchError('RuntimeError', `Non-empty ${n}D data tensor expected but got a tensor with sizes ${shapeStr(x.shape)}`, op);
  }
  const t = x.dtype;
  let kernel: string;
  let ok: boolean;
  if (antialias) {
    // (float16/bfloat16 are refused by some resizes only)
    if (t.name === 'float16' || t.name === 'bfloat16') return PENDING;
    kernel = 'compute_index_ranges_weights';
    ok = t.name === 'uint8' || t.name === 'float32' || t.name === 'float64';
  } else if (mode === 'nearest' || mode === 'nearest-exact') {
    kernel = n === 4 ? 'upsample_nearest2d_channels_last' : 'compute_indices_weights_nearest';
    ok = t.category === 'float' || t.name === 'uint8';
  } else if (mode === 'bilinear') {
    kernel = 'upsample_bilinear2d_channels_last';
    ok = t.category === 'float' || t.name === 'uint8';
  } else if (mode === 'bicubic') {
    kernel = 'compute_indices_weights_cubic';
    ok = t.category === 'float' || t.name === 'uint8';
  } else {
    kernel = 'compute_indices_weights_linear';
    ok = t.category === 'float';
  }
  if (!ok) throw notImplemented(kernel, t, op);
  return { shape: [...x.shape.slice(0, 2), ...osz], dtype: t, device: x.device, grad_fn: upsampleNode(mode, dim, antialias) };
});
