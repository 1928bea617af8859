"""Python modules as TypeScript modules, and re-reading what a Python call may have changed.

The client wraps a torch.nn.Module as a TS nn.Module (src/nn/python_module.ts): module_tree
describes it (its tensors once each, by index, with their metadata and their .grad's),
module_tensors hands those tensors over under the client's handle ids, and module_call runs
its forward, checking that it changed none of the tensors the client mirrors.

restate re-reads tensors a Python call received (src/py/touched.ts): the client marks them
pending when it queues the call, and the reply to restate settles them.
"""

import torch

from .codec import describe_value
from .values import meta


def _module(obj, what):
    if not isinstance(obj, torch.nn.Module):
        raise TypeError(f"{what} needs a torch.nn.Module, got {describe_value(obj)}")
    return obj


def _tensors(module):
    """Every parameter and buffer of the module tree once, in state_dict order (Python's
    named_parameters / named_buffers order, a shared tensor where it first appears)."""
    seen = set()
    out = []
    for m in module.modules():
        for t in list(m._parameters.values()) + list(m._buffers.values()):
            if t is not None and id(t) not in seen:
                seen.add(id(t))
                out.append(t)
    return out


def _grad_meta(t):
    """The metadata of t.grad, or None; non-leaves keep no .grad (reading it would warn)."""
    if not (t.is_leaf or t.retains_grad):
        return None
    g = t.grad
    return None if g is None else meta(g)


def module_tree(module, /):
    """The module tree as plain values. `modules`: each distinct module once, in modules()
    order (the root first), as [handle (None for the root, which the client holds), node]; a
    node names its own parameters and buffers (indices into `tensors`) and its children
    (indices into `modules`). `tensors`: [metadata, metadata of .grad or None] of each distinct
    tensor; module_tensors gives the tensors themselves in the same order."""
    module = _module(module, "nn.Module.fromPython()")
    tensors = _tensors(module)
    tindex = {id(t): i for i, t in enumerate(tensors)}
    modules = list(module.modules())
    mindex = {id(m): i for i, m in enumerate(modules)}

    def node(m):
        return {
            "type": type(m).__qualname__,
            "training": m.training,
            "parameters": [[k, tindex[id(p)]] for k, p in m._parameters.items() if p is not None],
            "buffers": [[k, tindex[id(b)]] for k, b in m._buffers.items() if b is not None],
            "non_persistent": sorted(m._non_persistent_buffers_set),
            "children": [[k, mindex[id(c)]] for k, c in m._modules.items() if c is not None],
        }

    return {
        "modules": [[None if i == 0 else m, node(m)] for i, m in enumerate(modules)],
        "tensors": [[meta(t), _grad_meta(t)] for t in tensors],
    }


def module_tensors(module, count, /):
    """The tensors module_tree described, for the client's handle ids. `count` is how many the
    client allocated: a module changed in between is an error, never a mismatched handle."""
    tensors = _tensors(_module(module, "nn.Module.fromPython()"))
    if len(tensors) != count:
        raise RuntimeError(f"the module changed while it was wrapped: it has {len(tensors)} parameters and buffers, not {count}")
    return tensors


def _state(t):
    g = t.grad if (t.is_leaf or t.retains_grad) else None
    return (t.shape, t.dtype, t.device, t.requires_grad, t.is_leaf, None if g is None else (g.shape, g.dtype, g.requires_grad))


def _reached(out):
    """ids of the leaf tensors the autograd graph of `out` accumulates into."""
    seen = set()
    leaves = set()
    stack = [out.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        var = getattr(fn, "variable", None)  # AccumulateGrad
        if var is not None:
            leaves.add(id(var))
        stack.extend(f for f, _ in fn.next_functions)
    return leaves


def module_call(module, /, *args, **kwargs):
    """module(*args, **kwargs) (Python's __call__: hooks and all) -> (output, report).

    report is None when the call changed none of the tensors the client mirrors (the module's
    parameters and buffers, the tensor arguments) and its output's graph reaches every parameter
    that requires grad; else {'changed': [indices], 'unreached': [indices]} into module tensors
    followed by the tensor arguments, for the client to re-read those and unlink the rest.
    """
    module = _module(module, "a Python module's forward")
    tensors = _tensors(module) + [a for a in list(args) + list(kwargs.values()) if isinstance(a, torch.Tensor)]
    before = [_state(t) for t in tensors]
    out = module(*args, **kwargs)
    changed = [i for i, t in enumerate(tensors) if _state(t) != before[i]]
    unreached = []
    if isinstance(out, torch.Tensor) and out.requires_grad:
        reached = _reached(out)
        unreached = [i for i, t in enumerate(tensors) if t.requires_grad and t.is_leaf and id(t) not in reached]
    report = {"changed": changed, "unreached": unreached} if changed or unreached else None
    return out, report


def restate(tensors, /):
    """[t0, t0.grad, t1, t1.grad, ...]: the reply's metadata re-states each tensor and its grad."""
    out = []
    for t in tensors:
        out.append(t)
        out.append(t.grad if (t.is_leaf or t.retains_grad) else None)
    return out


HELPERS = {
    "module_tree": module_tree,
    "module_tensors": module_tensors,
    "module_call": module_call,
    "restate": restate,
}
