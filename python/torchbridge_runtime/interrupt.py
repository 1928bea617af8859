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
        self.running = None  # seq of this session's CALL running now, None between ops
        self._target = None  # seq of the op to interrupt

    def request(self, seq):
        """From a control thread: interrupt this session's op running now, if it came before `seq`."""
        with _lock:
            running = self.running
            if running is None or running >= seq:
                return False
            self._target = running
            _requests.append(self)
        _thread.interrupt_main(_SIGNAL)
        return True
