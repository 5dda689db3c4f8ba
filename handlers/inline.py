"""Inline mode: @bot in any chat offers the user's own invite card.

The answer is personal (is_personal, a short cache), so Telegram never serves one user's
card to another. Any query text gets the same card. Someone who has never opened the bot
gets no card, only the button above the results that opens it (an inline query records
nobody: first touch must stay with the link they open later). A frozen user's code binds
nobody, so they get no card either; the button says so, as /code does.
"""
from __future__ import annotations

from bot.context import Context
from bot.services.codes import deep_link
from bot.transport import Button, InlineArticle, StartButton
from handlers.router import Router

router = Router("inline")

# The start parameter of the button above empty results; /start treats it as no payload.
INLINE_START = "inline"
CACHE_SECONDS = 10


@router.on("inline_query")
async def invite_card(ctx: Context) -> None:
    user = ctx.user  # loaded, never created, by the pipeline
    if user is None or user.is_bot:
        await ctx.answer_inline([], StartButton(ctx.t("inline-start-button"), INLINE_START), CACHE_SECONDS)
        return
    if user.status == "frozen":
        await ctx.answer_inline([], StartButton(ctx.t("inline-frozen-button"), INLINE_START), CACHE_SECONDS)
        return
    code = await ctx.services.codes.personal_code(user.id)
    link = deep_link(ctx.app.bot_username, code.code)
    text = ctx.t("inline-card-text", name=user.first_name or "🙂", link=link)
    program = await ctx.services.programs.in_force(ctx.services.uow, ctx.now())
    perk = program.perk(ctx.locale)
    if perk:
        text += "\n" + ctx.t("inline-card-perk", perk=perk)
    card = InlineArticle(id=f"card-{code.code}", title=ctx.t("inline-card-title"), text=text,
                         description=ctx.t("inline-card-description"),
                         keyboard=[[Button(ctx.t("inline-join-button"), url=link)]])
    await ctx.answer_inline([card], cache_time=CACHE_SECONDS)
