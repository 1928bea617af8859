/**
 * torch.nn.functional distances and attention: prelu, normalize, cosine_similarity,
 * pairwise_distance, pdist, scaled_dot_product_attention.
 */
import { PENDING } from './dispatch.js';
import { GRAD_FN_FROM_RUNTIME } from '../tensor/meta.js';
import { rule } from './rules.js';
import { torchError } from '../errors.js';
import { broadcastShapes, sameShape } from '../mirror/broadcast.js';
import { wrapDim } from '../mirror/dims.js';
import { promoteTypes, resultType } from '../mirror/promotion.js';
import { get_default_dtype } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { cppDouble, notImplemented, realOf, shapeStr } from './nn_util.js';
import { is_grad_enabled } from '../autograd/grad_mode.js';
import { backward } from '../mirror/grad_fn.js';
import { matmulNode } from './linalg.js';
import { anyStrided } from '../mirror/layout.js';

const FLASH_CPU = backward('_scaled_dot_product_flash_attention_for_cpu');
const TO_COPY = backward('_to_copy');

/**
 * sdp_utils_cpp's use_flash_attention_cpp: 4-d inputs of one batch size and head count (or
 * grouped heads), no dropout, one head dim, non-empty sequences, a 2-d or 4-d mask that does
 * not require grad. (The flash backend is assumed enabled, torch's default.)
 */
function cpuFlash(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, dropout: number, gqa: boolean): boolean {
  if (dropout !== 0 || q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) return false;
  const [b, h, l, e] = q.shape as [number, number, number, number];
  const [kb, kh, s, ke] = k.shape as [number, number, number, number];
  const [vb, vh, , ve] = v.shape as [number, number, number, number];
  if (kb !== b || vb !== b) return false;
  if (gqa ? !(kh === vh && kh > 0 && h % kh === 0) : !(kh === h && vh === h)) return false;
  if (mask) {
    const m = mask.shape;
    const n = m.length;
    if (mask.requires_grad || n < 2) return false;
    if ((m[n - 2] !== l && m[n - 2] !== 1) || (m[n - 1] !== s && m[n - 1] !== 1)) return false;
    if (n !== 2 && !(n === 4 && (m[0] === 1 || m[0] === b) && (m[1] === 1 || m[1] === h))) return false;
  }
  return ke === e && ve === e && l !== 0 && s !== 0;
}

/**
 * The node of scaled_dot_product_attention's result on CPU: the flash kernel's, else the math
 * path's, which ends in matmul(softmax(q @ k.mT + mask), v), cast back from float32 for
 * float16/bfloat16 inputs.
 */
function sdpaNode(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, dropout: number, gqa: boolean): string {
  if (cpuFlash(q, k, v, mask, dropout, gqa)) return FLASH_CPU;
  if (q.dtype.name === 'float16' || q.dtype.name === 'bfloat16') return TO_COPY;
  // grouped query attention repeats k's and v's heads up to q's
  const grouped = gqa && q.ndim >= 3 && k.ndim >= 3 && v.ndim >= 3;
  const withHeads = (s: readonly number[]) => (grouped ? [...s.slice(0, -3), q.shape[q.ndim - 3]!, ...s.slice(-2)] : s);
  const ks = withHeads(k.shape);
  const vs = withHeads(v.shape);
  const scores = [...broadcastShapes(q.shape.slice(0, -2), ks.slice(0, -2)), q.shape[q.ndim - 2]!, ks[ks.length - 2]!];
  const attn = { shape: scores, dtype: q.dtype, requires_grad: q.requires_grad || k.requires_grad || (mask?.requires_grad ?? false) };
  return matmulNode(attn, { shape: vs, dtype: v.dtype, requires_grad: v.requires_grad });
}

const F = 'nn.functional.';
const operand = (t: Tensor) => ({ dtype: t.dtype, ndim: t.ndim });

rule(F + 'prelu', (a, op) => {
  const x = a.input as Tensor;
  const w = a.weight as Tensor;
  if (x.device !== w.device) return PENDING;
  const fail = (m: string) => torchError('RuntimeError', m, op);
  if (x.dtype !== w.dtype) throw fail(`prelu: Type promoting not supported. Got ${x.dtype.scalarTypeName} and ${w.dtype.scalarTypeName}`);
  const n = w.shape.reduce((p, v) => p * v, 1);
  if (n !== 1) {
    if (x.ndim === 0) throw fail('Not allow zero-dim input tensor.');
    const channels = x.ndim > 1 ? x.shape[1]! : 1;
    if (channels !== n) throw fail(`Mismatch of parameter numbers and input channel size. Found parameter numbers = ${n} and channel size = ${channels}.`);
  }
  if (w.ndim > 1) throw fail(`prelu: Expected \`weight\` to be a scalar or 1D tensor, but got: ndim = ${w.ndim}`);
  if (x.dtype.category !== 'float') throw notImplemented('prelu_cpu', x.dtype, op);
  return { shape: x.shape, dtype: x.dtype, device: x.device };
});

/** linalg.vector_norm's check of an empty reduced dim for orders without an identity. */
function normEmptyCheck(x: readonly number[], dim: number, p: number, op: string, shown = dim): void {
  if (x.length > 0 && x[dim] === 0 && (p < 0 || p === Infinity)) {
    throw torchError(
      'RuntimeError',
      `linalg.vector_norm cannot compute the ${cppDouble(p)} norm on the dimension ${shown}because this dimension is empty and the operation does not have an identity`,
      op,
    );
  }
}

rule(F + 'normalize', (a, op) => {
  const x = a.input as Tensor;
  const p = (a.p as number | undefined) ?? 2;
  const c = x.dtype.category;
  if (c !== 'float' && c !== 'complex') {
    throw torchError('RuntimeError', `linalg.vector_norm: Expected a floating point or complex tensor as input. Got ${x.dtype.scalarTypeName}`, op);
  }
  const given = (a.dim as number | undefined) ?? 1;
  const d = wrapDim(given, x.ndim, op);
  normEmptyCheck(x.shape, d, p, op, given);
  return { shape: x.shape, dtype: x.dtype, device: x.device };
});

rule(F + 'cosine_similarity', (a, op) => {
  const x1 = a.x1 as Tensor;
  const x2 = a.x2 as Tensor;
  if (x1.device !== x2.device) return PENDING;
  const common = resultType(operand(x1), operand(x2));
  if (!common) return PENDING;
  if (common.category !== 'float') {
    throw torchError('RuntimeError', `expected common dtype to be floating point, yet common dtype is ${common.scalarTypeName}`, op);
  }
  const t1 = x1.dtype.category === 'float' ? x1.dtype : common;
  const t2 = x2.dtype.category === 'float' ? x2.dtype : common;
  const shape = broadcastShapes(x1.shape, x2.shape, op);
  const d = wrapDim((a.dim as number | undefined) ?? 1, shape.length, op);
  return { shape: shape.filter((_, i) => i !== d), dtype: promoteTypes(t1, t2)!, device: x1.device };
});

rule(F + 'pairwise_distance', (a, op) => {
  const x1 = a.x1 as Tensor;
  const x2 = a.x2 as Tensor;
  if (x1.device !== x2.device) return PENDING;
  if (x1.dtype.category === 'bool' || x2.dtype.category === 'bool') return PENDING; // subtraction's errors
  const shape = broadcastShapes(x1.shape, x2.shape, op);
  // norm(x1 - x2 + eps, p, last dim, keepdim)
  let t = resultType(operand(x1), operand(x2));
  if (!t) return PENDING;
  if (t.category === 'int') t = get_default_dtype();
  const n = Math.max(x1.ndim, x2.ndim);
  const p = (a.p as number | undefined) ?? 2;
  if (n > 0) normEmptyCheck(shape, n - 1, p, op);
  const keep = a.keepdim === true;
  const out = n === 0 ? [] : keep ? [...shape.slice(0, -1), 1] : shape.slice(0, -1);
  return { shape: out, dtype: realOf(t), device: x1.device };
});

rule(F + 'pdist', (a, op) => {
  const x = a.input as Tensor;
  const fail = (m: string) => torchError('RuntimeError', m, op);
  if (x.ndim !== 2) throw fail(`pdist only supports 2D tensors, got: ${x.ndim}D`);
  if (x.dtype.category !== 'float') throw fail('pdist only supports floating-point dtypes');
  const p = (a.p as number | undefined) ?? 2;
  if (!(p >= 0)) throw fail('pdist only supports non-negative p values');
  const n = x.shape[0]!;
  if (x.dtype.name !== 'float32' && x.dtype.name !== 'float64') {
    if (n <= 1 || x.shape[1] === 0) return PENDING;
    throw notImplemented('pdist', x.dtype, op);
  }
  return { shape: [(n * (n - 1)) / 2], dtype: x.dtype, device: x.device };
});

rule(F + 'scaled_dot_product_attention', (a, op) => {
  const q = a.query as Tensor;
  const k = a.key as Tensor;
  const v = a.value as Tensor;
  const mask = (a.attn_mask as Tensor | null | undefined) ?? null;
  if (k.device !== q.device || v.device !== q.device || (mask && mask.device !== q.device)) return PENDING;
  const fail = (m: string) => torchError('RuntimeError', m, op);
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2) {
    throw fail(`Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: ${q.ndim} key.dim: ${k.ndim} and value.dim: ${v.ndim} instead.`);
  }
  if (q.dtype !== k.dtype || q.dtype !== v.dtype) {
    throw fail(
      `Expected query, key, and value to have the same dtype, but got query.dtype: ${q.dtype.cppTypeName} key.dtype: ${k.dtype.cppTypeName} and value.dtype: ${v.dtype.cppTypeName} instead.`,
    );
  }
  if (mask && mask.dtype.name !== 'bool' && mask.dtype !== q.dtype) {
    throw fail(
      `Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: ${mask.dtype.cppTypeName} and  query.dtype: ${q.dtype.cppTypeName} instead.`,
    );
  }
  if (mask && a.is_causal === true) return PENDING; // refused or not depending on the backend torch picks
  if (q.dtype.category !== 'float') return PENDING;
  const [L, E] = q.shape.slice(-2) as [number, number];
  const [S, Ek] = k.shape.slice(-2) as [number, number];
  const [Sv, Ev] = v.shape.slice(-2) as [number, number];
  if (E !== Ek || S !== Sv) return PENDING;
  let qb = q.shape.slice(0, -2);
  let kb = k.shape.slice(0, -2);
  let vb = v.shape.slice(0, -2);
  if (a.enable_gqa === true && q.ndim >= 3 && k.ndim >= 3 && v.ndim >= 3) {
    const hq = qb[qb.length - 1]!;
    const hk = kb[kb.length - 1]!;
    const hv = vb[vb.length - 1]!;
    if (hk === 0 || hv === 0 || hq % hk !== 0 || hq % hv !== 0) return PENDING;
    kb = [...kb.slice(0, -1), hq];
    vb = [...vb.slice(0, -1), hq];
    qb = [...qb];
  }
  let batch: readonly number[];
  try {
    batch = broadcastShapes(broadcastShapes(qb, kb), vb);
  } catch {
    return PENDING; // which pair torch compares first decides the words
  }
  if (mask) {
    const scores = [...broadcastShapes(qb, kb), L, S];
    const b = broadcastShapes(scores, mask.shape, op);
    if (!sameShape(b, scores)) throw fail(`output with shape ${shapeStr(scores)} doesn't match the broadcast shape ${shapeStr(b)}`);
  }
  const out = { shape: [...batch, L, Ev], dtype: q.dtype, device: q.device };
  const records = is_grad_enabled() && [q, k, v, mask].some((t) => t?.requires_grad);
  if (!records) return out;
  // on CUDA the backend (flash, memory-efficient, cuDNN, math) depends on the GPU and on
  // global switches, and so do the node and the output's layout: the runtime's reply names the node
  if (!q.device.startsWith('cpu')) return { ...out, grad_fn: GRAD_FN_FROM_RUNTIME, contiguous: false };
  const dropout = (a.dropout_p as number | undefined) ?? 0;
  // the flash kernel also wants a last-dim stride of 1, which a maybe non-contiguous input may lack
  if (anyStrided([q, k, v]) && cpuFlash(q, k, v, mask, dropout, a.enable_gqa === true)) return { ...out, grad_fn: GRAD_FN_FROM_RUNTIME, contiguous: false };
  return { ...out, grad_fn: sdpaNode(q, k, v, mask, dropout, a.enable_gqa === true) };
});
