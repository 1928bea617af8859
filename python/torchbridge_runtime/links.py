"""How the runtime talks to its client: one interface, a transport chosen per connection.

A link carries whole messages (msgpack payloads) both ways:
  recv()         blocks for the next message; None once the client is gone
  recv_nowait()  the messages that have already arrived (possibly none), without blocking
  send(data)     one message, in order
  wait(timeout)  the messages that arrive within timeout seconds (possibly none); None once the
                 client is gone (Python waiting on a TS callback, callbacks.py)

SocketLink is the child runtime's default: an inherited Unix socket pair with length-prefixed
frames (no socket file, so no other process can connect, and no I/O thread to wake per
message). ZmqLink is a ZeroMQ DEALER peer, for `TORCHBRIDGE_TRANSPORT=zmq` children.
"""

import os
import select
import socket
import struct
from collections import deque

_HEADER = struct.Struct("<I")  # frame length, little-endian uint32
_CHUNK = 1 << 18


class SocketLink:
    """Length-prefixed frames over a connected stream socket (an inherited fd)."""

    def __init__(self, fd):
        self.sock = socket.socket(fileno=fd)
        self.sock.setblocking(True)
        self._buf = bytearray()
        # reads land here: sock.recv(n) would allocate n bytes per call (an mmap for large n)
        self._chunk = bytearray(_CHUNK)
        self._view = memoryview(self._chunk)
        self._ready = deque()  # complete frames not yet handed out
        self._eof = False
        # readiness without an exception: an empty non-blocking recv raises, which costs ~10 µs
        self._poller = select.poll()
        self._poller.register(self.sock, select.POLLIN)

    def _split(self):
        """Move the complete frames at the front of the buffer to the ready queue."""
        buf = self._buf
        start = 0
        n = len(buf)
        while n - start >= 4:
            (size,) = _HEADER.unpack_from(buf, start)
            if n - start - 4 < size:
                break
            self._ready.append(bytes(buf[start + 4 : start + 4 + size]))
            start += 4 + size
        if start:
            del buf[:start]

    def _read_some(self):
        """One recv into the buffer: the byte count, 0 at end of stream."""
        n = self.sock.recv_into(self._chunk)
        if n == 0:
            self._eof = True
            return 0
        self._buf += self._view[:n]
        return n

    def recv(self):
        while not self._ready:
            if self._eof:
                return None
            if self._read_some():
                self._split()
        return self._ready.popleft()

    def recv_nowait(self):
        while not self._eof and self._poller.poll(0):
            if self._read_some() < _CHUNK:  # readable: returns at once
                break
        self._split()
        out = list(self._ready)
        self._ready.clear()
        return out

    def wait(self, timeout):
        if not self._ready and not self._eof:
            self._poller.poll(int(timeout * 1000))
        out = self.recv_nowait()
        return None if not out and self._eof else out

    def send(self, data):
        header = _HEADER.pack(len(data))
        if len(data) < 65536:
            self.sock.sendall(header + data)
        else:  # no copy of a large payload just to prepend four bytes
            self.sock.sendall(header)
            self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class ZmqLink:
    """A ZeroMQ ROUTER bound to an endpoint, talking to the one client that connects."""

    def __init__(self, ctx, endpoint):
        import zmq

        self._zmq = zmq
        self.sock = ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.bind(endpoint)
        self.peer = None
        self._path = endpoint[len("ipc://") :] if endpoint.startswith("ipc://") else None

    def recv(self):
        peer, payload = self.sock.recv_multipart(copy=False)
        self.peer = peer.bytes
        return payload.buffer

    def recv_nowait(self):
        out = []
        zmq = self._zmq
        while True:
            try:
                peer, payload = self.sock.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return out
            self.peer = peer.bytes
            out.append(payload.buffer)

    def wait(self, timeout):
        # (a client that is gone: the parent watch ends the process)
        if self.sock.poll(int(timeout * 1000), self._zmq.POLLIN):
            return self.recv_nowait()
        return []

    def send(self, data):
        self.sock.send_multipart([self.peer, data])

    def close(self):
        self.sock.close(0)

    def remove_socket_file(self):
        """At exit (os._exit skips ZeroMQ's own clean-up): the ipc socket file goes, and its
        directory with it when it is a client's private torchbridge-<pid>-* one and now empty,
        so a client killed by a signal leaves nothing behind (see src/runtime/ipc_dir.ts)."""
        if self._path is None:
            return
        try:
            os.unlink(self._path)
        except OSError:
            pass
        parent = os.path.dirname(self._path)
        if os.path.basename(parent).startswith("torchbridge-"):
            try:
                os.rmdir(parent)
            except OSError:  # the other socket's file is still there, or the client removed it
                pass
