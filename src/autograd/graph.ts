/**
 * The mirror's view of the autograd graph: each tensor computed from inputs that require grad
 * remembers those inputs, so backward() knows locally which leaves receive a .grad and
 * autograd.grad() knows which inputs were used, without asking the runtime.
 */
import type { Tensor } from '../tensor/tensor.js';

/** Input lists a tensor owns (appended to by in-place ops); others may be shared by several outputs. */
const owned = new WeakSet<Tensor[]>();

/** Record that `out` was computed from `inputs` (only the ones requiring grad). */
export function link(out: Tensor, inputs: readonly Tensor[]): void {
  if (inputs.length === 0) return;
  const prev = out._inputs;
  if (prev === undefined) {
    out._inputs = inputs.includes(out) ? inputs.filter((t) => t !== out) : (inputs as Tensor[]);
    return;
  }
  // an in-place op: self keeps its history and adds the new inputs, appended in place (a loop of
  // acc.add_(x) stays linear, as torch's own graph does)
  let list = prev;
  if (!owned.has(list)) {
    list = out._inputs = prev.slice();
    owned.add(list);
  }
  for (const t of inputs) if (t !== out && list[list.length - 1] !== t) list.push(t);
}

/** Does this tensor take part in autograd (requires grad, or metadata still pending)? */
function differentiable(t: Tensor): boolean {
  const m = t._m;
  return m === undefined || m.requires_grad;
}

/**
 * Every tensor reachable backwards from `roots` through tensors that require grad (roots
 * included).
 */
export function reachable(roots: readonly Tensor[]): Set<Tensor> {
  const seen = new Set<Tensor>();
  const stack = roots.filter(differentiable);
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const inputs = t._inputs;
    if (inputs === undefined) continue;
    for (const i of inputs) if (!seen.has(i) && differentiable(i)) stack.push(i);
  }
  return seen;
}

/**
 * torch freed this graph (a backward pass without retain_graph): drop the links of its
 * non-leaves too, so the JS objects (and the runtime tensors behind them) of intermediates are
 * not kept alive by an output the user keeps.
 */
export function forgetGraph(graph: Iterable<Tensor>): void {
  for (const t of graph) if (t._m === undefined || !t._m.is_leaf) t._inputs = undefined;
}

/** A leaf that accumulates .grad, or a non-leaf that retains it. */
export function receivesGrad(t: Tensor): boolean {
  const m = t._m;
  if (m === undefined) return false;
  return m.requires_grad && (m.is_leaf || t._retainsGrad);
}
