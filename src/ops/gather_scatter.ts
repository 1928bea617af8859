/**
 * gather / scatter and the index_* / masked_* / take / put families. The mirror checks
 * shapes, dims and dtypes with torch's messages; the index values themselves (out of range)
 * are data, so these ops record their call site (mayFail) and the runtime reports such errors.
 */
import { isTensor, PENDING, type OutSpec } from './dispatch.js';
import { ComplexValue } from '../transport/codec.js';
import { rule } from './rules.js';
import type { Tensor } from '../tensor/tensor.js';
import { is_grad_enabled } from '../autograd/grad_mode.js';
import { wrapDim, numel } from '../mirror/dims.js';
import { torchError } from '../errors.js';
import { broadcastShapes, sameShape } from '../mirror/broadcast.js';
import { commonDevice } from './pointwise.js';
import { expandCheck, fail, fmt, sizeAt } from './shape.js';
import { inplaceGrad, tensorArgs } from './linalg.js';

type Args = Record<string, unknown>;
type Check = (a: Args, op: string) => OutSpec | typeof PENDING;

const isIndexType = (t: Tensor) => t.dtype.name === 'int64' || t.dtype.name === 'int32';
/** ATen's ensure_nonempty_dim / ensure_nonempty_size (a 0-dim tensor counts as one element). */
const nonemptyDim = (n: number) => Math.max(n, 1);
function nonemptySize(t: Tensor, d: number, op: string): number {
  if (t.ndim === 0) return 1;
  return t.shape[wrapDim(d, t.ndim, op)]!;
}

const selfSpec = (x: Tensor, device = x.device): OutSpec => ({ shape: x.shape, dtype: x.dtype, device });

/** uint16/32/64: torch has no CPU kernels for this family; the runtime answers. */
const exotic = (t: Tensor) => t.dtype.name === 'uint16' || t.dtype.name === 'uint32' || t.dtype.name === 'uint64';

/**
 * masked_fill / index_fill with a value tensor that requires grad: autograd refuses an integral
 * result, while the in-place forms make even an integral self require grad (torch's behaviour).
 */
function valueGrad(x: Tensor, value: unknown, op: string, inplace: boolean): void {
  if (!isTensor(value) || !value.requires_grad || !is_grad_enabled()) return;
  if (x.dtype.category === 'float' || x.dtype.category === 'complex') return;
  if (!inplace) throw fail(`Autograd not support dtype: ${x.dtype.scalarTypeName}`, op);
  x._setMeta({ ...x._m!, requires_grad: true, is_leaf: false });
}

/** Register an op and its in-place form (leaf check first, as torch's autograd layer does). */
function withInplace(name: string, check: Check, inplaceCheck: Check = check): void {
  rule(name, check, { mayFail: true });
  rule(
    `${name}_`,
    (a, op) => {
      const self = a.input as Tensor;
      if (is_grad_enabled() && self.is_leaf && self.requires_grad) {
        throw fail('a leaf Variable that requires grad is being used in an in-place operation.', op);
      }
      const out = inplaceCheck(a, op);
      if (out === PENDING) return PENDING;
      inplaceGrad(self, tensorArgs(a));
      return { shape: self.shape, dtype: self.dtype, device: self.device, inplace: self, differentiable: out.differentiable };
    },
    { mayFail: true },
  );
}

// ---------------------------------------------------------------------------------------------
// gather / take_along_dim / take

function gatherShapeCheck(x: Tensor, dim: number, index: Tensor, op: string): void {
  const dims = nonemptyDim(x.ndim);
  if (dims !== nonemptyDim(index.ndim)) throw fail('Index tensor must have the same number of dimensions as input tensor', op);
  for (let i = 0; i < dims; i++) {
    if (i !== dim && nonemptySize(index, i, op) > nonemptySize(x, i, op)) {
      throw fail(`Size does not match at dimension ${i} expected index ${fmt(index.shape)} to be no larger than self ${fmt(x.shape)} apart from dimension ${dim}`, op);
    }
  }
}

function gatherSpec(x: Tensor, dimArg: number, index: Tensor, op: string): OutSpec | typeof PENDING {
  if (exotic(x)) return PENDING;
  const device = commonDevice([x, index], op);
  const dim = wrapDim(dimArg, x.ndim, op);
  if (numel(index.shape) > 0) {
    if (!isIndexType(index)) throw fail('gather(): Expected dtype int32/int64 for index', op);
    gatherShapeCheck(x, dim, index, op);
  }
  return { shape: index.shape, dtype: x.dtype, device };
}

rule('gather', (a, op) => gatherSpec(a.input as Tensor, a.dim as number, a.index as Tensor, op), { mayFail: true });

rule(
  'take_along_dim',
  (a, op) => {
    const x = a.input as Tensor;
    const idx = a.indices as Tensor;
    if (exotic(x)) return PENDING;
    const device = commonDevice([x, idx], op);
    if (a.dim === undefined || a.dim === null) {
      // self.view(-1).gather(0, indices.view(-1))
      const flat = [numel(idx.shape)];
      if (flat[0]! > 0 && !isIndexType(idx)) throw fail('gather(): Expected dtype int32/int64 for index', op);
      return { shape: flat, dtype: x.dtype, device };
    }
    if (x.ndim !== idx.ndim) {
      throw fail(
        `torch.take_along_dim(): input and indices should have the same number of dimensions, but got ${x.ndim} dimensions for input, and ${idx.ndim} dimensions for indices`,
        op,
      );
    }
    if (idx.dtype.name !== 'int64') throw fail(`torch.take_along_dim(): dtype of indices should be Long but got ${idx.dtype.scalarTypeName}`, op);
    const dim = wrapDim(a.dim as number, x.ndim, op);
    sizeAt(idx, dim, op);
    const selfSizes = [...x.shape];
    selfSizes[dim] = idx.shape[dim]!;
    const shape = broadcastShapes(selfSizes, idx.shape, op);
    const idxSizes = [...idx.shape];
    idxSizes[dim] = x.shape[dim]!;
    broadcastShapes(idxSizes, x.shape, op);
    return { shape, dtype: x.dtype, device };
  },
  { mayFail: true },
);

rule(
  'take',
  (a, op) => {
    const x = a.input as Tensor;
    const idx = a.index as Tensor;
    if (exotic(x)) return PENDING;
    const device = commonDevice([x, idx], op);
    if (idx.dtype.name !== 'int64') throw fail(`take(): Expected a long tensor for index, but got ${idx.dtype.scalarTypeName}`, op);
    if (numel(x.shape) === 0 && numel(idx.shape) !== 0) throw fail('take(): tried to take from an empty tensor', op, 'IndexError');
    return { shape: idx.shape, dtype: x.dtype, device };
  },
  { mayFail: true },
);

// ---------------------------------------------------------------------------------------------
// scatter / scatter_add / scatter_reduce

function scatterChecks(a: Args, op: string, reduce: 'old' | 'new' | undefined, inplace = false): OutSpec | typeof PENDING {
  const x = a.input as Tensor;
  const index = a.index as Tensor;
  const src = isTensor(a.src) ? a.src : undefined;
  if (exotic(x) || (a.value instanceof ComplexValue && x.dtype.category !== 'complex')) return PENDING;
  const device = commonDevice(src ? [x, index, src] : [x, index], op);
  const dim = wrapDim(a.dim as number, x.ndim, op);
  const indexNumel = numel(index.shape);
  if (indexNumel !== 0 && !isIndexType(index)) throw fail('scatter(): Expected dtype int32/int64 for index', op);
  if (src && x.dtype !== src.dtype) throw fail('scatter(): Expected self.dtype to be equal to src.dtype', op);
  if (indexNumel !== 0) {
    const dims = nonemptyDim(x.ndim);
    if (dims !== nonemptyDim(index.ndim)) throw fail('Index tensor must have the same number of dimensions as self tensor', op);
    let wrong = false;
    for (let d = 0; d < dims && !wrong; d++) {
      if (d !== dim && nonemptySize(index, d, op) > nonemptySize(x, d, op)) wrong = true;
    }
    if (!wrong && src) {
      for (let d = 0; d < dims && !wrong; d++) if (nonemptySize(index, d, op) > nonemptySize(src, d, op)) wrong = true;
    }
    if (src && nonemptyDim(src.ndim) !== nonemptyDim(index.ndim)) throw fail('Index tensor must have the same number of dimensions as src tensor', op);
    if (wrong) {
      const head = `Expected index ${fmt(index.shape)} to be no larger than self ${fmt(x.shape)} apart from dimension ${dim}`;
      throw fail(src ? `${head} and to be no larger size than src ${fmt(src.shape)}` : head, op);
    }
  }
  const r = a.reduce;
  if (reduce === 'old' && r !== undefined && r !== 'add' && r !== 'multiply') throw fail('reduce argument must be either add or multiply.', op);
  if (reduce === 'new') {
    if (!['sum', 'prod', 'mean', 'amax', 'amin'].includes(r as string)) {
      throw fail(`reduce argument must be either sum, prod, mean, amax or amin, got ${String(r)}`, op);
    }
    const kernel = (k: string) => torchError('NotImplementedError', `"${k}" not implemented for '${x.dtype.scalarTypeName}'`, op);
    if (r === 'mean' && x.dtype.name === 'bool') throw kernel(indexNumel > 0 ? 'scatter_gather_tensor_cpu_reduce_mean' : 'div_floor_cpu');
    if ((r === 'amax' || r === 'amin') && x.dtype.category === 'complex' && indexNumel > 0) throw kernel(`scatter_gather_tensor_cpu_reduce_${r}`);
    if (!inplace && x.dtype.category === 'complex' && is_grad_enabled() && (x.requires_grad || src!.requires_grad)) {
      throw fail('scatter_reduce does not support automatic differentiation for outputs with complex dtype.', op);
    }
  }
  return selfSpec(x, device);
}

withInplace('scatter', (a, op) => scatterChecks(a, op, 'old'));
withInplace('scatter_add', (a, op) => scatterChecks(a, op, undefined));
withInplace('scatter_reduce', (a, op) => scatterChecks(a, op, 'new'), (a, op) => scatterChecks(a, op, 'new', true));

// ---------------------------------------------------------------------------------------------
// index_select / index_add / index_copy / index_fill

rule(
  'index_select',
  (a, op) => {
    const x = a.input as Tensor;
    const index = a.index as Tensor;
    if (exotic(x)) return PENDING;
    const device = commonDevice([x, index], op);
    const dim = wrapDim(a.dim as number, x.ndim, op);
    const n = numel(index.shape);
    if (index.ndim > 1) throw fail('index_select(): Index is supposed to be a vector', op, 'IndexError');
    if (x.ndim === 0 && n !== 1) throw fail(`index_select(): Index to scalar can have only 1 value, got ${n} value(s)`, op);
    if (!isIndexType(index)) throw fail('index_select(): Expected dtype int32 or int64 for index', op);
    if (x.ndim > 1 && n > 0 && numel(x.shape) === 0 && x.shape[dim] === 0) {
      throw fail('index_select(): self indexing axis dim should be positive', op);
    }
    const shape = [...x.shape];
    if (x.ndim > 0) shape[dim] = n;
    return { shape, dtype: x.dtype, device };
  },
  { mayFail: true },
);

function indexAddChecks(a: Args, op: string): OutSpec | typeof PENDING {
  const x = a.input as Tensor;
  const index = a.index as Tensor;
  const src = a.source as Tensor;
  if (exotic(x)) return PENDING;
  const device = commonDevice([x, index, src], op);
  const dim = wrapDim(a.dim as number, x.ndim, op);
  const n = numel(index.shape);
  if (index.ndim > 1) {
    throw fail(
      `index_add_(): Index is supposed to be a vector, but got dim: ${index.ndim} with type: ${index.dtype.scalarTypeName} and size: ${fmt(index.shape)}`,
      op,
      'IndexError',
    );
  }
  if (!isIndexType(index)) throw fail(`index_add_(): Expected dtype int32/int64 for index but got: ${index.dtype.scalarTypeName}`, op);
  if (x.dtype !== src.dtype) {
    throw fail(`index_add_(): self (${x.dtype.scalarTypeName}) and source (${src.dtype.scalarTypeName}) must have the same scalar type`, op);
  }
  if (!(dim === 0 || dim < src.ndim)) {
    throw fail(`index_add_(): Indexing dim ${dim} is out of bounds of the source tensor with dim ${src.ndim}`, op);
  }
  if (n !== (src.ndim === 0 ? 1 : src.shape[dim])) {
    throw fail(`index_add_(): Number of indices (${n}) should be equal to source.size(dim): (${sizeAt(src, dim, op)}), for dim: ${dim}`, op);
  }
  const xs = [...x.shape];
  const ss = [...src.shape];
  if (src.ndim !== 0 && x.ndim !== 0) {
    xs.splice(dim, 1);
    ss.splice(dim, 1);
  }
  if (!sameShape(xs, ss)) {
    throw fail(
      `source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = ${fmt(x.shape)} source.shape = ${fmt(src.shape)}`,
      op,
    );
  }
  return selfSpec(x, device);
}

withInplace('index_add', indexAddChecks);

function indexCopyChecks(a: Args, op: string): OutSpec | typeof PENDING {
  const x = a.input as Tensor;
  const index = a.index as Tensor;
  const src = a.source as Tensor;
  if (exotic(x)) return PENDING;
  const device = commonDevice([x, index, src], op);
  const dim = wrapDim(a.dim as number, x.ndim, op);
  if (index.ndim >= 2) throw fail(`index_copy_(): Index should have dimension 1 or 0 (got ${index.ndim})`, op, 'IndexError');
  const n = numel(index.shape);
  if (src.ndim === 0 && n !== 1) {
    throw fail(`index_copy_(): When source is scalar, index should have one element (got ${n})`, op, 'IndexError');
  } else if (src.ndim !== x.ndim && src.ndim !== 0 && x.ndim !== 0) {
    throw fail(
      `index_copy_(): When source and destination are not scalars, their dimensionality must match. Source dimensionality (${src.ndim}), destination dimensionality (${x.ndim})`,
      op,
      'IndexError',
    );
  }
  if (index.dtype.name !== 'int64') throw fail(`index_copy_(): Expected a long tensor for index, but got ${index.dtype.scalarTypeName}`, op);
  if (x.dtype !== src.dtype) {
    throw fail(
      `index_copy_(): self and source expected to have the same dtype, but got (self) ${x.dtype.scalarTypeName} and (source) ${src.dtype.scalarTypeName}`,
      op,
    );
  }
  const xs = [...x.shape];
  if (xs.length > 0) xs.splice(dim, 1);
  const ss = [...src.shape];
  if (ss.length > 0) ss.splice(dim, 1);
  if (!sameShape(xs, ss)) {
    throw fail(
      `index_copy_(): Source/destination tensor must have same slice shapes. Destination slice shape: ${xs.join(' ')} at dimension ${dim} and source slice shape: ${ss.join(' ')} at dimension 0.`,
      op,
    );
  }
  if (!(src.ndim === 0 || n === src.shape[dim])) {
    throw fail(`index_copy_(): Number of indices (${n}) should be equal to source.size(dim) (${src.shape[dim]})`, op, 'IndexError');
  }
  return selfSpec(x, device);
}

withInplace('index_copy', indexCopyChecks);

function indexFillChecks(inplace: boolean) {
  return (a: Args, op: string): OutSpec | typeof PENDING => {
    const x = a.input as Tensor;
    const index = a.index as Tensor;
    const value = a.value;
    if (exotic(x)) return PENDING;
    const device = commonDevice(isTensor(value) ? [x, index, value] : [x, index], op);
    if (isTensor(value) && value.ndim !== 0) {
      throw fail(`index_fill_ only supports a 0-dimensional value tensor, but got tensor with ${value.ndim} dimension(s).`, op);
    }
    if (index.dtype.name !== 'int64') throw fail('index_fill_(): Expected dtype int64 for index.', op, 'IndexError');
    const complexValue = isTensor(value) ? value.dtype.category === 'complex' : value instanceof ComplexValue;
    if (complexValue && x.dtype.category !== 'complex') throw fail('index_fill_(): Converting complex Scalar to non-complex type is not supported', op);
    wrapDim(a.dim as number, Math.max(x.ndim, 1), op);
    if (index.ndim > 1) throw fail('Index has to be a vector/scalar', op);
    valueGrad(x, value, op, inplace);
    return selfSpec(x, device);
  };
}

withInplace('index_fill', indexFillChecks(false), indexFillChecks(true));


// ---------------------------------------------------------------------------------------------
// masked_fill / masked_scatter / put

/** masked_fill_ proper: value dims, the mask's dtype. */
function maskedFillCore(mask: Tensor, value: unknown, op: string): void {
  if (isTensor(value) && value.ndim !== 0) {
    throw fail(`masked_fill_ only supports a 0-dimensional value tensor, but got tensor with ${value.ndim} dimension(s).`, op);
  }
  if (mask.dtype.name !== 'bool') throw fail(`masked_fill_ only supports boolean masks, but got mask with dtype ${mask.dtype.cppTypeName}`, op);
}

/** The in-place forms write into self: the other operand must broadcast to self's shape. */
function broadcastInto(self: Tensor, other: Tensor, op: string): void {
  const shape = broadcastShapes(self.shape, other.shape, op);
  if (!sameShape(shape, self.shape)) throw fail(`output with shape ${fmt(self.shape)} doesn't match the broadcast shape ${fmt(shape)}`, op);
}

const valueTensors = (a: Args): Tensor[] => [a.input as Tensor, a.mask as Tensor, ...(isTensor(a.value) ? [a.value] : [])];

withInplace(
  'masked_fill',
  (a, op) => {
    const x = a.input as Tensor;
    const mask = a.mask as Tensor;
    if (exotic(x) || (a.value instanceof ComplexValue && x.dtype.category !== 'complex')) return PENDING;
    const device = commonDevice(valueTensors(a), op);
    const shape = broadcastShapes(mask.shape, x.shape, op);
    maskedFillCore(mask, a.value, op);
    valueGrad(x, a.value, op, false);
    return { shape, dtype: x.dtype, device };
  },
  (a, op) => {
    const x = a.input as Tensor;
    const mask = a.mask as Tensor;
    if (exotic(x) || (a.value instanceof ComplexValue && x.dtype.category !== 'complex')) return PENDING;
    const device = commonDevice(valueTensors(a), op);
    maskedFillCore(mask, a.value, op);
    broadcastInto(x, mask, op);
    valueGrad(x, a.value, op, true);
    return selfSpec(x, device);
  },
);

function sameDtypes(x: Tensor, src: Tensor, op: string): void {
  if (x.dtype !== src.dtype) {
    throw fail(`masked_scatter: expected self and source to have same dtypes but got${x.dtype.scalarTypeName} and ${src.dtype.scalarTypeName}`, op);
  }
}

function boolMask(mask: Tensor, op: string): void {
  if (mask.dtype.name !== 'bool') throw fail(`masked_scatter_ only supports boolean masks, but got mask with dtype ${mask.dtype.scalarTypeName}`, op);
}

withInplace(
  'masked_scatter',
  (a, op) => {
    const [x, mask, src] = [a.input, a.mask, a.source] as Tensor[];
    if (exotic(x!)) return PENDING;
    const device = commonDevice([x!, mask!, src!], op);
    const shape = broadcastShapes(mask!.shape, x!.shape, op);
    sameDtypes(x!, src!, op);
    boolMask(mask!, op);
    return { shape, dtype: x!.dtype, device };
  },
  (a, op) => {
    const [x, mask, src] = [a.input, a.mask, a.source] as Tensor[];
    if (exotic(x!)) return PENDING;
    const device = commonDevice([x!, mask!, src!], op);
    sameDtypes(x!, src!, op);
    expandCheck(mask!, x!.shape, op); // expand_inplace(self, mask)
    boolMask(mask!, op);
    return selfSpec(x!, device);
  },
);

withInplace('put', (a, op) => {
  const [x, index, src] = [a.input, a.index, a.source] as Tensor[];
  if (exotic(x!)) return PENDING;
  const device = commonDevice([x!, index!, src!], op);
  if (index!.dtype.name !== 'int64') throw fail(`put_(): Expected a long tensor for index, but got ${index!.dtype.scalarTypeName}`, op);
  if (x!.dtype !== src!.dtype) {
    throw fail(`put_(): self and source expected to have the same dtype, but got self.dtype = ${x!.dtype.scalarTypeName} and source.dtype = ${src!.dtype.scalarTypeName}`, op);
  }
  const [ns, ni] = [numel(src!.shape), numel(index!.shape)];
  if (ns !== ni) {
    throw fail(`put_(): Expected source and index to have the same number of elements, but got source.numel() = ${ns}, index.numel() = ${ni}`, op, 'IndexError');
  }
  if (numel(x!.shape) === 0 && ni !== 0) throw fail('put_(): Tried to put elements into an empty tensor', op, 'IndexError');
  return selfSpec(x!, device);
});
