from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from db.core import run
from db.dialect import PerDialect, dialect_name
from db.models import HandledUpdate
from db.repositories.base import Repository

_CLAIM = PerDialect(lambda insert: insert(HandledUpdate).on_conflict_do_nothing(
    index_elements=[HandledUpdate.update_id]))


class UpdateRepository(Repository):
    async def claim(self, update_id: int, now: datetime) -> bool:
        """False when the update was already handled (committed by an earlier delivery).

        On PostgreSQL a concurrent delivery of the same id blocks here until the
        first transaction ends, then sees the conflict: one effect, never two.
        """
        result = await run(self.tx, _CLAIM[dialect_name(self.tx)],
                           {"update_id": update_id, "handled_at": now})
        return result.rowcount == 1

    async def prune(self, before: datetime) -> int:
        result = await self.session.execute(delete(HandledUpdate).where(HandledUpdate.handled_at < before))
        return result.rowcount or 0
