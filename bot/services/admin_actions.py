"""What an admin may do to a user: freeze, unfreeze, promote, demote. Chat, CLI and API call this one code.

Each change is written to the audit log in the caller's transaction. Refusals
and no-ops ("already frozen") change nothing, so they are not audited: the log
records what happened to users, not what someone typed.

Nobody is told. A freeze is a risk decision under review (fraud, farming):
telling the suspect tips them off and invites arguing with a bot; the platform's
support speaks for the program, and a frozen user sees it anyway when /code is
refused. A promotion or demotion says nothing either: what changes for the person is their
command menu in Telegram (bot/services/menus.py), which follows their role.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.services.audit import AuditLog
from db.repositories.users import UserRow
from db.uow import UnitOfWork

ROLES = ("agent", "admin")
MAX_REASON = 500


class Outcome(str, Enum):
    DONE = "done"
    ALREADY = "already"  # nothing to change: the user is already in that state
    UNKNOWN_USER = "unknown_user"
    NO_REASON = "no_reason"
    SELF = "self"
    ADMIN_TARGET = "admin_target"  # admins are not frozen; demote them first
    CONFIG_ADMIN = "config_admin"  # ADMIN_IDS: their role comes from configuration
    BAD_ROLE = "bad_role"
    FROZEN = "frozen"  # no promotion while frozen


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    user: UserRow | None = None
    before: str | None = None  # the status or role before the change

    @property
    def done(self) -> bool:
        return self.outcome is Outcome.DONE


def clean_reason(reason: str | None) -> str | None:
    text = " ".join((reason or "").split())
    return text[:MAX_REASON] or None


class AdminActions:
    def __init__(self, uow: UnitOfWork, audit: AuditLog, admin_ids: frozenset[int]) -> None:
        self.uow = uow
        self.audit = audit
        self.admin_ids = admin_ids

    def is_admin(self, user: UserRow) -> bool:
        return user.id in self.admin_ids or user.role == "admin"

    async def _target(self, target_id: int) -> UserRow | None:
        # The row lock makes check-then-set atomic: two admins freezing at once give one
        # "frozen" and one "already frozen", and one audit entry.
        await self.uow.users.lock(target_id)
        return await self.uow.users.get(target_id)

    async def freeze(self, target_id: int, *, actor_id: int | None, via: str, reason: str | None) -> Result:
        reason = clean_reason(reason)
        if reason is None:
            return Result(Outcome.NO_REASON)
        if actor_id is not None and target_id == actor_id:
            return Result(Outcome.SELF)
        user = await self._target(target_id)
        if user is None:
            return Result(Outcome.UNKNOWN_USER)
        if self.is_admin(user):
            return Result(Outcome.ADMIN_TARGET, user)
        if user.status == "frozen":
            return Result(Outcome.ALREADY, user)
        await self.uow.users.set_status(target_id, "frozen")
        await self.audit.record("freeze", actor_id=actor_id, via=via, target=target_id, reason=reason,
                                before=user.status)
        return Result(Outcome.DONE, user, user.status)

    async def unfreeze(self, target_id: int, *, actor_id: int | None, via: str, reason: str | None = None) -> Result:
        user = await self._target(target_id)
        if user is None:
            return Result(Outcome.UNKNOWN_USER)
        if user.status != "frozen":
            return Result(Outcome.ALREADY, user)
        # Back to 'active' even if they had blocked the bot before the freeze: whether they still
        # block it is unknown now, and the next send that gets a 403 marks them blocked again.
        await self.uow.users.set_status(target_id, "active")
        await self.audit.record("unfreeze", actor_id=actor_id, via=via, target=target_id,
                                reason=clean_reason(reason))
        return Result(Outcome.DONE, user, user.status)

    async def promote(self, target_id: int, role: str, *, actor_id: int | None, via: str,
                      reason: str | None = None) -> Result:
        if role not in ROLES:
            return Result(Outcome.BAD_ROLE)
        user = await self._target(target_id)
        if user is None:
            return Result(Outcome.UNKNOWN_USER)
        if user.id in self.admin_ids:
            return Result(Outcome.CONFIG_ADMIN, user)
        if user.status == "frozen":
            return Result(Outcome.FROZEN, user)
        if user.role == role:
            return Result(Outcome.ALREADY, user)
        await self.uow.users.set_role(target_id, role)
        await self.audit.record("promote", actor_id=actor_id, via=via, target=target_id,
                                reason=clean_reason(reason), role=role, before=user.role)
        return Result(Outcome.DONE, user, user.role)

    async def demote(self, target_id: int, *, actor_id: int | None, via: str, reason: str | None = None) -> Result:
        if target_id in self.admin_ids:
            return Result(Outcome.CONFIG_ADMIN)
        if actor_id is not None and target_id == actor_id:
            # An admin who demotes themselves by mistake cannot undo it.
            return Result(Outcome.SELF)
        user = await self._target(target_id)
        if user is None:
            return Result(Outcome.UNKNOWN_USER)
        if user.role == "user":
            return Result(Outcome.ALREADY, user)
        await self.uow.users.set_role(target_id, "user")
        await self.audit.record("demote", actor_id=actor_id, via=via, target=target_id,
                                reason=clean_reason(reason), role="user", before=user.role)
        return Result(Outcome.DONE, user, user.role)
