"""/rewards: pending, available and paid out, the next tier, and the referrer's quality score."""
from __future__ import annotations

from bot.context import Context
from bot.services.rewards.money import yuan
from handlers.router import Router

router = Router("rewards")


@router.command("rewards", idempotent=True)
async def rewards(ctx: Context) -> None:
    view = await ctx.services.rewards.overview(ctx.user_id, ctx.locale, ctx.now())
    b = view.balance
    lines = [ctx.t("rewards-title"),
             ctx.t("rewards-balances", pending=yuan(b.pending), available=yuan(b.available), paid=yuan(b.paid))]
    if b.owed:
        lines.append(ctx.t("rewards-owed", owed=yuan(b.owed)))
    if view.next_tier is not None:
        lines.append(ctx.t("rewards-next-tier", qualified=view.qualified, missing=view.missing,
                           target=view.next_tier.qualified, bonus=yuan(view.next_tier.bonus)))
    else:
        lines.append(ctx.t("rewards-no-tier", qualified=view.qualified))
    lines.append(ctx.t("rewards-quality", score=view.quality))
    lines.append(ctx.t("rewards-hint"))
    await ctx.reply("\n".join(lines))
