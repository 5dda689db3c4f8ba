"""/language: choose 中文 or English; the choice wins over Telegram's language_code."""
from __future__ import annotations

from bot.config import SUPPORTED_LOCALES
from bot.context import Context
from bot.transport import Button
from handlers.router import Router

router = Router("language")

@router.command("language", idempotent=True)  # the buttons; the choice is a callback
async def language(ctx: Context) -> None:
    keyboard = [[Button(ctx.t("language-current" if loc == ctx.locale else "language-other",
                              name=ctx.t(f"language-name-{loc}")), callback_data=f"lang:{loc}")
                 for loc in SUPPORTED_LOCALES]]
    await ctx.reply(ctx.t("language-choose"), keyboard)


@router.callback("lang")
async def language_chosen(ctx: Context) -> None:
    choice = ctx.callback_data.partition(":")[2]
    if choice not in SUPPORTED_LOCALES:
        await ctx.answer_callback(ctx.t("callback-expired"))
        return
    await ctx.services.users.set_language(ctx.user_id, choice)
    ctx.refresh_menu(ctx.user_id)  # the "/" menu in the chosen language too (handlers/menus.py)
    ctx.locale = choice  # answer in the language just chosen
    await ctx.answer_callback()
    await ctx.edit(ctx.t("language-set"))
