"""`journey ingest FILE.jsonl`: validate every line, apply the good ones in batches,
write the rejected ones to a dead-letter file beside the input with their reason.

The dead-letter file FILE.dlq.jsonl describes the last run only: a run removes the previous one's
file first, and a run that rejects nothing leaves none. Each rejected line is written with its
line number, field, reason and `raw`, the line itself with its personal data (`name`, `phone`
and `national_id`, wherever they stand, also in a line that is not JSON) replaced by the keyed
hashes the store holds (journey.privacy.redacted_line). Logs name the line, field and reason only.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import structlog

from journey.application import JourneyApplication
from journey.collections_gc import fewer_collections
from journey.errors import InvalidTouchpointError
from journey.privacy import redacted_line
from journey.touchpoints import AnyTouchpoint, parse_touchpoint

log = structlog.get_logger()

BATCH_SIZE = 1000


@dataclass
class IngestReport:
    """The counts `journey ingest` prints."""

    read: int = 0
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    dead_letters: Path | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "read": self.read,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "dead_letters": str(self.dead_letters) if self.dead_letters else None,
        }


def dead_letter_path(source: Path) -> Path:
    """The dead-letter file beside the input: FILE.jsonl -> FILE.dlq.jsonl."""
    return source.with_name(f"{source.stem}.dlq.jsonl")


def ingest_file(
    app: JourneyApplication,
    source: Path,
    *,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest a JSONL file; no line can stop it. Re-ingesting the same file changes nothing."""
    report = IngestReport()
    dlq_path = dead_letter_path(source)
    dlq: IO[str] | None = None
    batch: list[AnyTouchpoint] = []
    try:
        with source.open("rb") as lines, fewer_collections():
            dlq_path.unlink(missing_ok=True)  # the file describes this run only
            for number, raw in jsonl_lines(lines):
                report.read += 1
                try:
                    batch.append(parse_touchpoint(raw))
                except InvalidTouchpointError as exc:
                    if dlq is None:
                        dlq = dlq_path.open("w", encoding="utf-8")
                    _dead_letter(dlq, number, raw, exc, report, app.pii_key)
                if len(batch) >= batch_size:
                    _apply(app, batch, report)
                if on_progress is not None:
                    on_progress(len(raw) + 1)
            _apply(app, batch, report)
    finally:
        if dlq is not None:
            dlq.close()
            report.dead_letters = dlq_path
    log.info(
        "ingest_finished", source=source.name, **{k: v for k, v in report.as_dict().items() if k != "source"}
    )
    return report


def jsonl_lines(lines: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of a JSONL file with their numbers, without line ends (LF or CRLF) and
    without the UTF-8 byte-order mark that Windows tools put before the first."""
    for number, raw in enumerate(lines, start=1):
        raw = raw.rstrip(b"\r\n")
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if raw.strip():
            yield number, raw


def _apply(app: JourneyApplication, batch: list[AnyTouchpoint], report: IngestReport) -> None:
    if batch:
        outcome = app.ingest(batch)
        report.applied += outcome.applied
        report.duplicates += outcome.duplicates
        batch.clear()


def _dead_letter(
    dlq: IO[str], number: int, raw: bytes, exc: InvalidTouchpointError, report: IngestReport, key: str
) -> None:
    report.rejected += 1
    report.reasons[exc.field] = report.reasons.get(exc.field, 0) + 1
    record = {
        "line": number,
        "field": exc.field,
        "reason": str(exc),
        "raw": redacted_line(raw, key) or raw.decode("utf-8", errors="replace"),
    }
    dlq.write(json.dumps(record) + "\n")
    log.warning("touchpoint_rejected", line=number, field=exc.field, reason=exc.reason[:200])
