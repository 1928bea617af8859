"""Executes op batches strictly in order against a table of handles."""

import types
from time import perf_counter

import torch

from . import callbacks, crash_guards, pyobjects, shm
from .codec import Ref
from .early_reads import EarlyReads
from .interrupt import Interrupter
from .errors import Poison, Poisoned, describe
from .protocol import OP, READ, STATUS
from .segments import SharedSegments
from .values import Chunked, DataReader, meta, read_value

_CALL = OP["CALL"]
_FREE = OP["FREE"]
_READ = OP["READ"]
_FROM_DATA = OP["FROM_DATA"]
_SYNC = OP["SYNC"]
_STATS = OP["STATS"]
_RELEASE_SHM = OP["RELEASE_SHM"]
_HELLO = OP["HELLO"]
_SHUTDOWN = OP["SHUTDOWN"]
_CALLBACK_BEGIN = OP["CALLBACK_BEGIN"]
_CALLBACK_REPLY = OP["CALLBACK_REPLY"]
_CONVERT = READ["CONVERT"]
_TREE = READ["TREE"]
_VALUE = READ["VALUE"]
_OK = STATUS["OK"]
_ERROR = STATUS["ERROR"]


# How often (seconds of running ops) the executor looks for batches that arrived meanwhile.
POLL_INTERVAL = 100e-6
# ...and drops the ops that have run once this many have
COMPACT_AT = 4096


def _nothing():
    pass


def _none():
    return ()


class Shutdown(Exception):
    """Raised by the SHUTDOWN op once its reply is sent."""


def _lookup_callable(name):
    """'add' -> torch.add, 'nn.functional.relu' -> torch.nn.functional.relu, '.add_' -> Tensor.add_.

    Only torch's own API is reachable: every step must stay inside torch (its submodules and
    classes), never a dunder, so a name on the wire cannot reach os, sys or builtins.
    """
    if name in _INDEXING:  # Python's x[i] and x[i] = v: the only dunders on the wire
        return getattr(torch.Tensor, name[1:])
    if name.startswith("tb."):  # the runtime's own helpers: object handles, torch.py
        try:
            return pyobjects.HELPERS[name[3:]]
        except KeyError:
            raise AttributeError(f"the runtime has no helper {name!r}") from None
    if name.startswith("."):
        path, obj, where = name[1:], torch.Tensor, "torch.Tensor"
    else:
        path, obj, where = name, torch, "torch"
    for part in path.split("."):
        if not part or part.startswith("__"):
            raise AttributeError(f"{where} has no attribute {path!r}")
        obj = getattr(obj, part, None)
        if obj is None or (isinstance(obj, types.ModuleType) and not obj.__name__.startswith("torch")):
            raise AttributeError(f"{where} has no attribute {path!r}")
    if not callable(obj):
        raise TypeError(f"{where}.{path} is not callable")
    return crash_guards.guarded(name, obj)  # the few calls that would kill the process refuse instead


_INDEXING = (".__getitem__", ".__setitem__")


class Handles(dict):
    """id -> runtime object; a missing id is an error worth a plain sentence."""

    def __missing__(self, id_):
        raise KeyError(f"handle {id_} is unknown to the runtime (disposed, or from another session)")


class Executor:
    """Runs op batches strictly in program order, except reads: a read is answered as soon as
    its value exists, i.e. once every op queued before it that could write what it reads has
    run (see early_reads.py). Batches that arrive while one runs join the same queue.
    """

    def __init__(self, session, shm_prefix, info, reply, flush=None, poll=None, wait=None):
        self.handles = Handles()
        self.seq = 0  # ops received
        self.unreported = []  # errors not yet surfaced at a sync point
        self.shared = SharedSegments()
        self.data = DataReader(shm_prefix, self.shared)
        # streams.Streams where bulk data may travel in chunks (a served session)
        self.streams = None
        self.session = session
        self.info = info
        self.reply = reply  # reply(reply_id, status, value)
        self.flush = flush or _nothing  # send the replies gathered so far
        self.poll = poll or _none  # () -> the op batches that arrived meanwhile (never blocks)
        self._fns = {}
        self._next_runtime_id = pyobjects.RUNTIME_ID_BASE
        self.queue = []  # received ops; queue[i] has seq base + i; None once run early
        self.pos = 0  # queue[:pos] has run
        self.base = 0
        self.early = EarlyReads(self)
        self.interrupter = Interrupter()
        # ops with a seq below this are not run (torch.interrupt() came after them)
        self.abort_before = 0
        self._abort_error = None
        # TS functions passed to Python (callbacks.py); wait(timeout_s) blocks for batches while one runs
        self.callbacks = callbacks.Callbacks(self, wait)
        self._fns["tb.callback"] = self.callbacks.make

    @property
    def ran(self):
        """How many ops have run, in order (what the client compares with what it sent)."""
        return self.base + self.pos

    def feed(self, ops):
        start = len(self.queue)
        self.queue.extend(ops)
        self.seq += len(ops)
        self.early.noticed(ops, start)

    # -- handles ---------------------------------------------------------------
    def _get(self, id_):
        v = self.handles[id_]
        if v.__class__ is Poison:
            raise Poisoned(v)
        return v

    def _resolve(self, v):
        cls = v.__class__
        if cls is Ref:
            return self._get(v.id)
        if cls is list:
            return [self._resolve(x) if x.__class__ in _NESTED else x for x in v]
        if cls is tuple:
            return tuple(self._resolve(x) if x.__class__ in _NESTED else x for x in v)
        if cls is dict:
            return {k: self._resolve(x) if x.__class__ in _NESTED else x for k, x in v.items()}
        return v

    def _store(self, outs, result):
        if outs is None:
            return
        if outs.__class__ is int:
            self.handles[outs] = result
            return
        if not isinstance(result, (tuple, list)) or len(result) != len(outs):
            n = len(result) if isinstance(result, (tuple, list)) else 1
            raise TypeError(f"expected {len(outs)} outputs, the call returned {n}")
        for o, r in zip(outs, result):
            self.handles[o] = r

    def _poison(self, outs, poison):
        if outs is None:
            return
        if outs.__class__ is int:
            self.handles[outs] = poison
        else:
            for o in outs:
                self.handles[o] = poison

    # -- batches ---------------------------------------------------------------
    def run(self, ops):
        """Run a batch (and whatever arrives while it runs) to the end."""
        self.feed(ops)
        try:
            self._drain()
        finally:
            self.base += len(self.queue)
            self.queue.clear()
            self.pos = 0
            self.early.clear()

    def _drain(self):
        handles = self.handles
        fns = self._fns
        queue = self.queue
        early = self.early
        clock = perf_counter
        next_poll = clock() + POLL_INTERVAL
        while True:
            index = self.pos
            if index > early.next_look:
                early.answer()
            if index >= len(queue):
                return
            if clock() >= next_poll:
                self._poll()
                next_poll = clock() + POLL_INTERVAL
                if index >= COMPACT_AT and not self.callbacks.waiting:  # (a wait holds queue indices)
                    self._compact()
                    index = 0
            op = queue[index]
            queue[index] = None  # what it holds (tensors among its args) is not kept past its run
            self.pos = index + 1
            if op is None:  # a read already answered early
                continue
            code = op[0]
            if code == _CALL:
                # Hot path, inlined: [CALL, outs, name, args, kwargs, reply_id, ref_mask, nested]
                _, outs, name, args, kwargs, reply_id, mask, nested = op
                if self.base + index < self.abort_before:
                    self._abort(outs, reply_id)
                    continue
                self.interrupter.running = self.base + index
                try:
                    fn = fns.get(name)
                    if fn is None:
                        fn = fns[name] = _lookup_callable(name)
                    if mask == 3:  # the common binary op on two tensors
                        a = handles[args[0]]
                        b = handles[args[1]]
                        if a.__class__ is Poison:
                            raise Poisoned(a)
                        if b.__class__ is Poison:
                            raise Poisoned(b)
                        args[0] = a
                        args[1] = b
                    elif mask:
                        self._resolve_mask(args, mask)
                    if nested:  # handles deeper than the top level of args
                        args = [self._resolve(a) for a in args]
                    if kwargs:  # (the client does not flag handles among kwargs: always resolved)
                        result = fn(*args, **self._resolve(kwargs))
                    else:
                        result = fn(*args)
                    if outs.__class__ is int:
                        handles[outs] = result
                    else:
                        self._store(outs, result)
                except Poisoned as p:
                    self.interrupter.running = None  # (a stale seq here would let an idle runtime be "interrupted")
                    self._poison(outs, p.poison)
                    if reply_id:
                        self.reply(reply_id, _ERROR, p.poison.error)
                    continue
                except Exception as e:  # noqa: BLE001 -- every failure becomes a poisoned result
                    self.interrupter.running = None
                    err = self._fail(outs, e, self.base + index, name)
                    if reply_id:
                        self.reply(reply_id, _ERROR, err)
                    continue
                except KeyboardInterrupt as e:  # torch.interrupt() (see interrupt.py)
                    self.interrupter.running = None
                    err = self._fail(outs, e, self.base + index, name)
                    self._abort_error = err
                    if reply_id:
                        self.reply(reply_id, _ERROR, err)
                    continue
                self.interrupter.running = None
                if reply_id:
                    try:
                        metas = [meta(result)] if outs.__class__ is int else [meta(r) for r in result]
                    except Exception as e:  # noqa: BLE001 -- torch can refuse to report (a no_grad view modified in place)
                        self.reply(reply_id, _ERROR, describe(e, self.base + index, name))
                        continue
                    self.reply(reply_id, _OK, metas)
            elif code == _FREE:
                for id_ in op[1]:
                    handles.pop(id_, None)
            elif code == _READ:
                self._read(op, self.base + index)
                if index + 1 < len(queue):  # someone awaits it: do not hold it behind the rest
                    self.flush()
            elif code == _FROM_DATA:
                self._from_data(op, self.base + index)
            elif code == _SYNC:
                self._sync(op[1])
            elif code == _STATS:
                self.reply(op[1], _OK, self.stats())
            elif code == _RELEASE_SHM:
                self.shared.release(op[1])
            elif code == _HELLO:
                self.reply(op[1], _OK, dict(self.info, session=self.session, client_session=op[2]))
            elif code == _SHUTDOWN:
                self.reply(op[1], _OK, None)
                raise Shutdown()
            elif code == _CALLBACK_REPLY or code == _CALLBACK_BEGIN:
                if self.callbacks.on_op(op, index):  # the reply a TS callback's wait is for
                    return True
            else:
                self._fail(None, RuntimeError(f"unknown op code {code}"), self.base + index, "?")

    def interrupt(self, seq):
        """From the control thread: stop the running op and every op before `seq` not yet run."""
        self._abort_error = None  # this interrupt's error: the one the running op gets, or a new one
        self.abort_before = max(self.abort_before, seq)
        return self.interrupter.request(seq)

    def _abort(self, outs, reply_id):
        """An op queued before torch.interrupt(): not run, its outputs poisoned."""
        err = self._abort_error
        if err is None:
            err = self._abort_error = describe(KeyboardInterrupt("interrupted by torch.interrupt() before it ran"), self.abort_before - 1, "interrupt")
            self.unreported.append(err)
        self._poison(outs, Poison(err))
        if reply_id:
            self.reply(reply_id, _ERROR, err)

    def _compact(self):
        """Drop the ops that have run from the front of the queue (a runtime that is never
        idle drains one queue forever)."""
        n = self.pos
        del self.queue[:n]
        self.base += n
        self.pos = 0
        self.early.shifted(n)

    def _poll(self):
        """Take in the batches that arrived while this one runs (their reads may be ready), and
        send the replies gathered so far (pending metadata, strict verdicts)."""
        for ops in self.poll():
            self.feed(ops)
        self.flush()

    def _resolve_mask(self, args, mask):
        """Replace args[i] by its handle's value for every bit i set in mask."""
        handles = self.handles
        i = 0
        while mask:
            if mask & 1:
                v = handles[args[i]]
                if v.__class__ is Poison:
                    raise Poisoned(v)
                args[i] = v
            mask >>= 1
            i += 1

    def _fail(self, outs, exc, seq, name):
        # a torch.py call's exception is the user's: kept for err.pyException (see errors.describe)
        err = describe(exc, seq, name, self._register if name.startswith("tb.") and isinstance(exc, Exception) else None)
        self._poison(outs, Poison(err))
        self.unreported.append(err)
        return err

    def _take_unreported(self, err=None):
        """The error to surface now: the handle's own poison, else the first unreported one."""
        pending, self.unreported = self.unreported, []
        if err is None and pending:
            err = pending[0]
        for e in pending:  # folded into `more`: their exception objects are never asked for
            if e is not err and "exc" in e:
                self.handles.pop(e["exc"], None)
        if err is not None and len(pending) > 1:
            err = dict(err, more=len(pending) - 1)
        return err

    def _read(self, op, seq):
        _, reply_id, id_, what = op
        v = self.handles.get(id_)
        if v.__class__ is Poison:
            self.reply(reply_id, _ERROR, self._take_unreported(v.error))
            return
        err = self._take_unreported()
        if err is not None:
            self.reply(reply_id, _ERROR, err)
            return
        try:
            if v is None and id_ not in self.handles:
                raise KeyError(f"handle {id_} is unknown to the runtime (disposed, or from another session)")
            if what == _CONVERT:
                value = self._convert(v)
            elif what == _TREE:  # as CONVERT, structure kept (pyobjects.Tree): `await proxy` in one op
                value = pyobjects.to_js(pyobjects.Tree(v), self._register)
            elif what == _VALUE:  # by value, objects that have no plain form by handle
                value = pyobjects.to_value(v, self._register)
            else:
                value = read_value(v, what, self.data)
            if value.__class__ is Chunked:  # the bytes go first, in chunks; the reply describes them
                self._transfer(seq, lambda check: self.streams.send(reply_id, value.data, check))
                value = value.reply
        except Exception as e:  # noqa: BLE001
            self.reply(reply_id, _ERROR, describe(e, seq, "read"))
            return
        except KeyboardInterrupt as e:  # torch.interrupt() stopped the transfer
            err = describe(e, seq, "read")
            self._abort_error = err  # what the ops queued before the interrupt fail with
            self.reply(reply_id, _ERROR, err)
            return
        self.reply(reply_id, _OK, value)

    def _transfer(self, seq, run):
        """Run a chunked transfer as op `seq`: torch.interrupt() stops it between chunks."""
        it = self.interrupter
        it.begin_transfer(seq)
        try:
            return run(it.check_transfer)
        finally:
            it.end_transfer()

    def _convert(self, v):
        """READ CONVERT: plain values by value, tensors and other objects as new handles."""
        return pyobjects.to_js(v, self._register)

    def _register(self, obj):
        id_ = self._next_runtime_id
        self._next_runtime_id += 1
        self.handles[id_] = obj
        return id_

    def _sync(self, reply_id):
        err = self._take_unreported()
        if err is None:
            self.reply(reply_id, _OK, self.seq)
        else:
            self.reply(reply_id, _ERROR, err)

    def _from_data(self, op, seq):
        _, out, dtype, shape, payload, kwargs = op
        chunked = not isinstance(payload, (bytes, bytearray)) and len(payload) == 2
        if chunked and seq < self.abort_before:  # queued before torch.interrupt(): stop its upload
            if self.streams is not None:
                self.streams.stop(payload[0])
            self._abort(out, 0)
            return
        try:
            if isinstance(payload, (bytes, bytearray)):
                t = shm.tensor_over(bytearray(payload), dtype, shape)
            elif chunked:  # [stream, byte_length]: its chunks come (or came) on their own
                if self.streams is None:
                    raise RuntimeError("chunked data reaches only a served runtime")
                stream, nbytes = payload
                buf = self._transfer(seq, lambda check: self.streams.receive(stream, nbytes, check))
                t = buf.view(dtype).reshape(shape)
            else:
                name, nbytes, keep, offset = payload
                mm = self.shared.get(name, nbytes) if keep else shm.open_and_unlink(name, nbytes)
                numel = 1
                for s in shape:
                    numel *= s
                t = torch.frombuffer(mm, dtype=dtype, count=numel, offset=offset).reshape(shape)
            if kwargs:
                dtype = kwargs.get("dtype")
                if dtype is not None and dtype != t.dtype:
                    t = t.to(dtype)  # torch's own conversion (rounding, float16/bfloat16...)
                device = kwargs.get("device")
                if device is not None and device != "cpu":
                    t = t.to(device)
                if kwargs.get("requires_grad"):
                    t.requires_grad_(True)
            self.handles[out] = t
        except Exception as e:  # noqa: BLE001
            self._fail(out, e, seq, "tensor")
        except KeyboardInterrupt as e:  # torch.interrupt() stopped its upload
            self._abort_error = self._fail(out, e, seq, "tensor")

    def stats(self):
        tensors = 0
        storages = {}
        for v in list(self.handles.values()):  # a snapshot: the control thread asks while ops run
            if isinstance(v, torch.Tensor):
                tensors += 1
                s = v.untyped_storage()
                storages[(v.device, s.data_ptr())] = s.nbytes()
        return {
            "handles": len(self.handles),
            "tensors": tensors,
            "bytes": sum(storages.values()),
            "shared_bytes": self.shared.nbytes,
            "seq": self.seq,
            "callbacks": self.callbacks.live,
        }


_NESTED = (Ref, list, tuple, dict)
