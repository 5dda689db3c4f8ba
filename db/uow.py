"""Unit of work: one session and transaction per update (or per API call), with its repositories."""
from __future__ import annotations

import asyncio
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories.audit import AuditRepository
from db.repositories.codes import CodeRepository
from db.repositories.drafts import DraftRepository
from db.repositories.events import EventRepository
from db.repositories.flags import FlagRepository
from db.repositories.groups import GroupRepository
from db.repositories.checkpoints import CheckpointRepository
from db.repositories.ledger import LedgerRepository
from db.repositories.programs import ProgramRepository
from db.repositories.referrals import ReferralRepository
from db.repositories.stations import StationRepository
from db.repositories.updates import UpdateRepository
from db.repositories.users import UserRepository


class UnitOfWork:
    """`async with UnitOfWork(sm) as uow: ...; await uow.commit()`; leaving without commit rolls back."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self.session: AsyncSession

    async def __aenter__(self) -> "UnitOfWork":
        # SQLite has one connection; asyncio.Queue (the pool) lets a returning task barge ahead of
        # waiters, starving some updates. A FIFO lock hands the connection out in arrival order.
        bind = self._sessionmaker.kw.get("bind")
        self._fifo = None
        if bind is not None and bind.dialect.name == "sqlite":
            self._fifo = bind.sync_engine.__dict__.setdefault("_fifo_lock", asyncio.Lock())
            await self._fifo.acquire()
        self.session = self._sessionmaker()
        # Set by whoever queues an outbox row, so the sender is woken after commit.
        self.outbox_queued = False
        await self.session.begin()
        self.users = UserRepository(self.session)
        self.codes = CodeRepository(self.session)
        self.referrals = ReferralRepository(self.session)
        self.updates = UpdateRepository(self.session)
        self.events = EventRepository(self.session)
        self.ledger = LedgerRepository(self.session)
        self.programs = ProgramRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.drafts = DraftRepository(self.session)
        self.flags = FlagRepository(self.session)
        self.groups = GroupRepository(self.session)
        self.stations = StationRepository(self.session)
        self.checkpoints = CheckpointRepository(self.session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()
            if self._fifo is not None:
                self._fifo.release()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()

    def savepoint(self):  # noqa: ANN201
        """A nested transaction, so a constraint violation (a lost race) doesn't poison the outer one."""
        return self.session.begin_nested()
