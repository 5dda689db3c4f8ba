"""Unit of work: one transaction per update (or per API call), with its repositories (db/transaction.py)."""
from __future__ import annotations

import asyncio
from functools import cached_property
from types import TracebackType
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories.audit import AuditRepository
from db.repositories.binding_snapshot import BindingSnapshotRepository
from db.repositories.codes import CodeRepository
from db.repositories.drafts import DraftRepository
from db.repositories.events import EventRepository
from db.repositories.flags import FlagRepository
from db.repositories.groups import GroupRepository
from db.repositories.checkpoints import CheckpointRepository
from db.repositories.ledger import LedgerRepository
from db.repositories.programs import ProgramRepository
from db.repositories.qualified import QualifiedRepository
from db.repositories.referrals import ReferralRepository
from db.repositories.stations import StationRepository
from db.repositories.updates import UpdateRepository
from db.repositories.users import UserRepository
from db.transaction import Transaction

R = TypeVar("R")


def _repository(cls: type[R]) -> "cached_property[R]":
    def build(uow: "UnitOfWork") -> R:
        return cls(uow.tx)  # type: ignore[call-arg]
    return cached_property(build)


class UnitOfWork:
    """`async with UnitOfWork(sm) as uow: ...; await uow.commit()`; leaving without commit rolls back."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        # Connects at its first statement, and makes an ORM session only if one is asked for: a
        # turn that reads only cached rows (bot.services.read_cache) never takes a connection.
        self.tx = Transaction(sessionmaker)

    async def __aenter__(self) -> "UnitOfWork":
        # SQLite has one connection; asyncio.Queue (the pool) lets a returning task barge ahead of
        # waiters, starving some updates. A FIFO lock hands the connection out in arrival order.
        bind = self._sessionmaker.kw.get("bind")
        self._fifo = None
        if bind is not None and bind.dialect.name == "sqlite":
            self._fifo = bind.sync_engine.__dict__.setdefault("_fifo_lock", asyncio.Lock())
            await self._fifo.acquire()
        # Set by whoever queues an outbox row, so the sender is woken after commit.
        self.outbox_queued = False
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.tx.close()
        finally:
            if self._fifo is not None:
                self._fifo.release()

    @property
    def session(self) -> AsyncSession:
        """The ORM session, made at first use, in the transaction's connection if it has one."""
        return self.tx.session

    # Repositories are built when first used: most units of work use two or three of them.
    users = _repository(UserRepository)
    codes = _repository(CodeRepository)
    referrals = _repository(ReferralRepository)
    binding_snapshots = _repository(BindingSnapshotRepository)
    updates = _repository(UpdateRepository)
    events = _repository(EventRepository)
    ledger = _repository(LedgerRepository)
    programs = _repository(ProgramRepository)
    audit = _repository(AuditRepository)
    drafts = _repository(DraftRepository)
    flags = _repository(FlagRepository)
    groups = _repository(GroupRepository)
    stations = _repository(StationRepository)
    checkpoints = _repository(CheckpointRepository)
    qualified = _repository(QualifiedRepository)

    async def commit(self) -> None:
        await self.tx.commit()

    async def rollback(self) -> None:
        await self.tx.rollback()

    def savepoint(self):  # noqa: ANN201
        """A nested transaction, so a constraint violation (a lost race) doesn't poison the outer one."""
        return self.session.begin_nested()
