"""Chunked bulk data for a served session that cannot share memory with its client.

The wire format and flow control are described in protocol.py ("Chunked bulk data"). Everything
here runs on the main thread: chunks and credits are taken in as the host routes what arrives
(between ops, or while a transfer waits), so an upload makes progress while earlier ops run.
"""

import torch

from .protocol import CHUNK_BYTES, STREAM, WINDOW_CHUNKS

_CHUNK = STREAM["CHUNK"]
_CREDIT = STREAM["CREDIT"]
_STOP = STREAM["STOP"]
WINDOW_BYTES = CHUNK_BYTES * WINDOW_CHUNKS
# How long one wait for the socket lasts before the transfer looks again at why it might stop
# (an interrupt, a client gone quiet): the latency of torch.interrupt() on a transfer.
POLL_S = 0.02
_EMPTY = b""


class StreamError(Exception):
    """The client broke the stream protocol (a chunk out of order, a size that does not match)."""


class _Upload:
    __slots__ = ("data", "view", "received", "total", "error")

    def __init__(self, total):
        self.data = torch.empty(total, dtype=torch.uint8)  # the tensor's own memory, filled in place
        self.view = memoryview(self.data.numpy())
        self.received = 0
        self.total = total
        self.error = None


class Streams:
    """One session's transfers in chunks.

    send(fields, body)  one stream message to this session's client (fields: its header)
    pump(timeout_s)     route whatever arrives within timeout_s (this session's chunks and
                        credits come back here through on_message)
    gone()              why the client is out of reach (silent for its grace period, or its
                        session is ending), else None

    A transfer also takes `check`, which raises KeyboardInterrupt once torch.interrupt() asked
    to stop it; both are looked at between chunks and after every wait of POLL_S.
    """

    def __init__(self, send, pump, gone):
        self._send = send
        self._pump = pump
        self._gone = gone
        self._uploads = {}  # stream -> _Upload, from its first chunk until its op takes it
        self._stopped = set()  # uploads stopped before their first chunk came: drop it
        self._credited = {}  # download stream -> bytes the client has copied

    # -- routing: a stream message from the client (header already unpacked by the host) ---
    def on_message(self, header, body):
        kind, stream, a, *rest = header
        if kind == _CHUNK:
            self._chunk(stream, a, rest[0], body)
        elif kind == _CREDIT:
            if stream in self._credited:
                self._credited[stream] = a
        else:
            raise StreamError(f"unknown stream message kind {kind!r}")

    def _chunk(self, stream, offset, total, body):
        u = self._uploads.get(stream)
        if u is None:
            if offset != 0:
                return  # the rest of an upload that was stopped
            if stream in self._stopped:
                self._stopped.discard(stream)
                return
            u = self._uploads[stream] = _Upload(total)
        n = len(body)
        if u.error is None:
            if offset != u.received or total != u.total or offset + n > total:
                u.error = StreamError(f"stream {stream}: a chunk of {n} bytes at {offset} of {total}, expected one at {u.received} of {u.total}")
                u.received = u.total  # complete, as far as waiting goes: its op fails with the error
            else:
                u.view[offset : offset + n] = body
                u.received += n
        self._send([_CREDIT, stream, u.received], _EMPTY)

    # -- the ops that wait on streams ----------------------------------------------------------
    def receive(self, stream, nbytes, check):
        """The upload `stream` of nbytes, once every chunk has come: a uint8 tensor over its bytes."""
        try:
            while True:
                u = self._uploads.get(stream)
                if u is not None and u.received >= u.total:
                    break
                self._check(check)
                self._pump(POLL_S)
        except BaseException:
            self.stop(stream)
            raise
        del self._uploads[stream]
        if u.error is not None:
            raise u.error
        if u.total != nbytes:
            raise StreamError(f"stream {stream} brought {u.total} bytes, its tensor needs {nbytes}")
        return u.data

    def stop(self, stream):
        """The op that wanted upload `stream` will not take it: drop what came, tell the client."""
        u = self._uploads.pop(stream, None)
        if u is None:
            self._stopped.add(stream)
        elif u.received >= u.total:
            return  # all of it came: nothing to stop
        self._send([_STOP, stream, 0], _EMPTY)

    def send(self, stream, src, check):
        """Send `src` (a 1-D uint8 tensor, any device) as download `stream`; returns once the
        client has credited every byte, so no frame still refers to src's memory."""
        total = src.numel()
        credited = self._credited
        credited[stream] = 0
        sent = 0
        try:
            while True:
                self._check(check)
                if sent < total and sent - credited[stream] < WINDOW_BYTES:
                    n = min(CHUNK_BYTES, total - sent)
                    piece = src[sent : sent + n]
                    if piece.device.type != "cpu":
                        piece = piece.cpu()  # a GPU tensor stages through host memory a chunk at a time
                    self._send([_CHUNK, stream, sent, total], memoryview(piece.numpy()))
                    sent += n
                elif credited[stream] >= total:
                    return
                else:
                    self._pump(POLL_S)
        finally:
            del credited[stream]

    def _check(self, check):
        check()
        why = self._gone()
        if why is not None:
            raise ConnectionError(f"the transfer stopped: {why}")

    def clear(self):
        self._uploads.clear()
        self._stopped.clear()
        self._credited.clear()
