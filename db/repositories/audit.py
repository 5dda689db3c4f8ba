from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from db.models import AuditEntry
from db.repositories.base import Repository


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor_id: int | None
    via: str
    action: str
    target: str | None
    reason: str | None
    detail: dict


_COLUMNS = (AuditEntry.id, AuditEntry.at, AuditEntry.actor_id, AuditEntry.via, AuditEntry.action,
            AuditEntry.target, AuditEntry.reason, AuditEntry.detail)


class AuditRepository(Repository):
    async def append(self, *, at: datetime, actor_id: int | None, via: str, action: str,
                     target: str | None, reason: str | None, detail: dict) -> None:
        await self.session.execute(insert(AuditEntry).values(
            at=at, actor_id=actor_id, via=via, action=action, target=target, reason=reason, detail=detail))

    async def since(self, at: datetime, *, limit: int = 1000, action: str | None = None) -> list[AuditRow]:
        query = select(*_COLUMNS).where(AuditEntry.at >= at)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        rows = await self.session.execute(query.order_by(AuditEntry.at, AuditEntry.id).limit(limit))
        return [AuditRow(*r) for r in rows]
