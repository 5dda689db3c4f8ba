"""/bind <code>: late binding within the window after first contact, confirmed with a button."""
from __future__ import annotations

from bot.context import Context
from bot.services.binding import Outcome
from bot.services.codes import is_valid_payload, normalize
from bot.services.masking import mask_name
from bot.transport import Button
from handlers.router import Router
from handlers.texts import refusal_key

router = Router("bind")


async def _window_open(ctx: Context) -> bool:
    return ctx.services.users.within_bind_window(ctx.user, ctx.app.settings.bind_window_hours)


@router.command("bind")
async def bind(ctx: Context) -> None:
    raw = ctx.args.split()[0] if ctx.args else ""
    if not raw:
        await ctx.reply(ctx.t("bind-usage"))
        return
    if await ctx.services.uow.referrals.binding_of(ctx.user_id) is not None:
        await ctx.reply(ctx.t("bind-already-bound"))
        return
    if not await _window_open(ctx):
        await ctx.reply(ctx.t("bind-window-closed", hours=ctx.app.settings.bind_window_hours))
        return
    verdict = await ctx.services.binding.check(ctx.user_id, raw)
    if not verdict.ok:
        await ctx.reply(ctx.t(refusal_key(verdict.outcome)))
        return
    code = normalize(raw)
    keyboard = [[Button(ctx.t("bind-yes"), callback_data=f"bind:y:{code}"),
                 Button(ctx.t("bind-no"), callback_data="bind:n")]]
    await ctx.reply(ctx.t("bind-confirm", name=mask_name(verdict.referrer.first_name), code=code), keyboard)


@router.callback("bind")
async def bind_answer(ctx: Context) -> None:
    _, choice, code = (ctx.callback_data.split(":", 2) + ["", ""])[:3]
    if choice != "y" or not is_valid_payload(code):
        await ctx.answer_callback()
        await ctx.edit(ctx.t("bind-cancelled"))
        return
    # Everything is checked again: time has passed since the question was asked.
    if await ctx.services.uow.referrals.binding_of(ctx.user_id) is not None:
        outcome = Outcome.ALREADY_BOUND
    elif not await _window_open(ctx):
        await ctx.answer_callback()
        await ctx.edit(ctx.t("bind-window-closed", hours=ctx.app.settings.bind_window_hours))
        return
    else:
        result = await ctx.services.binding.bind(ctx.user_id, code, source="bind")
        outcome = result.outcome
        if result.ok:
            await ctx.answer_callback()
            await ctx.edit(ctx.t("bind-done", name=mask_name(result.referrer.first_name)))
            return
    await ctx.answer_callback()
    await ctx.edit(ctx.t(refusal_key(outcome)))
