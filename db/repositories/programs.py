from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update

from db.dialect import insert_for
from db.models import ProgramVersion, RuleAck, User
from db.dialect import dialect_name
from db.repositories.base import Repository


@dataclass(frozen=True)
class ProgramRow:
    version: int
    source: str
    rules: dict
    effective_at: datetime
    published_at: datetime


PUBLISH_LOCK = 0x52554C4553  # "RULES": the advisory lock key for publishing a version

_COLUMNS = (ProgramVersion.version, ProgramVersion.source, ProgramVersion.rules,
            ProgramVersion.effective_at, ProgramVersion.published_at)


class ProgramRepository(Repository):
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
                               now: datetime, published_by: int | None = None,
                               urgent_reason: str | None = None) -> bool:
        stmt = insert_for(self.tx, ProgramVersion).values(
            version=version, source=source, rules=rules, effective_at=effective_at, published_at=now,
            published_by=published_by, urgent_reason=urgent_reason,
        ).on_conflict_do_nothing(index_elements=[ProgramVersion.version])
        return (await self.session.execute(stmt)).rowcount == 1

    async def lock_publishing(self) -> None:
        """Serialises publishers until commit, so two can't both pass "newer than the latest" (PostgreSQL;
        SQLite has one writer, and a pilot one operator)."""
        if dialect_name(self.tx) == "postgresql":
            await self.session.execute(select(func.pg_advisory_xact_lock(PUBLISH_LOCK)))

    async def latest(self) -> ProgramRow | None:
        """The highest version number (also the last to take effect: publishing keeps them in step)."""
        row = (await self.session.execute(
            select(*_COLUMNS).order_by(ProgramVersion.version.desc()).limit(1))).first()
        return ProgramRow(*row) if row else None

    async def listing(self) -> list[tuple[ProgramRow, int | None, str | None, int]]:
        """Every version, oldest first, with who published it, the urgent reason and its acknowledgement count."""
        acks = (select(RuleAck.version, func.count().label("n")).group_by(RuleAck.version).subquery())
        rows = await self.session.execute(
            select(*_COLUMNS, ProgramVersion.published_by, ProgramVersion.urgent_reason,
                   func.coalesce(acks.c.n, 0))
            .outerjoin(acks, acks.c.version == ProgramVersion.version).order_by(ProgramVersion.version))
        return [(ProgramRow(*r[:5]), r[5], r[6], r[7]) for r in rows]

    # -- acknowledgements ("I have read it") ---------------------------------------------------

    async def ack(self, user_id: int, version: int, now: datetime) -> bool:
        """Records the acknowledgement once; False when it was already there (the first time stands).

        users.rules_version_ack follows: the highest version the user acknowledged.
        """
        stmt = insert_for(self.tx, RuleAck).values(user_id=user_id, version=version, acked_at=now) \
            .on_conflict_do_nothing(index_elements=[RuleAck.user_id, RuleAck.version])
        if (await self.session.execute(stmt)).rowcount != 1:
            return False
        await self.session.execute(
            update(User).where(User.id == user_id,
                               or_(User.rules_version_ack.is_(None), User.rules_version_ack < version))
            .values(rules_version_ack=version).execution_options(synchronize_session=False))
        return True
