"""SIGTERM asks the consumer to stop, but a process forked meanwhile (a view worker) still dies by it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

from consumers.stop_signals import stop_on_signals


def _wait_forever() -> None:
    while True:
        time.sleep(0.05)


def test_sigterm_asks_the_process_that_installed_the_handler_to_stop_once() -> None:
    stops: list[str] = []

    with stop_on_signals(stops.append):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)  # the handler runs between bytecodes of the main thread
        after_first = signal.getsignal(signal.SIGTERM)

    assert stops == ["SIGTERM"]
    assert after_first == signal.SIG_DFL  # a second signal acts at once


def test_a_child_forked_while_the_handlers_are_installed_is_terminated_by_sigterm() -> None:
    stops: list[str] = []

    with stop_on_signals(stops.append):
        child = multiprocessing.get_context("fork").Process(target=_wait_forever)
        child.start()
        time.sleep(0.2)
        child.terminate()  # what a multiprocessing pool does on exit
        child.join(timeout=10)
        alive = child.is_alive()
        if alive:
            child.kill()
            child.join()

    assert not alive and child.exitcode == -signal.SIGTERM
    assert stops == []
