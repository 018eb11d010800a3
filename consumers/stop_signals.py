"""SIGTERM/SIGINT as a request to stop after the batch in hand, in the process that asked for it only.

A process forked while the handlers are installed (the view projection's worker pool) inherits
them; there a signal must keep its default effect, or the pool's terminate() (a SIGTERM) would be
swallowed and its join() would wait forever.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def default_action(signum: int) -> None:
    """Put the signal's default handler back (a second signal acts at once)."""
    signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)


@contextmanager
def stop_on_signals(stop: Callable[[str], None]) -> Iterator[None]:
    """While the block runs, SIGTERM/SIGINT call ``stop(signal name)`` once, then act as by default.
    Outside the main thread signals cannot be handled: the block runs without handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        for s in STOP_SIGNALS:
            default_action(s)
        if os.getpid() != owner:  # a forked child: what the signal would have done without us
            signal.raise_signal(signum)
            return
        # no logging here: the handler may interrupt a log write that holds the output lock
        stop(signal.Signals(signum).name)

    previous = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
