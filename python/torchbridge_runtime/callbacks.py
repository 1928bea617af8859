"""Callbacks into TypeScript: a TS function passed to Python arrives as a TSFunction, a Python
callable; calling it asks the client to run the function and waits for its value.

The call is served on the connection the ops use (protocol.py lists the messages):
  runtime -> client  a reply entry [call, CALLBACK, [function, args, kwargs]], sent at once;
                     args converted as results are (tensors and other objects by handle)
                     [call, CANCEL, None]: the runtime no longer waits for it (torch.interrupt())
                     [0, RELEASE, [function, ...]]: Python dropped these TS functions
  client -> runtime  [CALLBACK_BEGIN, call]  before the first op the callback queues
                     [CALLBACK_REPLY, call, status, value]  once it has returned (or thrown)
While it waits, the runtime runs what the callback queues (ops, reads, Python calls, which may
call TS functions again: the waits nest). Ops that were queued after the call that is waiting
(sent before the client saw the request) belong after it in program order: they are left where
they are, and run once that call has returned. So a wait runs only the ops between its BEGIN
and its REPLY; the executor's queue keeps arrival order (op numbers stay the client's), and the
ops run inside a wait are marked run (None) so that the drain that resumes after it skips them.

A TSFunction that Python drops (refcount, GC) tells the client to forget the TS function: the
release rides on the next reply message (RELEASE entry).
"""

import threading
from collections import deque

from .codec import pack
from .errors import Poisoned
from .protocol import OP, STATUS

_BEGIN = OP["CALLBACK_BEGIN"]
_REPLY = OP["CALLBACK_REPLY"]
_OK = STATUS["OK"]
_CALLBACK = STATUS["CALLBACK"]
_CANCEL = STATUS["CANCEL"]
# How long a wait blocks before it looks again for torch.interrupt() and a client that is gone
WAIT_SLICE_S = 0.05


class CallbackError(RuntimeError):
    """A TypeScript callback threw. js_type, js_message and js_stack are the JS error's name,
    message and stack; the message names all three."""

    def __init__(self, function, js_type, js_message, js_stack=""):
        text = f"TypeScript callback {function} threw {js_type}: {js_message}"
        if js_stack:
            text += f"\n{js_stack}"
        super().__init__(text)
        self.function = function
        self.js_type = js_type
        self.js_message = js_message
        self.js_stack = js_stack


class ClientGone(RuntimeError):
    """The client went away while Python waited on one of its TS functions."""


class TSFunction:
    """A TypeScript function, callable from Python: fn(*args, **kwargs) runs it in Node and
    returns its value (tensors by handle)."""

    __slots__ = ("_id", "_name", "_callbacks", "__weakref__")

    def __init__(self, callbacks, id_, name):
        self._id = id_
        self._name = name
        self._callbacks = callbacks

    def __call__(self, *args, **kwargs):
        return self._callbacks.invoke(self, args, kwargs)

    @property
    def __name__(self):
        return self._name

    def __repr__(self):
        return f"<TypeScript function {self._name}>"

    # copied as Python copies functions: itself (a deep copy of a config holding hooks keeps them)
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        raise TypeError(f"cannot pickle TypeScript function {self._name}: it lives in this session's client")

    def __del__(self):
        self._callbacks.released(self._id)


def unbound(cb_id, name, /):
    """pyobjects' entry for 'tb.callback': each executor binds its own (Callbacks.make)."""
    raise RuntimeError("tb.callback is served by a session's executor")


class Callbacks:
    """One session's TS functions: making them, calling them, telling the client they are gone."""

    def __init__(self, executor, wait):
        self.ex = executor
        # wait(timeout_s) -> the op batches that arrived within it (unpacked), None once the client is gone
        self.wait = wait
        self.live = 0  # TSFunctions alive (the stats' "callbacks")
        self._released = deque()  # ids of TSFunctions dropped, not yet told (appended from any thread)
        self._next_call = 1
        self.waiting = []  # call ids being waited on, innermost last
        self._reply = None  # the CALLBACK_REPLY the innermost wait met

    def make(self, cb_id, name, /):
        """tb.callback(id, name): the Python callable for TS function `id`."""
        self.live += 1
        return TSFunction(self, cb_id, name)

    def released(self, cb_id):
        self.live -= 1
        self._released.append(cb_id)

    def take_released(self):
        """The ids of the TS functions dropped since last asked (the reply message about to be
        sent tells the client: a RELEASE entry), or None."""
        released = self._released
        if not released:
            return None
        ids = []
        while released:
            ids.append(released.popleft())
        return ids

    # -- a call --------------------------------------------------------------------
    def invoke(self, fn, args, kwargs):
        ex = self.ex
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError(f"TypeScript function {fn._name} was called from another thread; TS functions can be called only from the thread that runs TS's calls")
        if not ex.queue:  # run() holds the op running in its queue
            raise RuntimeError(f"TypeScript function {fn._name} was called while no call from TypeScript runs; TS functions can be called only during one")
        from .pyobjects import to_js  # (pyobjects imports this module)

        seq = ex.base + ex.pos - 1  # the op running: the Python call that called us
        it = ex.interrupter
        running = it.running
        # torch.interrupt() only sets a flag from here on (abort_before, looked at by the wait): an
        # exception at an arbitrary bytecode could leave the client's call without its CANCEL
        it.begin_transfer(seq)
        try:
            wire = [fn._id, to_js(list(args), ex._register), to_js(kwargs, ex._register) if kwargs else None]
            try:
                pack(wire)  # what cannot travel fails here, in Python, not as a reply nobody waits for
            except Exception as e:  # noqa: BLE001
                raise TypeError(f"cannot pass these arguments to TypeScript function {fn._name}: {e}") from None
            call = self._next_call
            self._next_call += 1
            # its BEGIN or REPLY can only come in batches sent after this request: no need to look
            # at what the queue holds now (a Python loop calling TS 10,000 times leaves that many
            # entries of run ops behind it, until the call that runs the loop returns)
            scan = len(ex.queue)
            ex.reply(call, _CALLBACK, wire)
            ex.flush()
            self.waiting.append(call)
            ex.early.paused += 1  # reads overtake nothing while the queue runs out of order
            try:
                op = self._wait(call, seq, fn, scan)
            except BaseException:  # interrupted, or the client is gone: it stops waiting for this call
                ex.reply(call, _CANCEL, None)
                ex.flush()
                raise
            finally:
                self.waiting.pop()
                ex.early.paused -= 1
                if not ex.early.paused:
                    ex.early.next_look = -1  # look at the reads waiting again, from where the queue is
        finally:
            it.end_transfer()
            it.running = running  # the op that called us goes on (and can be interrupted again)
        _, _, status, value = op
        if status != _OK:
            if not isinstance(value, dict):
                value = {}
            raise CallbackError(fn._name, str(value.get("type", "Error")), str(value.get("message", "")), str(value.get("stack", "")))
        return self._value(value, fn)

    def _value(self, value, fn):
        if value is None or value.__class__ in (bool, int, float, str):
            return value
        try:
            return self.ex._resolve(value)
        except KeyError as e:  # a disposed tensor
            raise RuntimeError(f"TypeScript function {fn._name} returned {e.args[0]}") from None
        except Poisoned as p:  # a tensor whose op failed
            err = p.poison.error
            raise RuntimeError(f"TypeScript function {fn._name} returned a tensor whose op failed: {err['type']}: {err['message']}") from None

    def _wait(self, call, seq, fn, scan):
        """Run what the callback queues until its reply comes; the ops before its BEGIN wait.
        Called in the interrupter's transfer mode (invoke): torch.interrupt() sets abort_before,
        looked at here; the callback's own ops run in the ordinary mode, interruptible as ops are."""
        ex = self.ex
        queue = ex.queue
        start = ex.pos
        it = ex.interrupter
        begun = False
        try:
            while True:
                if ex.abort_before > seq:
                    raise KeyboardInterrupt(f"interrupted by torch.interrupt() while waiting for TypeScript function {fn._name}")
                if not begun:
                    n = len(queue)
                    while scan < n:
                        op = queue[scan]
                        if op is not None and op.__class__ is list and op[0] in (_BEGIN, _REPLY) and op[1] == call:
                            break
                        scan += 1
                    if scan < n:
                        op = queue[scan]
                        queue[scan] = None
                        if op[0] == _REPLY:  # it queued nothing
                            return op
                        begun = True
                        ex.pos = scan + 1
                if begun:
                    it.end_transfer()
                    replied = ex._drain()
                    it.begin_transfer(seq)
                    if replied and ex.abort_before <= seq:
                        op, self._reply = self._reply, None
                        return op
                    if replied:
                        continue  # (raises above)
                ex.flush()
                batches = self.wait(WAIT_SLICE_S)
                if batches is None:
                    raise ClientGone(f"the client went away while Python waited for TypeScript function {fn._name}")
                for ops in batches:
                    ex.feed(ops)
        finally:
            ex.pos = start

    def on_op(self, op, index):
        """A drain met CALLBACK_BEGIN or CALLBACK_REPLY: True when it is the reply the innermost
        wait is for (the drain returns to it)."""
        if op[0] != _REPLY:
            return False  # a BEGIN no wait looks for: its call was interrupted
        call = op[1]
        waiting = self.waiting
        if waiting and waiting[-1] == call:
            self._reply = op
            return True
        if call in waiting:  # an outer call's reply, come while this one waits: its own wait meets it later
            self.ex.queue[index] = op
        return False  # (else a reply nobody waits for any more: interrupted)
