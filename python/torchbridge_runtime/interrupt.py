"""torch.interrupt(): stop the op that is running, as Jupyter's interrupt stops a cell.

The control thread asks; the main thread, where ops run, gets a KeyboardInterrupt at its next
bytecode (`_thread.interrupt_main`), so a Python loop of big matmuls stops between two of
them. The op that was running is poisoned with that error, and so is every op the client had
queued before it asked (the rest of a program that would not have run in Python either); ops
sent afterwards run as usual, and the session keeps its tensors.

SIGINT from a terminal (Ctrl-C reaches the whole process group) is not the runtime's to act
on: its client decides, and the runtime ends when its client does.
"""

import _thread
import signal
import threading


class Interrupter:
    def __init__(self):
        self.running = None  # seq of the CALL running now, None between ops
        self._target = None  # seq of the op to interrupt
        self._lock = threading.Lock()

    def install(self):
        signal.signal(signal.SIGINT, self._on_sigint)

    def request(self, seq):
        """From the control thread: interrupt the op running now, if it came before `seq`."""
        with self._lock:
            running = self.running
            if running is None or running >= seq:
                return False
            self._target = running
        _thread.interrupt_main()
        return True

    def _on_sigint(self, signum, frame):
        # runs in the main thread between bytecodes; only the op it was meant for is stopped
        with self._lock:
            target, self._target = self._target, None
        if target is not None and target == self.running:
            raise KeyboardInterrupt("interrupted by torch.interrupt()")
