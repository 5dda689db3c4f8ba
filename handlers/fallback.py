"""Everything no other handler claims: unknown commands, free text, stickers, edits, groups."""
from __future__ import annotations

from bot.context import Context
from bot.transport import Button
from handlers.router import Router

router = Router("fallback")

MAX_ECHO = 32  # never echo a 4,000-character message back


@router.fallback("unknown_command")
async def unknown_command(ctx: Context) -> None:
    name = (ctx.command or "")[:MAX_ECHO]
    await ctx.reply(ctx.t("unknown-command", command=name))


@router.fallback("text")
async def free_text(ctx: Context) -> None:
    await ctx.reply(ctx.t("text-hint"))


@router.fallback("media")
async def media(ctx: Context) -> None:
    await ctx.reply(ctx.t("media-hint"))


@router.fallback("edited")
async def edited(ctx: Context) -> None:
    await ctx.reply(ctx.t("edited-ignored"))


@router.fallback("group_command")
async def group_command(ctx: Context) -> None:
    url = f"https://t.me/{ctx.app.bot_username}"
    await ctx.reply(ctx.t("group-hint"), [[Button(ctx.t("group-open-button"), url=url)]])


@router.fallback("unknown_callback")
async def unknown_callback(ctx: Context) -> None:
    await ctx.answer_callback(ctx.t("callback-expired"))
