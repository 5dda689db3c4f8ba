"""Publishing the next program version with notice, shared by `referral-bot program publish` and /publish.

`propose()` checks everything and says what would happen (the changes, how
many users hear of them); `publish()` stores the version, queues one
announcement per active user with a single INSERT ... SELECT, and writes the
audit entry, all in the caller's transaction: a publish either happens whole,
announced and audited, or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import JSON, String, cast, func, literal, select

from bot.outbox.queue import PRIORITY_TIP
from bot.services.audit import AuditLog
from bot.services.rewards.program import Program, ProgramError, parse_program, program_from_json
from bot.services.rewards.programs import ProgramBook
from bot.services.rewards.rules_summary import Change, diff
from db.dialect import insert_for
from db.models import OutboxMessage, User
from db.uow import UnitOfWork

ANNOUNCEMENT_KIND = "rules"
ANNOUNCEMENT_KEY = "rulechange-announce"
LOCAL_FORMAT = "%Y-%m-%d %H:%M"


class PublishRefused(ValueError):
    """Why a version cannot be published: `str()` is one English line (CLI); `code`/`args` name a text (chat)."""

    def __init__(self, code: str, message: str, **args: object) -> None:
        super().__init__(message)
        self.code, self.params = code, args


def parse_effective(text: str, tz: tzinfo) -> datetime:
    """An ISO 8601 time; without an offset it is read in TIMEZONE."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise PublishRefused("bad-time", f"--effective: {text!r} is not a time like 2026-12-10T00:00+08:00",
                             value=text[:40]) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def local(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime(LOCAL_FORMAT)


def check_effective(effective_at: datetime, *, now: datetime, notice_days: int, tz: tzinfo,
                    urgent_reason: str | None) -> None:
    """Not in the past; at least RULE_NOTICE_DAYS ahead unless there is an urgent reason."""
    if effective_at < now:
        raise PublishRefused("past", f"the effective time {local(effective_at, tz)} is in the past",
                             date=local(effective_at, tz))
    earliest = now + timedelta(days=notice_days)
    if not (urgent_reason or "").strip() and effective_at < earliest:
        raise PublishRefused("notice", f"rule changes need {notice_days} days' notice (RULE_NOTICE_DAYS): take "
                             f"effect at {local(earliest, tz)} or later, or give --urgent \"reason\"",
                             days=notice_days, earliest=local(earliest, tz))


@dataclass(frozen=True)
class Proposal:
    program: Program
    previous: Program
    effective_at: datetime
    urgent_reason: str | None
    changes: tuple[Change, ...]
    recipients: int


def _active_users():  # noqa: ANN202
    """Who hears of a rule change: people with a chat with the bot who have not blocked it or been frozen."""
    return select(User.id).where(User.status == "active", User.id > 0, User.is_bot.is_(False))


async def count_recipients(uow: UnitOfWork) -> int:
    sub = _active_users().subquery()
    return (await uow.session.execute(select(func.count()).select_from(sub))).scalar_one()


async def propose(uow: UnitOfWork, book: ProgramBook, *, source: str, origin: str, effective_at: datetime,
                  now: datetime, notice_days: int, max_levels: int, tz: tzinfo,
                  urgent_reason: str | None = None) -> Proposal:
    """Validates a program file for publishing; raises PublishRefused with the first reason it cannot be."""
    try:
        program = parse_program(source, origin)
    except ProgramError as exc:
        raise PublishRefused("invalid", str(exc), detail=str(exc)) from None
    if program.levels > max_levels:
        raise PublishRefused("levels", f"{origin}: levels = {program.levels} but REFERRAL_LEVELS = {max_levels}",
                             levels=program.levels, max=max_levels)
    urgent_reason = (urgent_reason or "").strip() or None
    await uow.programs.lock_publishing()
    await book.store_first(uow, now)  # a database nobody started the bot on yet: the configured program is v1
    latest = await uow.programs.latest()
    assert latest is not None
    if program.version <= latest.version:
        raise PublishRefused("not-newer", f"version {program.version} is not newer than the latest published "
                             f"version {latest.version}; number the new program {latest.version + 1} or higher",
                             version=program.version, latest=latest.version)
    check_effective(effective_at, now=now, notice_days=notice_days, tz=tz, urgent_reason=urgent_reason)
    if effective_at <= latest.effective_at:
        raise PublishRefused("before-latest", f"version {latest.version} takes effect at "
                             f"{local(latest.effective_at, tz)}; the new version must take effect after that",
                             latest=latest.version, date=local(latest.effective_at, tz))
    previous = program_from_json(latest.rules, latest.source)
    return Proposal(program, previous, effective_at, urgent_reason, tuple(diff(previous, program)),
                    await count_recipients(uow))


def announcement_args(program: Program, changes: tuple[Change, ...] | list[Change], effective_at: datetime,
                      tz: tzinfo) -> dict:
    """What an announcement row carries; rendered in the recipient's language when it is sent."""
    args: dict = {"version": program.version, "date": local(effective_at, tz), "tz": str(tz),
                  "changes": [c.to_json() for c in changes]}
    if any(c.label == "perk" for c in changes):
        args["perk"] = dict(program.referee_perk)
    return args


async def publish(uow: UnitOfWork, book: ProgramBook, proposal: Proposal, *, audit: AuditLog,
                  actor_id: int | None, via: str, now: datetime, tz: tzinfo) -> int:
    """Stores the version and queues its announcement to every active user; returns how many were queued."""
    program = proposal.program
    if not await uow.programs.insert_if_absent(
            version=program.version, source=program.source, rules=program.to_json(),
            effective_at=proposal.effective_at, now=now, published_by=actor_id,
            urgent_reason=proposal.urgent_reason):
        raise PublishRefused("taken", f"version {program.version} was published meanwhile", version=program.version)
    args = announcement_args(program, proposal.changes, proposal.effective_at, tz)
    users = _active_users().subquery()
    rows = select(
        users.c.id, literal(ANNOUNCEMENT_KIND), literal(PRIORITY_TIP), literal(ANNOUNCEMENT_KEY),
        literal(args, type_=JSON), literal(f"rules:{program.version}:") + cast(users.c.id, String),
        literal("pending"), literal(0), literal(now, type_=OutboxMessage.not_before.type),
        literal(now, type_=OutboxMessage.created_at.type),
    ).where(users.c.id > 0)  # SQLite needs a WHERE to read INSERT ... SELECT ... ON CONFLICT unambiguously
    stmt = insert_for(uow.session, OutboxMessage).from_select(
        ["chat_id", "kind", "priority", "text_key", "args", "dedup_key", "state", "attempts", "not_before",
         "created_at"], rows).on_conflict_do_nothing(index_elements=[OutboxMessage.dedup_key])
    queued = (await uow.session.execute(stmt)).rowcount
    await audit.record("program_publish", actor_id=actor_id, via=via, target=f"v{program.version}",
                       reason=proposal.urgent_reason, version=program.version,
                       previous=proposal.previous.version, effective_at=proposal.effective_at.isoformat(),
                       urgent=proposal.urgent_reason is not None, announced=queued)
    uow.outbox_queued = True
    book.forget()
    return queued
