"""Program versions: numbered, each with its effective time; events use the one in force then.

The first version is PROGRAM_FILE (or the built-in program), stored at first
start and in force from the beginning. Every later version is published with
notice (`referral-bot program publish`, or /publish in chat: see
bot/services/rewards/publishing.py), so a changed PROGRAM_FILE alone never
changes the rules under anyone's feet.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

from bot.services.rewards.program import Program, ProgramError, program_from_json
from db.uow import UnitOfWork

# The first version ever published covers everything before it, too.
BEGINNING = datetime(2000, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Scheduled:
    program: Program
    effective_at: datetime
    published_at: datetime

    @property
    def since(self) -> datetime:
        """When it took effect as far as a reader can tell: the first version from when it was stored."""
        return self.published_at if self.effective_at <= BEGINNING else self.effective_at


class ProgramBook:
    # Versions change by publishing, days ahead; re-reading the table every few seconds is plenty,
    # and saves a query on every /start and every event.
    REFRESH_SECONDS = 5.0

    def __init__(self, configured: Program) -> None:
        self.configured = configured  # PROGRAM_FILE (or the built-in one): used until a version is stored
        self._cache: dict[int, tuple[Program, datetime]] = {}  # version -> (program, published_at)
        self._versions: list[tuple[datetime, int]] = []  # (effective_at, version), newest first
        self._loaded_at = float("-inf")

    async def store_first(self, uow: UnitOfWork, now: datetime) -> bool:
        """Stores the configured program as the first version (in force from the beginning) if none is stored."""
        if await uow.programs.latest() is not None:
            return False
        program = self.configured
        stored = await uow.programs.insert_if_absent(version=program.version, source=program.source,
                                                     rules=program.to_json(), effective_at=BEGINNING, now=now)
        self.forget()
        return stored

    async def publish_current(self, uow: UnitOfWork, program: Program, now: datetime) -> None:
        """At start-up: PROGRAM_FILE becomes the first version, or must be one already stored unchanged."""
        self.configured = program
        if await self.store_first(uow, now):
            return
        stored = await uow.programs.get(program.version)
        if stored is None:
            latest = await uow.programs.latest()
            raise ProgramError(
                f"PROGRAM_FILE: version {program.version} is not published (the latest is version "
                f"{latest.version if latest else '?'}); a new version takes effect only with notice: "
                "run `referral-bot program publish <file> --effective <time>`")
        if stored.rules != program.to_json():
            raise ProgramError(
                f"PROGRAM_FILE: version {program.version} is already published with different rules; "
                "publish the changed program under a new version number with `referral-bot program publish`")

    async def _schedule(self, uow: UnitOfWork) -> list[tuple[datetime, int]]:
        if time.monotonic() - self._loaded_at > self.REFRESH_SECONDS:
            self._versions = await uow.programs.schedule()
            self._loaded_at = time.monotonic()
        return self._versions

    async def _load(self, uow: UnitOfWork, version: int) -> tuple[Program, datetime]:
        if version not in self._cache:
            row = await uow.programs.get(version)
            self._cache[version] = (program_from_json(row.rules, row.source), row.published_at)
        return self._cache[version]

    async def in_force(self, uow: UnitOfWork, at: datetime) -> Program:
        """The version in force at `at`; before the first one, the earliest; with none stored, the configured."""
        current = await self.current(uow, at)
        return current.program if current is not None else self.configured

    async def current(self, uow: UnitOfWork, at: datetime) -> Scheduled | None:
        """The version in force at `at` with its dates; None while no version is stored."""
        versions = await self._schedule(uow)
        if not versions:
            return None
        effective, version = next(((e, v) for e, v in versions if e <= at), versions[-1])
        program, published = await self._load(uow, version)
        return Scheduled(program, effective, published)

    async def next_after(self, uow: UnitOfWork, at: datetime) -> Scheduled | None:
        """The first version published to take effect after `at`, if any."""
        later = [(e, v) for e, v in await self._schedule(uow) if e > at]
        if not later:
            return None
        effective, version = later[-1]  # the schedule is newest first
        program, published = await self._load(uow, version)
        return Scheduled(program, effective, published)

    async def preceding(self, uow: UnitOfWork, version: int) -> Program | None:
        """The version in force just before `version` took effect (what an announcement compares with)."""
        versions = await self._schedule(uow)
        if all(v != version for _, v in versions):  # published since the last read, perhaps elsewhere
            self.forget()
            versions = await self._schedule(uow)
        own = next((e for e, v in versions if v == version), None)
        if own is None:
            return None
        earlier = [(e, v) for e, v in versions if e < own and v != version]
        if not earlier:
            return None
        return (await self._load(uow, earlier[0][1]))[0]

    def forget(self) -> None:
        """After publishing: the next look-up re-reads the schedule."""
        self._loaded_at = float("-inf")
