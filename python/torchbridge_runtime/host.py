"""A served runtime's sessions: several clients on one runtime, each in a session of its own.

Every session has its own Server (handles, executor, replies) and its own grad mode and default
dtype, restored whenever the main thread switches to another session's message. Sessions are
keyed by the session id a client sends in HELLO, not by the ZeroMQ peer: a client that
reconnects (a new peer) finds its session again. Clients set their sockets' routing id to their
session id, so the control thread knows whose ping or shutdown it answers.

Threads: the main thread receives on the ops ROUTER and runs ops (torch's grad mode is
per-thread, and one thread runs every op, as in a child runtime); the control thread answers
ping/stats/shutdown at once, never behind ops, and records that each client is still there.

A session whose client sent no message and no control ping (clients ping every few seconds)
for `grace` seconds is freed: its handles are dropped, so its tensors go. Until then a client
whose connection dropped and came back resumes its session: its messages carry a header frame
(batch numbers and acknowledgements, see resume.py and protocol.py), so that no batch is lost
or run twice and replies lost in the drop are sent again. A client that comes back later is
told that its session was freed, and why (the last few hundred ended sessions are remembered).

Where shared memory does not work, bulk data moves in chunks (streams.py): stream messages,
numbered with the batches for a client that numbers its messages (protocol.py), routed to the
session's Streams as they arrive in order, whichever session's op is running.
"""

import gc
import os
import re
import sys
import threading
import time
import traceback
from collections import OrderedDict, deque

import torch
import zmq

from . import interrupt, shm
from .codec import pack, unpack
from .protocol import CONTROL, OP, SHM_PREFIX
from .resume import Resume
from .server import Server
from .streams import Streams

_HELLO = OP["HELLO"]
# runtime -> client [GONE, reason]: this runtime holds no session for the client (it was freed
# or shut down). A reply message's first element (ops run) is never negative.
GONE = -1
_SESSION_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
_ENDED_KEPT = 512  # ended sessions whose end a returning client is told about


class _SessionLink:
    """One session's view of the shared ops ROUTER: what its Server sends and polls."""

    __slots__ = ("host", "session")

    def __init__(self, host, session):
        self.host = host
        self.session = session

    def send(self, data):
        s = self.session
        if s.sequenced:
            self.host.ops.send_multipart([s.peer, data, s.resume.stamp(data)])
        else:
            self.host.ops.send_multipart([s.peer, data])

    def send_stream(self, fields, body):
        """A stream message [body, header] (protocol.py), numbered like a reply message for a
        client that numbers its messages; body is sent without a copy (the sender keeps it
        alive, and so does the resume books' copy of it until the client has seen it)."""
        s = self.session
        header = s.resume.stamp_stream(fields, body) if s.sequenced else pack(fields)
        self.host.ops.send_multipart([s.peer, body, header], copy=False)

    def recv_nowait(self):
        return self.host.take(self.session)

    def wait(self, timeout):
        """What arrives for this session within timeout seconds (Python waits on one of its TS
        callbacks: other sessions wait meanwhile, as behind a long op); None once it is gone."""
        host, s = self.host, self.session
        host.pump(timeout)
        if host.gone(s):
            return None
        out = list(s.inbox)
        s.inbox.clear()
        return out


class ServedSession:
    def __init__(self, host, sid, prefix, peer, use_shm):
        self.id = sid
        self.prefix = prefix
        self.peer = peer
        self.inbox = deque()  # messages not yet run
        link = _SessionLink(host, self)
        self.server = Server(link, None, sid, prefix)
        ex = self.server.executor
        ex.data.use_shm = use_shm
        ex.info = dict(ex.info, shm=use_shm, served=True)
        # uploads may come in chunks even where shared memory works: the client sends them so
        # until the handshake has told it that it does
        ex.streams = Streams(link.send_stream, host.pump, lambda: host.gone(self))
        self.grad = host.baseline_grad
        self.dtype = host.baseline_dtype
        self.last_seen = time.monotonic()
        self.ending = None  # set (to why) by the control thread; the main thread ends it
        # a client that numbers its messages (headers) gets resends after a dropped connection
        self.sequenced = False
        self.resume = Resume(self._send, lambda line: _log(f"session {sid}: {line}"))
        self._host = host

    def _send(self, payload, header):
        self._host.ops.send_multipart([self.peer, payload, header])


class Host:
    def __init__(self, ctx, ops, control, grace, one_client, exit_process):
        self.ctx = ctx
        self.ops = ops
        self.control = control
        self.grace = grace
        self.one_client = one_client
        self.exit_process = exit_process  # exit_process(code): cleans up, never returns
        self.sessions = {}  # session id -> ServedSession
        self.by_peer = {}  # ops peer identity -> ServedSession
        self.ended = OrderedDict()  # session id -> how it ended (the most recent _ENDED_KEPT)
        self.active = None  # the session whose torch state is in effect
        self.baseline_grad = torch.is_grad_enabled()
        self.baseline_dtype = torch.get_default_dtype()
        self._wake_endpoint = f"inproc://torchbridge-wake-{id(self)}"
        self._wake = ctx.socket(zmq.PULL)
        self._wake.bind(self._wake_endpoint)

    # -- main thread -------------------------------------------------------------
    def serve(self):
        # as a child runtime does (server.py): fewer, cheaper cyclic GC runs while ops run
        gc.collect()
        gc.freeze()
        gc.set_threshold(100_000, 50, 1000)
        interrupt.install()
        threading.Thread(target=self._control_loop, name="torchbridge-control", daemon=True).start()
        poller = zmq.Poller()
        poller.register(self.ops, zmq.POLLIN)
        poller.register(self._wake, zmq.POLLIN)
        tick_ms = int(min(1.0, self.grace / 4) * 1000)
        while True:
            busy = any(s.inbox for s in list(self.sessions.values()))
            ready = dict(poller.poll(0 if busy else tick_ms))
            if self._wake in ready:
                while self._wake.poll(0):
                    self._wake.recv()
            if self.ops in ready:
                self._receive_all()
            self._end_due()
            # one message per session in turn: a client that never idles cannot starve the rest
            for s in [s for s in self.sessions.values() if s.inbox]:
                if self.sessions.get(s.id) is s and s.inbox:
                    self._run(s, s.inbox.popleft())

    def _receive_all(self):
        ops = self.ops
        while True:
            try:
                frames = ops.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            if len(frames) == 2:  # [peer, payload]: a client that does not number its messages
                self._route(frames[0].bytes, frames[1].buffer, None)
                continue
            try:
                header = unpack(frames[2].bytes)
                ok = len(frames) == 3 and isinstance(header, list) and len(header) >= 2 and all(type(x) is int for x in header)
            except Exception:  # noqa: BLE001
                ok = False
            if not ok:
                _log(f"dropped a malformed message ({len(frames) - 1} frames) from peer {frames[0].bytes!r}")
            elif header[0] < 0:  # [peer, body, stream header]: from a client that does not number
                self._route_stream(frames[0].bytes, header, frames[1].buffer)
            elif len(header) > 2 and header[0] > 0:  # [peer, body, [batch, seen, *stream header]]
                self._route(frames[0].bytes, (header[2:], frames[1].buffer), header[:2])
            else:
                self._route(frames[0].bytes, frames[1].buffer, header)

    def pump(self, timeout_s):
        """Route what arrives within timeout_s (a chunked transfer waiting for chunks or credits)."""
        if self.ops.poll(int(timeout_s * 1000), zmq.POLLIN):
            self._receive_all()

    def gone(self, s):
        """Why session s's client is out of reach, else None (a transfer waiting on it stops)."""
        if s.ending:
            return f"the session is ending ({s.ending})"
        if time.monotonic() - s.last_seen > self.grace:
            return f"no message or ping from the client for {self.grace:g} s"
        return None

    def _route_stream(self, peer, header, body):
        s = self.by_peer.get(peer)
        if s is None:
            self.ops.send_multipart([peer, pack([GONE, self.gone_reason(peer.decode("utf-8", "replace"))])])
            return
        s.last_seen = time.monotonic()
        self._stream_message(s, header, body)

    def _stream_message(self, s, header, body):
        streams = s.server.executor.streams if s.server is not None else None
        if streams is None:  # ended meanwhile
            return
        try:
            streams.on_message(header, body)
        except Exception as e:  # noqa: BLE001 -- the client's bug: say so, keep serving
            _log(f"session {s.id}: dropped a malformed stream message ({e})")

    def _route(self, peer, payload, header):
        s = self.by_peer.get(peer)
        if s is None:
            # (a connection that drops before the HELLO arrives fails that session: rare, and clear)
            s, refusal = self._hello(peer, payload, header)
            if s is None:
                self.ops.send_multipart([peer, pack([GONE, refusal])])
                return
        s.last_seen = time.monotonic()
        if header is None:
            s.inbox.append(payload)
            return
        for p in s.resume.accept(header, payload):
            if p.__class__ is tuple:  # a numbered stream message, now in order: (stream header, body)
                self._stream_message(s, p[0], p[1])
            else:
                s.inbox.append(p)

    def gone_reason(self, sid):
        """What a client whose session this runtime does not hold is told."""
        why = self.ended.get(sid)
        if why is not None:
            return f"this client's session {sid} was {why}"
        return (
            "this runtime holds no session for this client: it was shut down, or freed after "
            f"{self.grace:g} s without a message or ping, or the runtime restarted. Call torch.init() to start a new session."
        )

    def _hello(self, peer, payload, header):
        """A message from a peer not seen before: it must start with HELLO (a new session, or a
        reconnecting client's). Returns (session, None) or (None, why not)."""
        try:
            first = unpack(payload)[0]
            ok = first[0] == _HELLO and isinstance(first[2], str) and _SESSION_ID.fullmatch(first[2])
        except Exception:  # noqa: BLE001 -- whatever it is, it is not a HELLO
            ok = False
        if not ok:
            return None, self.gone_reason(peer.decode("utf-8", "replace"))
        sid = first[2]
        s = self.sessions.get(sid)
        if s is not None:  # a reconnecting client: its new peer takes over
            if self.by_peer.get(s.peer) is s:
                del self.by_peer[s.peer]
        else:
            if self.one_client and self.sessions:
                return None, "this runtime serves one client (--one-client) and has one; start another runtime"
            prefix = first[3] if len(first) > 3 else None
            probe = first[4] if len(first) > 4 else None
            # The prefix names the client's segments and what we sweep: only this session's.
            if not (isinstance(prefix, str) and re.fullmatch(re.escape(SHM_PREFIX) + r"\d+-" + re.escape(sid) + "-", prefix)):
                prefix, probe = f"{SHM_PREFIX}{os.getpid()}-{sid}-", None
            use_shm = isinstance(probe, dict) and str(probe.get("name", "")).startswith(prefix) and shm.probe(probe["name"], probe.get("nonce"))
            s = ServedSession(self, sid, prefix, peer, use_shm)
            s.sequenced = header is not None
            self.sessions[sid] = s
            _log(f"session {sid} started ({'shared memory' if use_shm else 'data inline, no shared memory'})")
        s.peer = peer
        self.by_peer[peer] = s
        return s, None

    def take(self, session):
        """What arrived for `session` while its ops run (Server's poll). Nothing while another
        session has messages waiting: the running batch ends and the others get their turn."""
        self._receive_all()
        for s in self.sessions.values():
            if s is not session and s.inbox:
                return []
        out = list(session.inbox)
        session.inbox.clear()
        return out

    def _run(self, s, payload):
        self._activate(s)
        try:
            more = s.server.handle(payload)
        except BaseException:  # noqa: BLE001 -- a runtime bug: end this session, keep serving the rest
            traceback.print_exc()
            self._end(s, "ended by an error in the runtime (see its log)")
            return
        if not more:
            self._end(s, "shut down by its client")

    def _activate(self, s):
        """Make `s`'s grad mode and default dtype torch's (saving the previous session's)."""
        a = self.active
        if a is s:
            return
        if a is not None:
            a.grad = torch.is_grad_enabled()
            a.dtype = torch.get_default_dtype()
        torch.set_grad_enabled(s.grad)
        torch.set_default_dtype(s.dtype)
        self.active = s

    def _end_due(self):
        now = time.monotonic()
        for s in list(self.sessions.values()):
            s.resume.trim()  # (replies acknowledged by control pings: their memory goes now)
            if s.ending:
                self._end(s, s.ending)
            elif not s.inbox and now - s.last_seen > self.grace:
                self._end(s, f"freed after {self.grace:g} s without a message or ping from its client (the runtime's grace period, --grace)")

    def _end(self, s, why):
        if self.sessions.get(s.id) is s:
            del self.sessions[s.id]
        if self.by_peer.get(s.peer) is s:
            del self.by_peer[s.peer]
        if self.active is s:
            self.active = None
        self.ended[s.id] = why
        while len(self.ended) > _ENDED_KEPT:
            self.ended.popitem(last=False)
        ex = s.server.executor
        ex.handles.clear()  # its tensors go now (by refcount), not at the next GC
        if ex.streams is not None:
            ex.streams.clear()
        ex.queue.clear()
        s.inbox.clear()
        s.server = None
        gc.collect()  # autograd graphs can hold cycles
        shm.sweep(s.prefix)
        _log(f"session {s.id} ended ({why})")
        if self.one_client:
            self.exit_process(0)

    # -- control thread ----------------------------------------------------------
    def _control_loop(self):
        control = self.control
        wake = self.ctx.socket(zmq.PUSH)
        wake.connect(self._wake_endpoint)
        while True:
            peer, payload = control.recv_multipart()
            try:
                req_id, cmd, *rest = unpack(payload)
            except Exception:  # noqa: BLE001 -- not a control request
                continue
            sid = peer.decode("utf-8", "replace")
            s = self.sessions.get(sid)
            if s is not None:
                s.last_seen = time.monotonic()
            # [id, PING, [sent, seen]]: a client that numbers its messages, watching its session
            state = rest[0] if cmd == CONTROL["PING"] and rest and isinstance(rest[0], list) and len(rest[0]) >= 2 else None
            if state is not None and s is not None and isinstance(state[1], int):
                s.resume.seen_control = max(s.resume.seen_control, state[1])
            if req_id == 0:  # a keepalive: the client is still there, no answer wanted
                continue
            if state is not None:
                control.send_multipart([peer, pack([req_id, 0, self._resume_state(s, sid)])])
                continue
            if cmd == CONTROL["SHUTDOWN"]:
                control.send_multipart([peer, pack([req_id, 0, None])])
                if self.one_client:
                    self.exit_process(0)
                if s is not None:  # only this client's session ends
                    s.ending = "shut down by its client (control)"
                    wake.send(b"")
                continue
            value = self._control_command(s, cmd, rest[0] if rest else None)
            control.send_multipart([peer, pack([req_id, 0, value])])

    def _resume_state(self, s, sid):
        """A watching client's ping answered: what arrived and what was sent, or that its
        session is gone (and why)."""
        value = {"pid": os.getpid(), "time": time.time()}
        if s is None or s.server is None:
            value["gone"] = self.gone_reason(sid)
        else:
            value["received"] = s.resume.received
            value["replied"] = s.resume.replied
        return value

    def _control_command(self, s, cmd, arg=None):
        server = s.server if s is not None else None  # (the main thread may end it meanwhile)
        if server is None:
            return {"pid": os.getpid(), "time": time.time()} if cmd == CONTROL["PING"] else None
        value = _retrying(lambda: server.control_command(cmd, arg))
        if cmd == CONTROL["STATS"] and isinstance(value, dict):
            value = dict(value, runtime=self.runtime_stats())
        return value

    def runtime_stats(self):
        """Every session's tensors together (what the runtime holds for all its clients)."""
        sessions = list(self.sessions.values())
        total = {"sessions": len(sessions), "tensors": 0, "bytes": 0}
        for s in sessions:
            server = s.server
            st = _retrying(server.executor.stats) if server is not None else None
            if st is None:
                continue
            total["tensors"] += st["tensors"]
            total["bytes"] += st["bytes"]
        return total


def _retrying(fn, tries=20):
    """fn() from the control thread while the main thread may be changing the handle table
    (iteration then raises RuntimeError: dictionary changed size); a retry sees a settled one.
    None if it never does."""
    for _ in range(tries):
        try:
            return fn()
        except RuntimeError:
            time.sleep(0.001)
    return None


def _log(msg):
    sys.stderr.write(f"torchbridge-runtime: {msg}\n")
    sys.stderr.flush()
