"""torch.interrupt(): stop the op that is running, as Jupyter's interrupt stops a cell.

A control thread asks; the main thread, where ops run, gets a KeyboardInterrupt at its next
bytecode (`_thread.interrupt_main`), so a Python loop of big matmuls stops between two of
them. The op that was running is poisoned with that error, and so is every op the client had
queued before it asked (the rest of a program that would not have run in Python either); ops
sent afterwards run as usual, and the session keeps its tensors.

The main thread is told through SIGUSR1's Python handler (interrupt_main simulates the signal;
no real signal is sent), leaving SIGINT to its owner: a served runtime stops on it, a child
runtime ignores a terminal's Ctrl-C (its client decides, and it ends when its client does).
Each session's executor has its own Interrupter; only the one whose op is running is stopped.

A chunked transfer (streams.py) is stopped differently: it routes messages while it waits, and an
exception raised at an arbitrary bytecode there could drop a message half-routed. So for a
transfer the request only sets a flag, which the transfer looks at between chunks.
"""

import _thread
import signal
import threading

_SIGNAL = signal.SIGUSR1
_lock = threading.Lock()
_requests = []  # Interrupters that asked, not yet served by the main thread


def install():
    """Route the simulated signal to the interrupters (main thread, once per process)."""
    signal.signal(_SIGNAL, _on_signal)


def _on_signal(signum, frame):
    # the main thread, between bytecodes: stop the op only if it is still the one asked for
    with _lock:
        asked = list(_requests)
        _requests.clear()
    for it in asked:
        target, it._target = it._target, None
        if target is not None and target == it.running:
            raise KeyboardInterrupt("interrupted by torch.interrupt()")


class Interrupter:
    def __init__(self):
        self.running = None  # seq of this session's CALL or transfer running now, None between ops
        self._target = None  # seq of the op to interrupt
        self._transfer = False  # the op running is a chunked transfer: stop it by flag
        self._stop = None  # seq of the transfer asked to stop

    def request(self, seq):
        """From a control thread: interrupt this session's op running now, if it came before `seq`."""
        with _lock:
            running = self.running
            if running is None or running >= seq:
                return False
            if self._transfer:
                self._stop = running
                return True
            self._target = running
            _requests.append(self)
        _thread.interrupt_main(_SIGNAL)
        return True

    def begin_transfer(self, seq):
        with _lock:
            self.running = seq
            self._transfer = True
            self._stop = None

    def end_transfer(self):
        with _lock:
            self.running = None
            self._transfer = False
            self._stop = None

    def check_transfer(self):
        """In a transfer, between chunks: raise KeyboardInterrupt once asked to stop."""
        if self._stop is not None and self._stop == self.running:
            raise KeyboardInterrupt("interrupted by torch.interrupt()")
