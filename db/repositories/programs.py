from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import insert_for
from db.models import ProgramVersion


@dataclass(frozen=True)
class ProgramRow:
    version: int
    source: str
    rules: dict
    effective_at: datetime
    published_at: datetime


_COLUMNS = (ProgramVersion.version, ProgramVersion.source, ProgramVersion.rules,
            ProgramVersion.effective_at, ProgramVersion.published_at)


class ProgramRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, version: int) -> ProgramRow | None:
        row = (await self.session.execute(select(*_COLUMNS).where(ProgramVersion.version == version))).first()
        return ProgramRow(*row) if row else None

    async def in_force(self, at: datetime) -> ProgramRow | None:
        row = (await self.session.execute(
            select(*_COLUMNS).where(ProgramVersion.effective_at <= at)
            .order_by(ProgramVersion.effective_at.desc(), ProgramVersion.version.desc()).limit(1))).first()
        return ProgramRow(*row) if row else None

    async def schedule(self) -> list[tuple[datetime, int]]:
        """(effective_at, version) of every version, newest first."""
        rows = await self.session.execute(
            select(ProgramVersion.effective_at, ProgramVersion.version)
            .order_by(ProgramVersion.effective_at.desc(), ProgramVersion.version.desc()))
        return [(r[0], r[1]) for r in rows]

    async def insert_if_absent(self, *, version: int, source: str, rules: dict, effective_at: datetime,
                               now: datetime) -> bool:
        stmt = insert_for(self.session, ProgramVersion).values(
            version=version, source=source, rules=rules, effective_at=effective_at, published_at=now,
        ).on_conflict_do_nothing(index_elements=[ProgramVersion.version])
        return (await self.session.execute(stmt)).rowcount == 1
