"""Sockets and threads: the op channel (main thread), the control channel, the parent watch."""

import gc
import os
import sys
import threading
import time
import traceback

import zmq

from . import shm
from .codec import pack, pack_array_header, unpack
from .executor import Executor, Shutdown
from .protocol import CONTROL, VERSION


def runtime_info():
    import platform

    import torch

    return {
        "pid": os.getpid(),
        "python": sys.executable,
        "python_version": platform.python_version(),
        "torch_version": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "device_count": torch.cuda.device_count() if torch.cuda.is_available() else 0,
        "protocol": VERSION,
    }


class Server:
    def __init__(self, endpoint, control_endpoint, session, shm_prefix):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.bind(endpoint)
        self.control_endpoint = control_endpoint
        self.shm_prefix = shm_prefix
        self.peer = None
        self._replies = []  # packed replies of the batch being run
        self.executor = Executor(session, shm_prefix, runtime_info(), self._reply)
        self._exiting = threading.Lock()

    def _reply(self, reply_id, status, value):
        # packed now, so a value that cannot travel fails here, as the op that made it
        self._replies.append(pack([reply_id, status, value]))

    def _send_replies(self):
        """The batch's replies as one message, with how many ops have run: [ran, [[id, status, value], ...]]."""
        replies = self._replies
        if replies:
            self._replies = []
            head = pack_array_header(2) + pack(self.executor.seq) + pack_array_header(len(replies))
            self.sock.send_multipart([self.peer, head + b"".join(replies)])

    def serve(self):
        # Each op allocates a few small containers: with the default gen-0 threshold (700) the
        # cyclic GC would run every ~200 ops and rescan the ever-growing heap. Freeze what
        # exists now (torch itself) and collect far less often.
        gc.collect()
        gc.freeze()
        gc.set_threshold(100_000, 50, 1000)
        threading.Thread(target=self._control_loop, name="torchbridge-control", daemon=True).start()
        recv = self.sock.recv_multipart
        run = self.executor.run
        try:
            while True:
                peer, payload = recv(copy=False)
                self.peer = peer.bytes
                try:
                    run(unpack(payload.buffer))
                except Shutdown:
                    return
                finally:
                    self._send_replies()
        except BaseException:  # a runtime bug: say so (the client shows stderr's tail) and exit non-zero
            traceback.print_exc()
            self.exit(70)
        finally:
            self.exit(0)

    def _control_loop(self):
        sock = self.ctx.socket(zmq.ROUTER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.bind(self.control_endpoint)
        while True:
            peer, payload = sock.recv_multipart()
            req_id, cmd = unpack(payload)
            if cmd == CONTROL["PING"]:
                value = {"pid": os.getpid(), "time": time.time()}
            elif cmd == CONTROL["STATS"]:
                value = self.executor.stats()
            elif cmd == CONTROL["SHUTDOWN"]:
                sock.send_multipart([peer, pack([req_id, 0, None])])
                self.exit(0)
            else:
                value = None
            sock.send_multipart([peer, pack([req_id, 0, value])])

    def watch_parent(self):
        """Exit when the client goes away: our stdin is a pipe only the client holds."""

        def wait_eof():
            try:
                while sys.stdin.buffer.read1(65536):
                    pass
            except Exception:  # noqa: BLE001
                pass
            self.exit(0)

        threading.Thread(target=wait_eof, name="torchbridge-parent-watch", daemon=True).start()

    def exit(self, code):
        if not self._exiting.acquire(blocking=False):
            return
        shm.sweep(self.shm_prefix)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
