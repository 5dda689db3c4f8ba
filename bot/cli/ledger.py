"""`referral-bot ledger check`: recompute every balance from the entries and the ledger from the events.

Exit status: 0 when the ledger is consistent, 1 with every problem listed
otherwise (or when the database cannot be read), 2 for a bad setting.

Only Typer is imported with this module; the rest when the command runs. The
App comes from the launcher's `prepare` (no Telegram library is imported).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from bot.cli.common import run_async

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services.rewards.audit import AuditReport

ledger_app = typer.Typer(help="The rewards ledger.", no_args_is_help=True)


async def _check(settings: "Settings", replay: bool) -> "AuditReport":
    from bot.runtime.launcher import prepare
    from bot.services.rewards.audit import audit

    app = await prepare(settings)
    try:
        return await audit(app, replay=replay)
    finally:
        await app.close()


def _print_report(report: "AuditReport") -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=True)
    summary = Table(title="Ledger check")
    summary.add_column("checked")
    summary.add_column("count", justify="right")
    summary.add_row("users", str(report.users))
    summary.add_row("beneficiaries (balances recomputed)", str(report.beneficiaries))
    summary.add_row("ledger entries", str(report.entries))
    summary.add_row("events", str(report.events))
    if report.replayed:
        summary.add_row("events replayed", str(report.replayed_events))
        summary.add_row("entries produced by the replay", str(report.replayed_entries))
    summary.add_row("problems", str(report.problem_count), style="bold red" if report.problem_count else "green")
    console.print(summary)
    for note in report.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    if report.ok:
        console.print("ledger is consistent: balances, entries and the replay of the events agree"
                      + ("" if report.replayed else " (replay skipped)"), markup=False, highlight=False)
        return
    console.print("Problems:", style="bold red")
    for problem in report.problems:
        console.print(f"- {problem}", markup=False, highlight=False)
    if report.unlisted:
        console.print(f"... and {report.unlisted} more problems (not listed)", markup=False, highlight=False)


@ledger_app.command("check")
def check_command(
    skip_replay: bool = typer.Option(
        False, "--skip-replay", help="Check balances and entries only; skip recomputing the ledger from the events."),
) -> None:
    """Recompute every balance from the entries and the whole ledger from the events; exit 1 on any difference."""
    from bot.cli.common import db_error as _db_error
    from bot.cli.common import fail as _fail
    from bot.cli.common import require_database
    from bot.config import ConfigError, settings_or_exit

    settings = settings_or_exit()
    require_database(settings)
    from sqlalchemy.exc import SQLAlchemyError

    try:
        report = run_async(_check(settings, replay=not skip_replay))
    except ConfigError as exc:
        raise _fail(f"configuration error: {exc}", 2) from None
    except (SQLAlchemyError, OSError) as exc:
        raise _db_error(exc) from None
    _print_report(report)
    if not report.ok:
        raise typer.Exit(1)
