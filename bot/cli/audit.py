"""`referral-bot audit --since 7d [--action freeze] [--json]`: the admin actions' audit log.

Who (a Telegram id, or "shell" for the CLI), via (chat / cli / api), what,
to whom, when (local time, TIMEZONE) and why, oldest first. The log is
append-only (database triggers); this only reads it.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

if TYPE_CHECKING:
    from bot.config import Settings
    from db.repositories.audit import AuditRow

_RELATIVE = re.compile(r"(\d{1,6})([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class BadSince(ValueError):
    pass


def parse_since(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    """'7d' / '24h' / '30m' / '2w' back from now; '2026-11-01' (local midnight); an ISO time (local if naive)."""
    value = text.strip()
    relative = _RELATIVE.fullmatch(value)
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=tz).astimezone(timezone.utc)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadSince(f"--since: {text!r} is not a date (2026-11-01), an ISO time (2026-11-01T09:00+08:00) "
                       "or a span back from now (30m, 24h, 7d, 2w)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(timezone.utc)


async def _read(settings: "Settings", since: datetime, action: str | None, limit: int) -> list["AuditRow"]:
    from db.engine import make_engine, make_sessionmaker
    from db.uow import UnitOfWork

    engine = make_engine(settings.database_url)
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            return await uow.audit.since(since, limit=limit, action=action)
    finally:
        await engine.dispose()


def _as_json(row: "AuditRow", tz: ZoneInfo) -> str:
    return json.dumps({"id": row.id, "at": row.at.astimezone(tz).isoformat(), "actor_id": row.actor_id,
                       "via": row.via, "action": row.action, "target": row.target, "reason": row.reason,
                       "detail": row.detail}, ensure_ascii=False, sort_keys=False)


def audit(
    since: str = typer.Option("7d", "--since", help="From when: 2026-11-01, an ISO time, or 30m / 24h / 7d / 2w."),
    action: str | None = typer.Option(None, "--action", help="Only this action (freeze, unfreeze, promote, demote, ...)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object a line instead of a table."),
    limit: int = typer.Option(1000, "--limit", min=1, help="At most this many entries, oldest first."),
) -> None:
    """Print the audit log of admin actions: who, via, what, target, when (local time), why."""
    from bot.cli.common import fail as _fail
    from bot.cli.common import require_database, run_db
    from bot.config import settings_or_exit

    settings = settings_or_exit()
    tz = settings.tz
    try:
        start = parse_since(since, datetime.now(timezone.utc), tz)
    except BadSince as exc:
        raise _fail(str(exc), 2) from None
    require_database(settings)
    rows = run_db(_read(settings, start, action, limit + 1))
    truncated = len(rows) > limit
    rows = rows[:limit]
    if as_json:
        for row in rows:
            print(_as_json(row, tz))
    else:
        _print_table(rows, start, tz, action)
    if truncated:
        import sys

        print(f"showing the first {limit} entries; narrow --since or raise --limit for the rest", file=sys.stderr)


def _print_table(rows: list["AuditRow"], start: datetime, tz: ZoneInfo, action: str | None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # piped to a file or grep: no terminal to fit, keep rows on one line
    since_text = start.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    if not rows:
        what = f"{action} entries" if action else "entries"
        console.print(f"no audit {what} since {since_text}", markup=False, highlight=False)
        return
    table = Table(title=f"Audit log since {since_text}")
    # Ids and times whole, never cut with an ellipsis; the free text wraps instead.
    for heading in ("when", "who", "via", "action", "target"):
        table.add_column(heading, no_wrap=True)
    for heading in ("why", "detail"):
        table.add_column(heading, overflow="fold", min_width=12)
    for row in rows:
        detail = ", ".join(f"{k}={v}" for k, v in (row.detail or {}).items())
        cells = (row.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                 str(row.actor_id) if row.actor_id is not None else "shell",
                 row.via, row.action, row.target or "-", row.reason or "-", detail or "-")
        table.add_row(*(Text(cell) for cell in cells))  # a reason like "[red]" is text, not markup
    console.print(table)
