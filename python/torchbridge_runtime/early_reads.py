"""Reads answered as soon as their value exists.

A read (item, tolist, data, str, metadata...) queued after `loss.backward(); opt.step()` is
answered once the loss exists, while backward and step go on: the client's round trip then
overlaps the runtime's work. It must still see exactly what program order gives, so a read
moves ahead of a queued op only where that op cannot write what it reads:

- a torch function writes only tensors it is given (in-place ops, out=, batch_norm's running
  stats, __setitem__...): it blocks a read whose storage one of its tensor arguments shares;
- backward and autograd.grad write the .grad of leaves, never a tensor that is its own
  autograd result (has a grad_fn and is not a view) -- unless create_graph was ever used,
  after which a .grad can be such a tensor;
- a built-in torch.optim optimizer's step()/zero_grad() (and a built-in lr_scheduler's)
  writes parameters, gradients and its state, the same kind of tensors;
- any other Python call (torch.py, the runtime's helpers) may write anything;
- a free of the handle, or a later op that rebinds it, blocks too.

An argument whose handle does not exist yet (made by an op still queued) counts as a
possible alias until that op has run; then the read is looked at again. Errors of the ops
it overtook surface at the next sync point instead of at this read.
"""

import torch

from .codec import Ref
from .errors import Poison
from .protocol import OP

_CALL = OP["CALL"]
_FREE = OP["FREE"]
_READ = OP["READ"]
# ops that never write a tensor: a read may pass them
_HARMLESS = frozenset((OP["READ"], OP["SYNC"], OP["STATS"], OP["HELLO"], OP["RELEASE_SHM"], OP["FROM_DATA"]))
_AUTOGRAD = frozenset((".backward", "autograd.backward", "autograd.grad"))
_MISSING = object()
_NEVER = float("inf")


def _own_result(t):
    """An autograd result owning its storage: nothing but its own handle reaches that memory."""
    return isinstance(t, torch.Tensor) and t.grad_fn is not None and not t._is_view()


def _storage_key(t):
    try:
        return (t.device, t.untyped_storage().data_ptr())
    except (RuntimeError, NotImplementedError):  # sparse, nested...: no single storage
        return None


def _uses_create_graph(op):
    name = op[2]
    if name == "autograd.grad":
        return bool(op[4] and op[4].get("create_graph"))
    args = op[3]
    return len(args) > 3 and bool(args[3])  # (.backward / autograd.backward)(..., create_graph, ...)


class EarlyReads:
    def __init__(self, executor):
        self.ex = executor
        # [blocker, index]: the read at queue[index] is looked at again once queue[blocker] has run
        self.waiting = []
        self.next_look = _NEVER
        self.create_graph_seen = False
        # >0 while Python waits on a TS callback (callbacks.py): the queue then runs out of order
        self.paused = 0

    def noticed(self, ops, start):
        """A batch joined the queue at `start`: its reads may be answerable early."""
        pos = self.ex.pos
        for i, op in enumerate(ops):
            code = op[0]
            if code == _READ:
                if start + i > pos:  # something runs before it: it may overtake
                    self.waiting.append([-1, start + i])
                    self.next_look = -1
            elif code == _CALL and op[2] in _AUTOGRAD and _uses_create_graph(op):
                self.create_graph_seen = True

    def shifted(self, n):
        """The queue's first n ops (all run) were dropped: indices move down by n."""
        for e in self.waiting:
            e[0] = max(e[0] - n, -1)
            e[1] -= n
        if self.next_look != _NEVER:
            self.next_look = max(self.next_look - n, -1)

    def clear(self):
        self.waiting.clear()
        self.next_look = _NEVER

    def answer(self):
        """Answer every waiting read that nothing still queued before it could change."""
        if self.paused:
            self.next_look = _NEVER  # (looked at again when the wait ends)
            return
        ex = self.ex
        queue = ex.queue
        pos = ex.pos
        still = []
        answered = False
        for entry in self.waiting:
            blocker, index = entry
            if index < pos or queue[index] is None:
                continue  # ran in order meanwhile
            if blocker >= pos:
                still.append(entry)
                continue
            k = self._last_blocker(pos, index)
            if k < 0:
                op = queue[index]
                queue[index] = None
                ex._read(op, ex.base + index)
                answered = True
            else:
                entry[0] = k
                still.append(entry)
        self.waiting = still
        self.next_look = min((e[0] for e in still), default=_NEVER)
        if answered:
            ex.flush()

    def _last_blocker(self, pos, index):
        """The last op in queue[pos:index] that could change what queue[index] reads; -1 if none.

        A forward scan: the outputs of a queued torch function are fresh tensors unless one of its
        tensor arguments may alias the target (then they may be views of it: tainted), or it is
        an opaque Python call (anything).
        """
        queue = self.ex.queue
        tid = queue[index][2]
        target = self.ex.handles.get(tid, _MISSING)
        if target is _MISSING:  # made by a queued op: wait for it
            for k in range(index - 1, pos - 1, -1):
                op = queue[k]
                if op is not None and op[0] == _CALL and _binds(op[1], tid):
                    return k
            return index - 1  # nothing makes it: run in order (and fail there)
        if target.__class__ is Poison:
            return -1  # its error is already decided
        own = _own_result(target)
        key = _storage_key(target) if isinstance(target, torch.Tensor) else None
        fresh = set()  # handles queued ops make that cannot alias the target
        tainted = set()  # handles queued ops make that may
        last = -1
        for k in range(pos, index):
            op = queue[k]
            if op is None:
                continue
            code = op[0]
            if code == _FREE:
                if tid in op[1]:
                    last = k
                continue
            if code != _CALL:
                if code not in _HARMLESS:
                    last = k
                continue
            outs = op[1]
            if _binds(outs, tid):
                last = k
            name = op[2]
            if name in _AUTOGRAD:  # gradients are new tensors
                if not own or self.create_graph_seen:
                    last = k
                _add(fresh, outs)
            elif name.startswith("tb."):
                if not (own and self._builtin_optim_step(op)):
                    last = k
                _add(tainted, outs)
            elif key is None or self._given(op, key, fresh, tainted):
                last = k
                _add(tainted, outs)
            else:
                _add(fresh, outs)
        return last

    def _builtin_optim_step(self, op):
        """tb.method(optimizer or scheduler of torch.optim, 'step' | 'zero_grad') without a closure."""
        _, _, name, args, kwargs, _, mask, _ = op
        if name != "tb.method" or not (mask & 1) or len(args) != 2 or args[1] not in ("step", "zero_grad"):
            return False
        obj = self.ex.handles.get(args[0])
        return obj is not None and type(obj).__module__.startswith("torch.optim.")

    def _given(self, op, key, fresh, tainted):
        """Is a tensor that may share `key`'s storage among the op's arguments?"""
        _, _, _, args, kwargs, _, mask, nested = op
        i = 0
        while mask:
            if mask & 1 and self._may_alias(args[i], key, fresh, tainted):
                return True
            mask >>= 1
            i += 1
        if nested and any(self._nested(a, key, fresh, tainted) for a in args):
            return True
        return bool(kwargs) and any(self._nested(v, key, fresh, tainted) for v in kwargs.values())

    def _nested(self, v, key, fresh, tainted):
        cls = v.__class__
        if cls is Ref:
            return self._may_alias(v.id, key, fresh, tainted)
        if cls in (list, tuple):
            return any(self._nested(x, key, fresh, tainted) for x in v)
        if cls is dict:
            return any(self._nested(x, key, fresh, tainted) for x in v.values())
        return False

    def _may_alias(self, id_, key, fresh, tainted):
        if id_ in fresh:
            return False
        if id_ in tainted:
            return True
        v = self.ex.handles.get(id_, _MISSING)
        if v is _MISSING:
            return True  # of unknown origin
        if isinstance(v, torch.Tensor):
            k = _storage_key(v)
            return k is None or k == key
        if v.__class__ is Poison or isinstance(v, torch.Generator):
            return False
        return True  # a Python object can reach any tensor


def _add(ids, outs):
    if outs.__class__ is int:
        ids.add(outs)
    elif outs:
        ids.update(outs)


def _binds(outs, tid):
    return outs == tid or (outs.__class__ is list and tid in outs)
