"""`referral-bot export --agent ID --csv`: an agent's residents, one CSV row each."""
from __future__ import annotations

import typer


def export(
    agent: int = typer.Option(..., "--agent", help="The agent's Telegram id."),
    csv: bool = typer.Option(True, "--csv/--no-csv", help="CSV on stdout (the only format so far)."),
) -> None:
    """An agent's residents as CSV: station, masked name, dates and funnel steps."""
    raise typer.Exit(3)  # filled in by the stations work
