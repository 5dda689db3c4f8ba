"""Program versions: the file in force is stored as a numbered version; events use the one in force then."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from bot.services.rewards.program import Program, ProgramError, program_from_json
from db.uow import UnitOfWork

# The first version ever published covers everything before it, too.
BEGINNING = datetime(2000, 1, 1, tzinfo=timezone.utc)


class ProgramBook:
    # Versions change by publishing, days ahead; re-reading the table every few seconds is plenty,
    # and saves a query on every /start and every event.
    REFRESH_SECONDS = 5.0

    def __init__(self, configured: Program) -> None:
        self.configured = configured  # PROGRAM_FILE (or the built-in one): used until a version is stored
        self._cache: dict[int, Program] = {}
        self._versions: list[tuple[datetime, int]] = []  # (effective_at, version), newest first
        self._loaded_at = float("-inf")

    async def publish_current(self, uow: UnitOfWork, program: Program, now: datetime) -> None:
        """Stores the configured program if its version is new; refuses a changed file under an old number."""
        stored = await uow.programs.get(program.version)
        if stored is not None:
            if stored.rules != program.to_json():
                raise ProgramError(
                    f"PROGRAM_FILE: version {program.version} is already published with different rules; "
                    "give the changed program a new version number")
            return
        first = await uow.programs.in_force(now) is None
        await uow.programs.insert_if_absent(version=program.version, source=program.source, rules=program.to_json(),
                                            effective_at=BEGINNING if first else now, now=now)
        self.forget()

    async def in_force(self, uow: UnitOfWork, at: datetime) -> Program:
        """The version in force at `at`; before the first one, the earliest; with none stored, the configured."""
        if time.monotonic() - self._loaded_at > self.REFRESH_SECONDS:
            self._versions = await uow.programs.schedule()
            self._loaded_at = time.monotonic()
        if not self._versions:
            return self.configured
        version = next((v for effective, v in self._versions if effective <= at), self._versions[-1][1])
        if version not in self._cache:
            row = await uow.programs.get(version)
            self._cache[version] = program_from_json(row.rules, row.source)
        return self._cache[version]

    def forget(self) -> None:
        """After publishing: the next look-up re-reads the schedule."""
        self._loaded_at = float("-inf")
