"""One user as operators and the platform see them: `referral-bot user --json` and GET /api/v1/users/{id}."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.config import Settings
from bot.i18n import resolve_locale
from bot.services.rewards.balances import BalanceService
from bot.services.rewards.programs import ProgramBook
from bot.services.rewards.quality import quality_score
from db.uow import UnitOfWork


class ProfileService:
    def __init__(self, uow: UnitOfWork, settings: Settings, programs: ProgramBook) -> None:
        self.uow = uow
        self.settings = settings
        self.programs = programs

    async def view(self, telegram_id: int, now: datetime) -> dict[str, Any] | None:
        uow, settings = self.uow, self.settings
        user = await uow.users.get(telegram_id)
        if user is None:
            return None
        levels = settings.referral_levels
        codes = sorted(await uow.codes.of_owner(telegram_id), key=lambda c: (c.kind != "personal", c.id))
        binding = await uow.referrals.binding_of(telegram_id)
        counts = await uow.referrals.counts(telegram_id)
        balance, earnings = await BalanceService(uow).summary(telegram_id, now)
        program = await self.programs.in_force(uow, now)
        return {
            "telegram_id": user.id,
            "language": resolve_locale(user.language, user.tg_language, settings.default_locale),
            "status": user.status,
            "codes": [c.code for c in codes],
            "referrer_id": binding.referrer_id if binding else None,
            "upline": await uow.referrals.upline(telegram_id, levels),
            "referrals_by_level": {str(k): counts.get(k, 0) for k in range(1, levels + 1)},
            "balance": balance.as_json(),
            "earnings_by_level": {str(k): earnings.by_level.get(k, 0) for k in range(1, levels + 1)},
            "eligibility": {
                "credit_approved": user.credit_approved_at is not None,
                "credit_approved_at": user.credit_approved_at.isoformat() if user.credit_approved_at else None,
                "referrer_requires_credit_check": program.referrer_requires_credit_check,
                "frozen": user.status == "frozen",
            },
            "referee_perk": dict(program.referee_perk),
            "quality_score": await quality_score(uow, telegram_id),
            "program_version": program.version,
        }
