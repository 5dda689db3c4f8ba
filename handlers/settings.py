"""/settings: risk-education tips on or off. Reward and invitation notices have no switch."""
from __future__ import annotations

from bot.context import Context
from bot.services.tips import TipSettings
from bot.transport import Button
from handlers.router import Router

router = Router("settings")

# Callback data names the state to set, never "toggle": a stale or replayed press is harmless.
_CHOICES = {"set:tips:off": False, "set:tips:on": True}


def _page(ctx: Context, on: bool) -> tuple[str, list[list[Button]]]:
    days = ctx.app.settings.tip_interval_days
    if days == 0:
        status = ctx.t("settings-tips-paused", on="yes" if on else "no")
    else:
        status = ctx.t("settings-tips-on", days=days) if on else ctx.t("settings-tips-off")
    text = "\n\n".join((ctx.t("settings-title"), status, ctx.t("settings-notices-stay")))
    button = (Button(ctx.t("settings-tips-turn-off"), callback_data="set:tips:off") if on
              else Button(ctx.t("settings-tips-turn-on"), callback_data="set:tips:on"))
    return text, [[button]]


@router.command("settings", idempotent=True)  # shows the switch; flipping it is a callback
async def settings(ctx: Context) -> None:
    on = await TipSettings(ctx.services.uow).enabled(ctx.user_id)
    await ctx.reply(*_page(ctx, on))


@router.callback("set")
async def setting_chosen(ctx: Context) -> None:
    on = _CHOICES.get(ctx.callback_data)
    if on is None:
        await ctx.answer_callback(ctx.t("callback-expired"))
        return
    await TipSettings(ctx.services.uow).set_enabled(ctx.user_id, on)
    await ctx.answer_callback(ctx.t("settings-tips-saved-on" if on else "settings-tips-saved-off"))
    await ctx.edit(*_page(ctx, on))
