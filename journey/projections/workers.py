"""Worker processes for large catch-ups (a rebuild, a long lag): the customers are split in
groups, each worker recomputes a group's rows from the event store with its own connection,
and the projecting process writes them, in order, with the tracking record on the last.

Workers only read; every write (and so exactly-once) stays with the projecting process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from journey.application import JourneyApplication
from journey.projections.rows import Changes, Job, RowBuilder
from journey.rules import Rules

#: Fewer jobs than this are computed in the projecting process (a pool costs ~1 s to start).
MIN_JOBS_PER_WORKER = 1000


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to open the event store and build rows (picklable)."""

    database_url: str
    pii_key: str
    rules: Rules


def worker_count(setting: int) -> int:
    """0 means one worker per core."""
    return setting if setting > 0 else os.cpu_count() or 1


@dataclass
class RowStream:
    """The changes of each group, in order, and how many processes compute them."""

    changes: Iterator[Changes]
    workers: int


@contextmanager
def row_stream(
    builder: RowBuilder,
    spec: WorkerSpec,
    groups: Sequence[Sequence[Job]],
    workers: int,
    min_jobs_per_worker: int = MIN_JOBS_PER_WORKER,
) -> Iterator[RowStream]:
    """The changes of each group, in order: from a pool of worker processes when the work is
    large enough to pay for one, else computed here."""
    jobs = sum(len(g) for g in groups)
    parallel = min(workers, len(groups), jobs // max(1, min_jobs_per_worker))
    if parallel < 2 or spec.database_url.endswith(":memory:"):
        yield RowStream((builder.changes_for(g) for g in groups), 1)
        return
    # fork: spawn would re-run the caller's __main__ in every worker. A forked worker never
    # touches the connections it inherits: it opens its own store and ends with os._exit.
    context = multiprocessing.get_context("fork")
    with context.Pool(parallel, initializer=_open, initargs=(spec,)) as pool:
        yield RowStream(pool.imap(_changes_for, [list(g) for g in groups]), parallel)


_builder: RowBuilder | None = None


def _open(spec: WorkerSpec) -> None:
    global _builder
    _builder = RowBuilder(JourneyApplication(spec.database_url, pii_key=spec.pii_key), spec.rules)


def _changes_for(jobs: list[Job]) -> Changes:
    assert _builder is not None, "worker not initialised"
    return _builder.changes_for(jobs)
