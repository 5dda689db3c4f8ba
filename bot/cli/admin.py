"""`referral-bot freeze|unfreeze|promote|demote`: the chat's admin actions from a shell.

The same service as /freeze and the others (bot/services/admin_actions.py), in
one transaction with its audit entry (via "cli", no actor: whoever holds the
shell and the database URL). Exit status: 0 when done or already so, 1 when
refused (unknown user, an ADMIN_IDS admin...), 2 for bad input.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Awaitable, Callable

import typer

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services.admin_actions import AdminActions, Result

Action = Callable[["AdminActions"], Awaitable["Result"]]

_REFUSED = {
    "unknown_user": "no user with Telegram id {id}",
    "admin_target": "user {id} is an admin; admins are not frozen (demote them first)",
    "config_admin": "user {id} is an admin through ADMIN_IDS (configuration); change ADMIN_IDS and restart the bot",
    "frozen": "user {id} is frozen; unfreeze them before a promotion",
    "self": "refused: an admin cannot do that to themselves",
}
_BAD_INPUT = {
    "no_reason": "--reason: a freeze needs a reason (it goes to the audit log)",
    "bad_role": "ROLE: agent or admin",
}


async def _apply(settings: "Settings", action: Action) -> "Result":
    from bot.clock import SystemClock
    from bot.services.admin_actions import AdminActions
    from bot.services.audit import AuditLog
    from db.engine import make_engine, make_sessionmaker
    from db.uow import UnitOfWork

    engine = make_engine(settings.database_url)
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            actions = AdminActions(uow, AuditLog(uow, SystemClock()), frozenset(settings.admin_ids))
            result = await action(actions)
            await uow.commit()
            return result
    finally:
        await engine.dispose()


def _run(telegram_id: int, action: Action, done: str, already: str) -> None:
    from bot.cli.common import fail as _fail
    from bot.cli.common import require_database, run_db
    from bot.config import settings_or_exit

    settings = settings_or_exit()
    require_database(settings)
    result = run_db(_apply(settings, action))
    outcome = result.outcome.value
    if outcome in _BAD_INPUT:
        raise _fail(_BAD_INPUT[outcome], 2)
    if outcome in _REFUSED:
        raise _fail(_REFUSED[outcome].format(id=telegram_id))
    user = result.user
    text = done if outcome == "done" else already
    print(text.format(id=telegram_id, before=result.before, status=user.status if user else "",
                      role=user.role if user else ""))


def _reason_or_none(reason: str | None) -> str | None:
    return reason if reason and reason.strip() else None


def freeze(
    telegram_id: int = typer.Argument(..., help="The user's Telegram id."),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the audit log)."),
) -> None:
    """Freeze a user: no rewards while frozen, their codes bind nobody (audited)."""
    if not reason.strip():
        print(_BAD_INPUT["no_reason"], file=sys.stderr)
        raise typer.Exit(2)
    _run(telegram_id, lambda a: a.freeze(telegram_id, actor_id=None, via="cli", reason=reason),
         "froze user {id} (was {before}); audit log entry written",
         "user {id} is already frozen; nothing changed")


def unfreeze(
    telegram_id: int = typer.Argument(..., help="The user's Telegram id."),
    reason: str = typer.Option("", "--reason", help="Why (optional, kept in the audit log)."),
) -> None:
    """Unfreeze a user: back to active (audited)."""
    _run(telegram_id, lambda a: a.unfreeze(telegram_id, actor_id=None, via="cli", reason=_reason_or_none(reason)),
         "unfroze user {id}: active again; audit log entry written",
         "user {id} is not frozen (status: {status}); nothing changed")


def promote(
    telegram_id: int = typer.Argument(..., help="The user's Telegram id."),
    role: str = typer.Argument(..., help="agent or admin."),
    reason: str = typer.Option("", "--reason", help="Why (optional, kept in the audit log)."),
) -> None:
    """Give a user the agent or admin role (audited)."""
    role = role.lower()
    _run(telegram_id,
         lambda a: a.promote(telegram_id, role, actor_id=None, via="cli", reason=_reason_or_none(reason)),
         "user {id} is now " + role + " (was {before}); audit log entry written",
         "user {id} is already " + role + "; nothing changed")


def demote(
    telegram_id: int = typer.Argument(..., help="The user's Telegram id."),
    reason: str = typer.Option("", "--reason", help="Why (optional, kept in the audit log)."),
) -> None:
    """Make an agent or a promoted admin a regular user again (audited). ADMIN_IDS admins: edit ADMIN_IDS."""
    _run(telegram_id, lambda a: a.demote(telegram_id, actor_id=None, via="cli", reason=_reason_or_none(reason)),
         "user {id} is a regular user again (was {before}); audit log entry written",
         "user {id} is already a regular user; nothing changed")
