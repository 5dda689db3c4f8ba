"""`referral-bot`: the operator's command line.

    referral-bot run                  start the bot (migrates first)
    referral-bot migrate              bring the database schema to the newest revision
    referral-bot user <id> [--json]   one user: language, status, codes, upline, referrals by level
    referral-bot demo [--users N]     seed an invented referral forest to look around in
    referral-bot freeze ID --reason R / unfreeze ID / promote ID agent|admin / demote ID   (audited)
    referral-bot audit --since 7d     the audit log of admin actions

Only `run` imports a Telegram library. The others import SQLAlchemy, Rich and
the rest inside the command, so they start fast and work without BOT_TOKEN.
A bad setting ends any command with one line on stderr and exit status 2.
"""
from __future__ import annotations

import json

import typer

from bot.cli.admin import demote, freeze, promote, unfreeze
from bot.cli.audit import audit
from bot.cli.common import db_error as _db_error
from bot.cli.common import fail as _fail
from bot.cli.common import require_database, run_async, run_db
from bot.cli.broadcast import broadcast
from bot.cli.export import export
from bot.cli.events import events_app  # Typer only; the command imports the rest when it runs
from bot.cli.ledger import ledger_app  # Typer only, likewise
from bot.cli.program import program_app

app = typer.Typer(
    name="referral-bot",
    help="Referral assistant: a Telegram bot for a lending platform's referral program.",
    add_completion=False,
    no_args_is_help=True,
    # Locals could include the bot token or database password.
    pretty_exceptions_show_locals=False,
)

app.add_typer(events_app, name="events")
app.add_typer(ledger_app, name="ledger")
app.add_typer(program_app, name="program")
app.command("broadcast")(broadcast)
app.command("audit")(audit)
app.command("export")(export)
for _admin_action in (freeze, unfreeze, promote, demote):
    app.command()(_admin_action)


@app.command()
def run() -> None:
    """Start the bot: migrate the database, then serve Telegram updates until stopped."""
    from bot.config import ConfigError, settings_or_exit

    settings = settings_or_exit()
    from bot.runtime.launcher import run_bot

    try:
        run_bot(settings)
    except ConfigError as exc:
        raise _fail(f"configuration error: {exc}", 2) from None


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest revision (safe to run any time)."""
    from bot.config import settings_or_exit

    settings = settings_or_exit()
    from sqlalchemy.exc import SQLAlchemyError

    from db.migrate import upgrade_to

    try:
        result = run_async(upgrade_to(settings.database_url))
    except (SQLAlchemyError, OSError) as exc:
        raise _db_error(exc) from None
    if result.changed:
        print(f"migrated {result.before or '(empty)'} -> {result.after} (head)")
    else:
        print(f"up to date at {result.after} (head)")


@app.command()
def user(
    telegram_id: int = typer.Argument(..., help="The user's Telegram id."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Show one user: language, status, codes, referrer, upline, referrals and balances (fen) per level."""
    from bot.config import settings_or_exit

    settings = settings_or_exit()
    require_database(settings)
    from bot.cli.userinfo import lookup

    info = run_db(lookup(settings, telegram_id))
    if info is None:
        raise _fail(f"no user with Telegram id {telegram_id}")
    if as_json:
        print(json.dumps(info, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"User {telegram_id}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("language", info["language"])
    table.add_row("status", info["status"])
    table.add_row("codes", ", ".join(info["codes"]) or "-")
    table.add_row("referrer", str(info["referrer_id"]) if info["referrer_id"] is not None else "-")
    table.add_row("upline", " → ".join(str(u) for u in info["upline"]) or "-")
    for level, count in info["referrals_by_level"].items():
        table.add_row(f"level-{level} referrals", str(count))
    for state, fen in info["balance"].items():
        table.add_row(f"balance {state}", f"{fen / 100:,.2f}")
    for level, fen in info["earnings_by_level"].items():
        table.add_row(f"level-{level} earnings", f"{fen / 100:,.2f}")
    Console().print(table)


@app.command()
def demo(
    users: int = typer.Option(40, "--users", min=1, help="How many demo users (the same ones every time)."),
) -> None:
    """Seed the configured database with an invented referral forest (idempotent)."""
    from bot.config import settings_or_exit

    settings = settings_or_exit()
    from sqlalchemy.exc import SQLAlchemyError

    from bot.cli.demo import MAX_USERS, seed

    if users > MAX_USERS:
        raise _fail(f"--users: at most {MAX_USERS}", 2)
    try:
        report = run_async(seed(settings.database_url, users=users, levels=settings.referral_levels))
    except (SQLAlchemyError, OSError) as exc:
        raise _db_error(exc) from None

    from rich.console import Console
    from rich.table import Table

    console = Console()
    levels = settings.referral_levels
    table = Table(title=f"Demo referral forest: {len(report.users)} users")
    for heading in ("id", "name", "level", "codes", *(f"L{k}" for k in range(1, levels + 1))):
        table.add_column(heading, justify="right" if heading.startswith("L") or heading == "level" else "left")
    roots = [u for u in report.users if u.level == 1][:6]
    deepest = [u for u in report.users if u.level == 3][:2] or [u for u in report.users if u.level == 2][:2]
    for u in roots + deepest:
        counts = report.counts.get(u.id, {})
        table.add_row(str(u.id), u.first_name, str(u.level), ", ".join(report.codes.get(u.id, [])),
                      *(str(counts.get(k, 0)) for k in range(1, levels + 1)))
    console.print(table)
    console.print(f"new users: {report.created_users}, new bindings: {report.created_bindings} "
                  f"(ids {report.users[0].id}..{report.users[-1].id}; join notices to these fake ids "
                  "were deleted from the outbox)", soft_wrap=True, highlight=False)
    example = (deepest or roots)[0]
    console.print(f"try: referral-bot user {example.id} --json", markup=False, highlight=False)


def main() -> None:
    from bot import heap

    # Held until the command's imports are done: run_async settles it, or for `run` the launcher
    # once the bot is up (bot/heap.py).
    heap.hold()
    try:
        app(prog_name="referral-bot")
    finally:
        heap.at_exit()


if __name__ == "__main__":
    main()
