"""The flags as the platform's risk team reads them: GET /api/v1/flags."""
from __future__ import annotations

from datetime import datetime

from db.repositories.flags import FlagRow
from db.uow import UnitOfWork

STATES = ("open", "approved", "rejected", "all")
MAX_LIMIT = 500
DEFAULT_LIMIT = 100


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def flag_json(flag: FlagRow, external_id: str | None, held_fen: int, reversed_fen: int) -> dict:
    return {
        "id": flag.id,
        # Platform-only people (no Telegram account known) have negative internal ids: name them by
        # the platform's own id instead.
        "telegram_id": flag.user_id if flag.user_id > 0 else None,
        "external_id": external_id,
        "kind": flag.kind,
        "state": flag.state,
        "created_at": _iso(flag.created_at),
        "evidence": flag.evidence,
        "held_fen": held_fen,
        "reversed_fen": reversed_fen,
        "reviewed_at": _iso(flag.reviewed_at),
        "reviewed_by": flag.reviewed_by,
        "decision": flag.decision_reason,  # approve | reject | reject_freeze, once decided
    }


async def list_flags(uow: UnitOfWork, *, state: str = "open", since: datetime | None = None,
                     limit: int = DEFAULT_LIMIT) -> list[dict]:
    """Oldest first. held_fen: unreversed earnings the flag holds (open) or released (approved)."""
    rows = await uow.flags.listing(state=None if state == "all" else state, since=since, limit=limit)
    ids = [flag.id for flag, _ in rows]
    held = await uow.ledger.held_sums(ids)
    gone = await uow.ledger.reversed_sums(ids)
    return [flag_json(flag, ext, held.get(flag.id, 0), gone.get(flag.id, 0)) for flag, ext in rows]
