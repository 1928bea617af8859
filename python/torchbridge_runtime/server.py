"""Sockets and threads: the op channel (main thread), the control channel, the parent watch."""

import gc
import os
import signal
import sys
import threading
import time
import traceback

from . import interrupt, shm
from .codec import pack, pack_array_header, refusal, unpack
from .executor import Executor, Shutdown
from .protocol import CONTROL, HELPERS, STATUS, VERSION


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
        "helpers": list(HELPERS),
    }


class Server:
    """One client's session: its ops link (run on the main thread) and its control link (its
    own thread, so ping, stats, interrupt and shutdown never wait behind a long op)."""

    def __init__(self, link, control, session, shm_prefix):
        self.link = link
        self.control = control
        self.shm_prefix = shm_prefix
        self._replies = []  # packed replies not yet sent
        self.executor = Executor(session, shm_prefix, runtime_info(), self._reply, self._send_replies, self._poll, self._wait)
        self._exiting = threading.Lock()

    def _reply(self, reply_id, status, value):
        # packed now, so a value that cannot travel fails here: as that read's error, never the runtime's end
        try:
            packed = pack([reply_id, status, value])
        except Exception as e:  # noqa: BLE001
            packed = pack([reply_id, STATUS["ERROR"], refusal(value, e)])
        self._replies.append(packed)

    def _send_replies(self):
        """The replies so far as one message, with how many ops have run: [ran, [[id, status, value], ...]]."""
        replies = self._replies
        released = self.executor.callbacks.take_released()
        if released:  # TS functions Python dropped: first, so the client knows before the reads settle
            replies.insert(0, pack([0, STATUS["RELEASE"], released]))
        if replies:
            self._replies = []
            head = pack_array_header(2) + pack(self.executor.ran) + pack_array_header(len(replies))
            self.link.send(head + b"".join(replies))

    def _poll(self):
        return [unpack(p) for p in self.link.recv_nowait()]

    def _wait(self, timeout_s):
        """The batches that arrive within timeout_s (Python waits on a TS callback); None once the client is gone."""
        payloads = self.link.wait(timeout_s)
        return None if payloads is None else [unpack(p) for p in payloads]

    def serve(self):
        # Each op allocates a few small containers: with the default gen-0 threshold (700) the
        # cyclic GC would run every ~200 ops and rescan the ever-growing heap. Freeze what
        # exists now (torch itself) and collect far less often.
        gc.collect()
        gc.freeze()
        gc.set_threshold(100_000, 50, 1000)
        interrupt.install()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is the client's to act on
        threading.Thread(target=self._control_loop, name="torchbridge-control", daemon=True).start()
        recv = self.link.recv
        handle = self.handle
        try:
            while True:
                payload = recv()
                if payload is None:  # the client is gone
                    return
                if not handle(payload):
                    return
        except BaseException:  # a runtime bug: say so (the client shows stderr's tail) and exit non-zero
            traceback.print_exc()
            self.exit(70)
        finally:
            self.exit(0)

    def handle(self, payload):
        """Run one message's ops and send their replies; False once SHUTDOWN has run."""
        try:
            self.executor.run(unpack(payload))
        except Shutdown:
            return False
        finally:
            self._send_replies()
        return True

    def _control_loop(self):
        control = self.control
        while True:
            payload = control.recv()
            if payload is None:
                return
            req_id, cmd, *rest = unpack(payload)
            if cmd == CONTROL["SHUTDOWN"]:
                control.send(pack([req_id, 0, None]))
                self.exit(0)
            control.send(pack([req_id, 0, self.control_command(cmd, rest[0] if rest else None)]))

    def control_command(self, cmd, arg=None):
        """The answer to a control command other than shutdown (a served runtime asks each
        session's Server too). Runs on a control thread, never behind ops."""
        if cmd == CONTROL["PING"]:
            return {"pid": os.getpid(), "time": time.time()}
        if cmd == CONTROL["STATS"]:
            return self.executor.stats()
        if cmd == CONTROL["INTERRUPT"]:
            return {"interrupted": self.executor.interrupt(arg)}
        return None

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
        for link in (self.link, self.control):  # a zmq link's ipc socket file (a client killed by a signal leaves it)
            remove = getattr(link, "remove_socket_file", None)
            if remove is not None:
                remove()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
