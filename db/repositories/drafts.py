from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from db.dialect import insert_for
from db.models import ChatDraft
from db.repositories.base import Repository


@dataclass(frozen=True)
class DraftRow:
    user_id: int
    kind: str
    data: dict
    updated_at: datetime


class DraftRepository(Repository):
    """One dialogue in progress per admin; starting another replaces it."""

    async def get(self, user_id: int) -> DraftRow | None:
        row = (await self.session.execute(
            select(ChatDraft.user_id, ChatDraft.kind, ChatDraft.data, ChatDraft.updated_at)
            .where(ChatDraft.user_id == user_id))).first()
        return DraftRow(*row) if row else None

    async def put(self, user_id: int, kind: str, data: dict, now: datetime) -> None:
        stmt = insert_for(self.tx, ChatDraft).values(user_id=user_id, kind=kind, data=data, updated_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=[ChatDraft.user_id],
                                          set_={"kind": kind, "data": data, "updated_at": now})
        await self.session.execute(stmt)

    async def clear(self, user_id: int) -> None:
        await self.session.execute(delete(ChatDraft).where(ChatDraft.user_id == user_id))
