"""`referral-bot events import FILE.jsonl`: platform events from a file, through the API's code path.

Each non-blank line is one event body, handed as bytes to the same
`EventIntake.submit` the HTTP API uses, one line after another in file order
(an account_linked line must be applied before the first_loan below it). The
file is streamed line by line, never read whole; a line over 64 KiB is
reported invalid without being held in memory. Importing a file again is safe:
events already stored come back as duplicates.

Exit status: 0 when no line was invalid or conflicting, 1 otherwise (or when
the database failed part way), 2 for a bad setting.

Only Typer is imported with this module; the rest when the command runs.
"""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from contextlib import nullcontext
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator

import typer

from bot.cli.common import run_async

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from bot.api.app import EventIntake
    from bot.clock import Clock
    from bot.config import Settings

events_app = typer.Typer(help="Conversion events reported by the lending platform.", no_args_is_help=True)

OUTCOMES = ("accepted", "duplicate", "conflict", "invalid", "refused")
LABELS = {"conflict": "conflicting"}
FAILING = ("invalid", "conflict")
MAX_LISTED = 200  # problem lines kept for the report; the rest are only counted


@dataclass(frozen=True)
class LineProblem:
    line: int
    outcome: str
    message: str


@dataclass
class ImportReport:
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[LineProblem] = field(default_factory=list)
    unlisted: int = 0
    lines: int = 0  # lines read, blank ones included
    failed_at: int | None = None  # the line whose submission raised, if any

    @property
    def ok(self) -> bool:
        return self.failed_at is None and not any(self.counts[o] for o in FAILING)

    def record(self, line: int, outcome: str, message: str = "") -> None:
        self.counts[outcome] += 1
        if outcome == "accepted" or outcome == "duplicate":
            return
        if len(self.problems) < MAX_LISTED:
            self.problems.append(LineProblem(line, outcome, message))
        else:
            self.unlisted += 1


class ImportAborted(Exception):
    def __init__(self, report: ImportReport, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.report = report
        self.cause = cause


def read_lines(
    stream: BinaryIO, max_bytes: int, on_bytes: Callable[[int], None]
) -> Iterator[tuple[int, bytes | None]]:
    """Yields (line number, body, or None for a line over max_bytes), skipping blank lines."""
    cap = max_bytes + 2  # room for the body and "\r\n"
    number = 0
    while True:
        line = stream.readline(cap)
        if not line:
            return
        number += 1
        on_bytes(len(line))
        if len(line) == cap and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of an overlong line in bounded pieces
                line = stream.readline(cap)
                on_bytes(len(line))
            yield number, None
            continue
        body = line.removesuffix(b"\n").removesuffix(b"\r")
        if body.strip():
            yield number, body


async def import_stream(
    stream: BinaryIO, intake: "EventIntake", clock: "Clock", on_bytes: Callable[[int], None] = lambda _n: None
) -> ImportReport:
    from bot.services.events.schema import MAX_EVENT_BYTES

    report = ImportReport()
    for number, body in read_lines(stream, MAX_EVENT_BYTES, on_bytes):
        report.lines = number
        if body is None:
            report.record(number, "invalid", f"body: larger than {MAX_EVENT_BYTES // 1024} KiB")
            continue
        try:
            submission = await intake.submit(body, received_at=clock.now())
        except Exception as exc:
            report.failed_at = number
            raise ImportAborted(report, exc) from exc
        report.record(number, submission.status, str(submission.body.get("error", "")))
    return report


def _open_intake(settings: "Settings") -> "AbstractAsyncContextManager[EventIntake]":
    from bot.services.events.intake import open_intake

    return open_intake(settings)


async def _run(path: Path | None, settings: "Settings") -> ImportReport:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from bot.clock import SystemClock

    name = "stdin" if path is None else path.name
    total = None if path is None else path.stat().st_size
    columns = (TextColumn("importing {task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(name, total=total)
        with (nullcontext(sys.stdin.buffer) if path is None else path.open("rb")) as stream:
            async with _open_intake(settings) as intake:
                return await import_stream(stream, intake, SystemClock(),
                                           lambda n: progress.advance(task, n))


def _print_report(report: ImportReport, source: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"{source}: {report.lines} lines read", highlight=False, soft_wrap=True)
    summary = Table(title="Events import")
    summary.add_column("outcome")
    summary.add_column("lines", justify="right")
    extra = sorted(set(report.counts) - set(OUTCOMES))
    for outcome in (*OUTCOMES, *extra):
        summary.add_row(LABELS.get(outcome, outcome), str(report.counts[outcome]))
    console.print(summary)
    if report.problems:
        problems = Table(title="Lines not applied")
        problems.add_column("line", justify="right")
        problems.add_column("outcome")
        problems.add_column("error", overflow="fold")
        for problem in report.problems:
            problems.add_row(str(problem.line), LABELS.get(problem.outcome, problem.outcome), problem.message)
        console.print(problems)
    if report.unlisted:
        console.print(f"... and {report.unlisted} more lines not applied (not listed)", highlight=False)


@events_app.command("import")
def import_command(
    file: str = typer.Argument(
        ..., metavar="FILE.jsonl",
        help="JSON Lines: one event per line, as POSTed to /api/v1/events; - reads standard input.",
    ),
) -> None:
    """Apply a file of platform events through the same code path as the HTTP API (idempotent)."""
    from bot.cli.common import db_error as _db_error
    from bot.cli.common import fail as _fail
    from bot.cli.common import require_database

    path = None if file == "-" else Path(file)
    if path is not None and not path.is_file():
        raise _fail(f"{file}: no such file", 2)
    from bot.config import settings_or_exit

    settings = settings_or_exit()
    require_database(settings)
    source = "stdin" if path is None else file
    from sqlalchemy.exc import SQLAlchemyError

    try:
        report = run_async(_run(path, settings))
    except ImportAborted as exc:
        _print_report(exc.report, source)
        print(f"stopped at line {exc.report.failed_at}: the lines before it were applied; "
              "importing the file again is safe (applied events come back as duplicates)", file=sys.stderr)
        if isinstance(exc.cause, (SQLAlchemyError, OSError)):
            raise _db_error(exc.cause) from None
        raise _fail(f"error: {type(exc.cause).__name__}: {exc.cause}") from None
    except SQLAlchemyError as exc:
        raise _db_error(exc) from None
    except OSError as exc:
        raise _fail(f"cannot read {source}: {exc}") from None
    _print_report(report, source)
    if not report.ok:
        raise typer.Exit(1)
