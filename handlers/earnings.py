"""/earnings: earnings by level and by rule, this month and all time; a button for the last 20 entries."""
from __future__ import annotations

from bot.context import Context
from bot.services.rewards.balances import Earnings, rule_family
from bot.services.rewards.money import yuan
from bot.transport import Button
from handlers.router import Router

router = Router("earnings")

RECENT = 20


def _block(ctx: Context, title_key: str, earnings: Earnings, levels: int) -> list[str]:
    lines = [ctx.t(title_key, total=yuan(earnings.total))]
    lines += [ctx.t("earnings-level", level=level, amount=yuan(earnings.by_level.get(level, 0)))
              for level in range(1, levels + 1)]
    lines += [ctx.t("earnings-rule", rule=rule, amount=yuan(fen)) for rule, fen in sorted(earnings.by_rule.items())]
    return lines


@router.command("earnings", idempotent=True)
async def earnings(ctx: Context) -> None:
    report = await ctx.services.rewards.earnings(ctx.user_id, ctx.now())
    levels = ctx.app.settings.referral_levels
    lines = [ctx.t("earnings-title")]
    lines += _block(ctx, "earnings-month", report.month, levels)
    lines += [""] + _block(ctx, "earnings-all-time", report.all_time, levels)
    await ctx.reply("\n".join(lines), [[Button(ctx.t("earnings-recent-button"), callback_data="earn:recent")]])


@router.callback("earn")
async def recent_entries(ctx: Context) -> None:
    entries = await ctx.services.rewards.recent(ctx.user_id, RECENT)
    await ctx.answer_callback()
    if not entries:
        await ctx.reply(ctx.t("earnings-recent-empty"))
        return
    rows = [ctx.t("earnings-entry", date=ctx.local_date(e.created_at), amount=yuan(e.amount_fen),
                  kind=e.kind, rule=rule_family(e.rule.removeprefix("reversal:")), level=e.level)
            for e in entries]
    await ctx.reply(ctx.t("earnings-recent-title", count=len(entries)) + "\n" + "\n".join(rows))
