"""/code: the user's personal QR code, deep link, and a share button."""
from __future__ import annotations

from bot.context import Context
from bot.services.codes import deep_link, share_url
from bot.services.qr import render_qr_png
from bot.transport import Button, Photo
from handlers.router import Router

router = Router("code")


# Idempotent: the code is created once and the QR's file_id stored once, however often it runs.
@router.command("code", idempotent=True)
async def code(ctx: Context) -> None:
    if ctx.user is not None and ctx.user.status == "frozen":
        await ctx.reply(ctx.t("code-frozen"))
        return
    row = await ctx.services.codes.personal_code(ctx.user_id)
    link = deep_link(ctx.app.bot_username, row.code)
    caption = ctx.t("code-caption", code=row.code, link=link)
    share = share_url(link, ctx.t("code-share-text"))
    keyboard = [[Button(ctx.t("code-share-button"), url=share)]]
    if row.qr_file_id:
        await ctx.reply_photo(Photo(file_id=row.qr_file_id), caption, keyboard)
        return

    async def remember(services, sent) -> None:  # noqa: ANN001
        if sent.photo_file_id:
            await services.codes.remember_qr(row.id, sent.photo_file_id)

    png = render_qr_png(link)
    await ctx.reply_photo(Photo(data=png, filename=f"{row.code}.png"), caption, keyboard, then=remember)
