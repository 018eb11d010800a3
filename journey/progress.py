"""A progress bar on a terminal (rich), nothing otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def byte_progress(path: Path) -> Iterator[Callable[[int], None] | None]:
    """Yield an advance(bytes) callback drawing a bar over the file's size, or None off a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(f"ingest {path.name}", total=path.stat().st_size)
        yield lambda n: bar.advance(task, n)
