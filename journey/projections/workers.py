"""Writing the view rows of a catch-up's groups of customers, in this process or, for a large
catch-up (a rebuild, a long lag), in worker processes that each recompute and write whole
groups with their own connections.

Either way the tracking record is written only once every group's rows are: in the
transaction of the last group here, in a transaction of its own after the workers. A crash
part-way leaves the position unmoved and the next run redoes the range; rewriting a group
replaces its keys' rows (and adjusts the summaries by the difference), so it is idempotent.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial

import structlog
from eventsourcing.persistence import Tracking

from journey.application import JourneyApplication
from journey.projections.catalog import PARTS
from journey.projections.rows import Job, RowBuilder
from journey.projections.store import ViewRecorder, open_view_recorder
from journey.rules import Rules

log = structlog.get_logger()

#: Fewer jobs than this are computed in the projecting process (a pool costs ~1 s to start).
MIN_JOBS_PER_WORKER = 1000
#: A long catch-up (a rebuild) says how far it is this often.
PROGRESS_EVERY_S = 5.0


class _Progress:
    """Logs `views_progress` (customers and dealers written of all, per second) every few seconds."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.started = self._last = time.monotonic()

    def add(self, jobs: int) -> None:
        self.done += jobs
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            rate = self.done / (now - self.started)
            log.info("views_progress", written=self.done, of=self.total, per_s=round(rate, 1))


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to open the event store and the view tables (picklable)."""

    database_url: str
    pii_key: str
    rules: Rules
    prefix: str


def worker_count(setting: int) -> int:
    """0 means one worker per core."""
    return setting if setting > 0 else os.cpu_count() or 1


def write_groups(
    builder: RowBuilder,
    recorder: ViewRecorder,
    spec: WorkerSpec,
    groups: Sequence[Sequence[Job]],
    tracking: Tracking,
    workers: int,
    min_jobs_per_worker: int = MIN_JOBS_PER_WORKER,
    fresh: bool = False,
) -> int:
    """Write every group's rows, then the tracking record; returns how many processes computed
    them (worker processes when the work is large enough to pay for a pool). ``fresh``: the
    tables are empty and each key is in one group only, so rows are only inserted."""
    jobs = sum(len(g) for g in groups)
    parallel = min(workers, len(groups), jobs // max(1, min_jobs_per_worker))
    progress = _Progress(jobs)
    if parallel < 2 or spec.database_url.endswith(":memory:"):
        for i, group in enumerate(groups):
            recorder.write(builder.changes_for(group), tracking if i == len(groups) - 1 else None, fresh)
            progress.add(len(group))
        return 1
    # fork: spawn would re-run the caller's __main__ in every worker. A forked worker never
    # touches the connections it inherits: it opens its own store. A worker that dies breaks the
    # pool (BrokenProcessPool raised here, the position unmoved) rather than hanging the catch-up.
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(parallel, mp_context=context, initializer=_open, initargs=(spec, os.getpid()))
    try:
        for written in pool.map(partial(_write_group, fresh=fresh), [list(g) for g in groups]):
            progress.add(written)
    except BaseException:  # e.g. Ctrl-C: the groups in hand are finished, the others dropped
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    recorder.write({}, tracking)
    return parallel


_worker: tuple[RowBuilder, ViewRecorder] | None = None


def _open(spec: WorkerSpec, parent: int) -> None:
    global _worker
    # a stop signal sent to the whole process group (Ctrl-C, systemd, timeout) is the projecting
    # process's to act on, once the catch-up in hand is written: the workers finish their groups;
    # and they do not outlive it (killed with -9, say), or they would wait on the pool forever
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with(parent)
    # the projecting process created the tables; PostgreSQL fails concurrent creations
    app = JourneyApplication(spec.database_url, pii_key=spec.pii_key, env={"CREATE_TABLE": "n"})
    recorder = open_view_recorder(
        app.factory, prefix=spec.prefix, tables=[p.table for p in PARTS], create=False
    )
    _worker = (RowBuilder(app, spec.rules), recorder)


def _die_with(parent: int) -> None:
    """Linux: SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG); elsewhere nothing."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _write_group(jobs: list[Job], fresh: bool) -> int:
    assert _worker is not None, "worker not initialised"
    builder, recorder = _worker
    recorder.write(builder.changes_for(jobs), None, fresh)
    return len(jobs)
