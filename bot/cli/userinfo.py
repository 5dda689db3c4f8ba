"""Read-only look-up of one user for `referral-bot user`: profile, codes, upline, counts.

Kept free of business rules and of any Telegram import; the HTTP API may later
share it through a service.
"""
from __future__ import annotations

from typing import Any

from bot.i18n import resolve_locale
from db.uow import UnitOfWork


async def user_info(uow: UnitOfWork, telegram_id: int, *, levels: int, default_locale: str) -> dict[str, Any] | None:
    """One JSON-ready dict, or None when the id is not a user we know.

    codes: personal first, then station codes by id. upline: ancestors nearest
    first, up to `levels` (the closure table). referrals_by_level: the kept
    per-level counts, "1".."levels", zero where there are none.
    """
    user = await uow.users.get(telegram_id)
    if user is None:
        return None
    codes = sorted(await uow.codes.of_owner(telegram_id), key=lambda c: (c.kind != "personal", c.id))
    binding = await uow.referrals.binding_of(telegram_id)
    upline = await uow.referrals.upline(telegram_id, levels)
    counts = await uow.referrals.counts(telegram_id)
    return {
        "telegram_id": user.id,
        "language": resolve_locale(user.language, user.tg_language, default_locale),
        "status": user.status,
        "codes": [c.code for c in codes],
        "referrer_id": binding.referrer_id if binding else None,
        "upline": upline,
        "referrals_by_level": {str(k): counts.get(k, 0) for k in range(1, levels + 1)},
    }


async def lookup(database_url: str, telegram_id: int, *, levels: int, default_locale: str) -> dict[str, Any] | None:
    from db.engine import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            return await user_info(uow, telegram_id, levels=levels, default_locale=default_locale)
    finally:
        await engine.dispose()
