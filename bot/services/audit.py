"""The audit log: every admin action, from chat, CLI or API, with who, what, when and why.

Written in the same transaction as the action, so the log can neither miss an
action that happened nor record one that rolled back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from db.repositories.audit import AuditRow
from db.uow import UnitOfWork

VIA = ("chat", "cli", "api")


@dataclass
class AuditLog:
    uow: UnitOfWork
    clock: Clock

    async def record(self, action: str, *, actor_id: int | None, via: str, target: object = None,
                     reason: str | None = None, **detail: object) -> None:
        if via not in VIA:
            raise ValueError(f"via must be one of {VIA}")
        await self.uow.audit.append(
            at=self.clock.now(), actor_id=actor_id, via=via, action=action[:32],
            target=None if target is None else str(target)[:64], reason=reason, detail=detail,
        )

    async def since(self, at: datetime, *, limit: int = 1000, action: str | None = None) -> list[AuditRow]:
        return await self.uow.audit.since(at, limit=limit, action=action)
