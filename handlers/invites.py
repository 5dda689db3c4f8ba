"""/invites: referral counts by level and the newest level-1 referees, a page at a time."""
from __future__ import annotations

from bot.context import Context
from bot.transport import Button
from handlers.router import Router

router = Router("invites")


async def _render(ctx: Context, page: int) -> tuple[str, list[list[Button]] | None]:
    view = await ctx.services.invites.page(ctx.user_id, page)
    lines = [ctx.t("invites-counts", level=level, count=count) for level, count in view.counts.items()]
    text = ctx.t("invites-title") + "\n" + "\n".join(lines)
    if not view.referees:
        return text + "\n\n" + ctx.t("invites-empty"), None
    start = view.page * 10
    rows = [
        ctx.t("invites-row", n=start + i + 1, name=r.masked_name, date=ctx.local_date(r.bound_at))
        for i, r in enumerate(view.referees)
    ]
    text += "\n\n" + ctx.t("invites-recent", page=view.page + 1, pages=view.pages) + "\n" + "\n".join(rows)
    buttons = []
    if view.page > 0:
        buttons.append(Button(ctx.t("page-prev"), callback_data=f"inv:{view.page - 1}"))
    if view.page + 1 < view.pages:
        buttons.append(Button(ctx.t("page-next"), callback_data=f"inv:{view.page + 1}"))
    return text, [buttons] if buttons else None


@router.command("invites", idempotent=True)
async def invites(ctx: Context) -> None:
    text, keyboard = await _render(ctx, 0)
    await ctx.reply(text, keyboard)


@router.callback("inv")
async def invites_page(ctx: Context) -> None:
    raw = ctx.callback_data.partition(":")[2]
    page = int(raw) if raw.isdigit() and len(raw) < 7 else 0
    text, keyboard = await _render(ctx, page)
    await ctx.answer_callback()
    await ctx.edit(text, keyboard)
