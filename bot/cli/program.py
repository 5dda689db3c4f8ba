"""`referral-bot program ...`: publish the next program version with notice; list the versions.

    referral-bot program publish FILE --effective 2026-12-10T00:00+08:00 [--urgent "reason"]
    referral-bot program list

Publishing validates the file, stores it as the next version and queues its
announcement to every active user in one transaction; the running bot sends
the announcements. Refusals are one line on stderr, exit status 2.
"""
from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.common import fail, run_async

program_app = typer.Typer(help="The reward program's versions: publish the next one with notice.", no_args_is_help=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    # A refused publication is bad input (exit 2), unlike common.fail's default.
    return fail(message, code)


async def _publish(settings, source: str, origin: str, effective: str, urgent: str | None):  # noqa: ANN001, ANN202
    from bot.clock import SystemClock
    from bot.services.audit import AuditLog
    from bot.services.rewards.program import load_program
    from bot.services.rewards.programs import ProgramBook
    from bot.services.rewards.publishing import parse_effective, propose, publish
    from db.engine import make_engine, make_sessionmaker
    from db.uow import UnitOfWork

    effective_at = parse_effective(effective, settings.tz)
    clock = SystemClock()
    engine = make_engine(settings.database_url)
    try:
        book = ProgramBook(load_program(settings.program_file))
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            now = clock.now()
            proposal = await propose(uow, book, source=source, origin=origin, effective_at=effective_at, now=now,
                                     notice_days=settings.rule_notice_days, max_levels=settings.referral_levels,
                                     tz=settings.tz, urgent_reason=urgent)
            queued = await publish(uow, book, proposal, audit=AuditLog(uow, clock), actor_id=None, via="cli",
                                   now=now, tz=settings.tz)
            await uow.commit()
        return proposal, queued
    finally:
        await engine.dispose()


@program_app.command("publish")
def publish_command(
    file: Path = typer.Argument(..., help="The new program as TOML (the format of PROGRAM_FILE)."),
    effective: str = typer.Option(..., "--effective", help="When it takes effect, ISO 8601, e.g. 2026-12-10T00:00+08:00."),
    urgent: str = typer.Option(None, "--urgent", help="Reason for taking effect with less than RULE_NOTICE_DAYS' notice."),
) -> None:
    """Publish FILE as the next program version and announce it to every active user."""
    from bot.config import settings_or_exit

    settings = settings_or_exit()
    from sqlalchemy.exc import SQLAlchemyError

    from bot.services.rewards.program import ProgramError
    from bot.services.rewards.publishing import PublishRefused, local

    try:
        source = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"{file}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        proposal, queued = run_async(_publish(settings, source, str(file), effective, urgent))
    except (PublishRefused, ProgramError) as exc:
        raise _fail(f"not published: {exc}") from None
    except (SQLAlchemyError, OSError) as exc:
        from bot.cli.common import db_error as _db_error

        raise _db_error(exc) from None
    from bot.services.rewards.money import yuan

    tz = settings.tz
    print(f"published version {proposal.program.version} (replacing {proposal.previous.version}), "
          f"effective {local(proposal.effective_at, tz)} {settings.timezone}"
          + (f", urgent: {proposal.urgent_reason}" if proposal.urgent_reason else ""))
    for change in proposal.changes:
        money = change.kind in ("reward", "tier")
        show = (lambda v: "-" if v is None else yuan(v)) if money else (lambda v: "-" if v is None else str(v))
        print(f"  {change.label}: {show(change.before)} -> {show(change.after)}")
    if not proposal.changes:
        print("  (no change in amounts or conditions)")
    print(f"announcement queued for {queued} users; the running bot sends it")


async def _listing(settings):  # noqa: ANN001, ANN202
    from db.engine import make_engine, make_sessionmaker
    from db.uow import UnitOfWork

    engine = make_engine(settings.database_url)
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            return await uow.programs.listing()
    finally:
        await engine.dispose()


@program_app.command("list")
def list_command() -> None:
    """Every stored version: effective time, who published it, urgent reason, acknowledgements."""
    from bot.config import settings_or_exit

    settings = settings_or_exit()
    from sqlalchemy.exc import SQLAlchemyError

    from bot.clock import SystemClock
    from bot.services.rewards.programs import BEGINNING
    from bot.services.rewards.publishing import local

    try:
        rows = run_async(_listing(settings))
    except (SQLAlchemyError, OSError) as exc:
        from bot.cli.common import db_error as _db_error

        raise _db_error(exc) from None
    from rich.console import Console
    from rich.table import Table

    now, tz = SystemClock().now(), settings.tz
    in_force = max((row.version for row, *_ in rows if row.effective_at <= now), default=None)
    table = Table(title=f"Program versions ({settings.timezone})")
    for heading in ("version", "effective", "state", "published", "by", "urgent reason", "acks"):
        table.add_column(heading, justify="right" if heading in ("version", "acks") else "left")
    for row, by, reason, acks in rows:
        state = "in force" if row.version == in_force else ("announced" if row.effective_at > now else "superseded")
        effective = "from the start" if row.effective_at <= BEGINNING else local(row.effective_at, tz)
        table.add_row(str(row.version), effective, state, local(row.published_at, tz),
                      "cli" if by is None else str(by), reason or "", str(acks))
    Console().print(table)
