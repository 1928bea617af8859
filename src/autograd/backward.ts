/**
 * backward() and torch.autograd.grad(): queued like any op (no round trip), checked here the
 * way torch checks them, and the local view of which tensors now hold a .grad is updated from
 * the mirror's graph (graph.ts).
 */
import { Tensor, newTensor } from '../tensor/tensor.js';
import { binder } from '../nn/args.js';
import { pendingCall, sessionOf, strictCheck } from '../ops/dispatch.js';
import { ArgumentError, torchError } from '../errors.js';
import { sameShape } from '../mirror/broadcast.js';
import { forgetGraph, link, reachable, receivesGrad } from './graph.js';
import { gradMeta, markGrad } from './grad.js';
import { restate } from '../py/touched.js';

export interface BackwardOptions {
  gradient?: Tensor | null;
  retain_graph?: boolean | null;
  create_graph?: boolean;
  inputs?: Tensor | Tensor[] | null;
}

export interface GradOptions {
  grad_outputs?: Tensor | (Tensor | null)[] | null;
  retain_graph?: boolean | null;
  create_graph?: boolean;
  allow_unused?: boolean | null;
  materialize_grads?: boolean;
}

function list<T>(v: T | T[] | null | undefined): T[] {
  return v === null || v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** torch's checks on the roots of a backward pass and their gradients. */
function checkRoots(roots: Tensor[], grads: (Tensor | null | undefined)[], op: string): void {
  if (roots.length === 0) throw new ArgumentError(`${op}(): expected at least one tensor to differentiate`);
  roots.forEach((r, i) => {
    if (!(r instanceof Tensor)) throw new ArgumentError(`${op}(): outputs must be Tensors`);
    r._check();
    const m = r._m;
    if (m === undefined) return; // pending: the runtime checks
    if (!m.requires_grad) throw torchError('RuntimeError', `element ${i} of tensors does not require grad and does not have a grad_fn`, op);
    const g = grads[i];
    if (g === null || g === undefined) {
      if (m.shape.length !== 0 && m.shape.some((s) => s !== 1)) {
        throw torchError('RuntimeError', 'grad can be implicitly created only for scalar outputs', op);
      }
    } else {
      g._check();
      const gm = g._m;
      if (gm !== undefined && !sameShape(gm.shape, m.shape)) {
        throw torchError('RuntimeError', `Mismatch in shape: grad_output[${i}] has a shape of torch.Size([${gm.shape.join(', ')}]) and output[${i}] has a shape of torch.Size([${m.shape.join(', ')}]).`, op);
      }
    }
  });
}

// Python's signatures, bound like any nn call (positionals, then a keyword object)
const bindBackward = binder<BackwardOptions>('Tensor.backward(Tensor? gradient=None, bool? retain_graph=None, bool create_graph=False, Tensor|Tensor[]? inputs=None)');
const bindGrad = binder<GradOptions & { outputs: Tensor | Tensor[]; inputs: Tensor | Tensor[]; is_grads_batched: boolean }>(
  'autograd.grad(Tensor|Tensor[] outputs, Tensor|Tensor[] inputs, Tensor|Tensor?[]? grad_outputs=None, bool? retain_graph=None, bool create_graph=False, bool only_inputs=True, bool? allow_unused=None, bool is_grads_batched=False, bool materialize_grads=False)',
);

/** torch.autograd.backward(tensors, grad_tensors, retain_graph, create_graph, inputs). */
export function backward(
  tensors: Tensor | Tensor[],
  grad_tensors?: Tensor | (Tensor | null)[] | null,
  opts: { retain_graph?: boolean | null; create_graph?: boolean; inputs?: Tensor | Tensor[] | null } = {},
): void {
  const roots = list(tensors);
  const grads = list(grad_tensors);
  const op = 'autograd.backward';
  checkRoots(roots, grads, op);
  const inputs = list(opts.inputs);
  const s = sessionOf([...roots, ...(grads.filter((g) => g instanceof Tensor) as Tensor[]), ...inputs]);
  s.call(null, op, [roots, grads.length ? grads : null, opts.retain_graph ?? null, opts.create_graph ?? false, null, inputs.length ? inputs : null], null, 0, true);
  markReceivers(roots, inputs, opts.create_graph ?? false, opts.retain_graph ?? opts.create_graph ?? false);
}

/** After a backward pass: every leaf reached (or each given input) now holds a .grad; the graph is freed unless retained. */
function markReceivers(roots: Tensor[], inputs: Tensor[], createGraph: boolean, retainGraph: boolean): void {
  const graph = reachable(roots);
  // a tensor whose .grad is being re-read after a Python call: read it again after this pass
  let again: Tensor[] | undefined;
  if (inputs.length > 0) for (const t of inputs) t._gradState === 3 ? (again ??= []).push(t) : markGrad(t, createGraph, roots);
  else
    for (const t of graph) {
      if (receivesGrad(t)) markGrad(t, createGraph, roots);
      else if (t._gradState === 3) (again ??= []).push(t);
    }
  if (again !== undefined) restate(again);
  if (!retainGraph) forgetGraph(graph);
}

/**
 * torch.autograd.grad(outputs, inputs, grad_outputs?, {retain_graph, create_graph, allow_unused,
 * materialize_grads}): the gradients of outputs with respect to inputs, one per input (null for an
 * unused input with allow_unused). With create_graph the results' autograd flags come from the
 * runtime (they depend on the functions differentiated).
 */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], ...rest: unknown[]): (Tensor | null)[] {
  const o = bindGrad([outputs, inputs, ...rest]);
  const op = 'autograd.grad';
  if (o.is_grads_batched) throw new ArgumentError(`${op}(): is_grads_batched=True is not supported`);
  const outs = list(o.outputs);
  const ins = list(o.inputs);
  const gouts = list(o.grad_outputs);
  checkRoots(outs, gouts, op);
  const used = reachable(outs);
  for (const t of ins) {
    if (!(t instanceof Tensor)) throw new ArgumentError(`${op}(): inputs must be Tensors`);
    t._check();
    if (t._m !== undefined && !t._m.requires_grad) throw torchError('RuntimeError', 'One of the differentiated Tensors does not require grad', op);
  }
  const unused = ins.map((t) => !used.has(t));
  const allowUnused = o.allow_unused ?? o.materialize_grads ?? false;
  if (!allowUnused && unused.some(Boolean)) {
    throw torchError('RuntimeError', 'One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior.', op);
  }
  const s = sessionOf([...outs, ...ins, ...(gouts.filter((g) => g instanceof Tensor) as Tensor[])]);
  const kwargs = {
    grad_outputs: gouts.length ? gouts : null,
    retain_graph: o.retain_graph ?? null,
    create_graph: o.create_graph ?? false,
    allow_unused: o.allow_unused ?? null,
    materialize_grads: o.materialize_grads ?? false,
  };
  const args = [outs, ins];
  let results: Tensor[];
  if (kwargs.create_graph) {
    results = pendingCall(s, op, args, kwargs, ins.length, true);
    // differentiable results: their graph runs through the outputs' (for a later grad or backward)
    for (const r of results) link(r, outs);
  } else {
    results = ins.map((t) => newTensor(s, gradMeta(t), op));
    const checked = results.map((t, i) => (!unused[i] || kwargs.materialize_grads ? t : null));
    s.call(results.map((t) => t.id), op, args, kwargs, strictCheck(s, checked), true);
  }
  if (!(kwargs.retain_graph ?? kwargs.create_graph)) forgetGraph(used);
  // an unused input's grad is None (unless materialized): its handle is not needed
  return results.map((t, i) => {
    if (unused[i] && !kwargs.materialize_grads) {
      t.dispose();
      return null;
    }
    return t;
  });
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    /**
     * Python's Tensor.backward(gradient=None, retain_graph=None, create_graph=False, inputs=None):
     * queued with the ops before it; every leaf it reaches then has a .grad (readable at once).
     */
    backward(gradient?: Tensor | null | BackwardOptions, retain_graph?: boolean | null | BackwardOptions, create_graph?: boolean | BackwardOptions, inputs?: Tensor[] | null | BackwardOptions, kwargs?: BackwardOptions): void;
  }
}

Tensor.prototype.backward = function (this: Tensor, ...args: unknown[]) {
  const o = bindBackward(args);
  const op = '.backward';
  const gradient = o.gradient ?? null;
  checkRoots([this], [gradient], op);
  const inputs = list(o.inputs);
  const s = sessionOf([this, ...(gradient ? [gradient] : []), ...inputs]);
  s.call(null, op, [this, gradient, o.retain_graph ?? null, o.create_graph ?? false, inputs.length ? inputs : null], null, 0, true);
  markReceivers([this], inputs, o.create_graph ?? false, o.retain_graph ?? o.create_graph ?? false);
} as never;
