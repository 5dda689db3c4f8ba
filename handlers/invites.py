"""/invites: referral counts by level and the newest level-1 referees, a page at a time.

The page buttons carry where the next or previous page starts (the edge row's join time and id),
`inv:<page>:<n|p>:<microseconds>:<id>`, at most 64 bytes as Telegram requires, so a deep page is
read from there and not counted out from the newest. `inv:<page>` (buttons sent before) still works.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.context import Context
from bot.transport import Button
from handlers.router import Router

router = Router("invites")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _button(text: str, page: int, direction: str, cursor: tuple[datetime, int]) -> Button:
    at, user_id = cursor
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    return Button(text, callback_data=f"inv:{page}:{direction}:{micros}:{user_id}")


def _parse(data: str) -> tuple[int, dict]:
    """(page, the service's cursor argument) from a button; page 0 and no cursor for anything else."""
    parts = data.split(":")[1:]
    try:
        page = int(parts[0])
        if not 0 <= page < 10**6:
            return 0, {}
        if len(parts) == 1:
            return page, {}
        direction, micros, user_id = parts[1], int(parts[2]), int(parts[3])
        cursor = (_EPOCH + timedelta(microseconds=micros), user_id)
    except (IndexError, ValueError, OverflowError):
        return 0, {}
    if len(parts) != 4 or direction not in ("n", "p"):
        return 0, {}
    return page, {"older_than": cursor} if direction == "n" else {"newer_than": cursor}


async def _render(ctx: Context, page: int, cursor: dict | None = None) -> tuple[str, list[list[Button]] | None]:
    view = await ctx.services.invites.page(ctx.user_id, page, **(cursor or {}))
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
        buttons.append(_button(ctx.t("page-prev"), view.page - 1, "p", view.referees[0].cursor))
    if view.page + 1 < view.pages:
        buttons.append(_button(ctx.t("page-next"), view.page + 1, "n", view.referees[-1].cursor))
    return text, [buttons] if buttons else None


@router.command("invites", idempotent=True)
async def invites(ctx: Context) -> None:
    text, keyboard = await _render(ctx, 0)
    await ctx.reply(text, keyboard)


@router.callback("inv")
async def invites_page(ctx: Context) -> None:
    page, cursor = _parse(ctx.callback_data)
    text, keyboard = await _render(ctx, page, cursor)
    await ctx.answer_callback()
    await ctx.edit(text, keyboard)
