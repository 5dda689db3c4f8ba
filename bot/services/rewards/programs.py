"""Program versions: the file in force is stored as a numbered version; events use the one in force then."""
from __future__ import annotations

from datetime import datetime, timezone
from bot.services.rewards.program import Program, ProgramError, program_from_json
from db.uow import UnitOfWork

# The first version ever published covers everything before it, too.
BEGINNING = datetime(2000, 1, 1, tzinfo=timezone.utc)


class ProgramBook:
    def __init__(self, configured: Program) -> None:
        self.configured = configured  # PROGRAM_FILE (or the built-in one): used until a version is stored
        self._cache: dict[int, Program] = {}

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

    async def in_force(self, uow: UnitOfWork, at: datetime) -> Program:
        row = await uow.programs.in_force(at) or await uow.programs.in_force(datetime.max.replace(tzinfo=timezone.utc))
        if row is None:
            return self.configured
        if row.version not in self._cache:
            self._cache[row.version] = program_from_json(row.rules, row.source)
        return self._cache[row.version]
