"""/poster <code or label>: an agent's printable A4 PDF and phone PNG for one station.

The PDF goes as a document (poster-<CODE>.pdf); the PNG as a photo whose caption
carries what the PNG cannot draw without a CJK font (see bot/services/poster.py):
the label, the two-line summary of the rules in force and the risk reminder.
With one station the argument may be left out.
"""
from __future__ import annotations

import asyncio

from bot.context import Context
from bot.i18n import Raw
from bot.services.codes import deep_link
from bot.services.poster import PosterTexts, render_pdf, render_png
from bot.services.rewards.money import yuan
from bot.transport import Photo
from handlers.agent_guard import agent_only
from handlers.router import Router
from handlers.stations import MAX_ECHO

router = Router("poster")


def _summary(ctx: Context, program, plain: bool) -> tuple[str, str]:  # noqa: ANN001
    """The referee's perk and the referrer's level-1 first-loan reward, as the program in force has them."""
    t = _plain(ctx) if plain else ctx.t
    perk = program.perk(ctx.locale)
    first = t("poster-perk", perk=perk) if perk else t("poster-join")
    rule = program.rewards.get("first_loan")
    amount = rule.amount(1) if rule is not None else 0
    second = t("poster-reward", amount=yuan(amount)) if amount > 0 else t("poster-rules-hint")
    return first, second


def _plain(ctx: Context):  # noqa: ANN202
    """ctx.t for text that is not HTML (the PDF): arguments are not escaped."""
    return lambda key, **args: ctx.t(key, **{k: Raw(v) if isinstance(v, str) else v for k, v in args.items()})


@router.command("poster")
@agent_only
async def poster(ctx: Context) -> None:
    stations = await ctx.services.stations.list(ctx.user_id)
    if not stations:
        await ctx.reply(ctx.t("station-list-empty"))
        return
    ref = ctx.args.strip()
    if not ref and len(stations) > 1:
        await ctx.reply(ctx.t("poster-usage", codes=", ".join(s.code.code for s in stations)))
        return
    found = await ctx.services.stations.find(ctx.user_id, ref, stations) if ref else stations[0]
    if found is None:
        await ctx.reply(ctx.t("station-unknown", ref=ref[:MAX_ECHO]))
        return
    code = found.code
    label = code.label or ""
    if not code.active:
        await ctx.reply(ctx.t("poster-station-off", label=label, code=code.code))
        return
    book = ctx.services.programs
    current = await book.current(ctx.services.uow, ctx.now())
    program = current.program if current is not None else book.configured
    link = deep_link(ctx.app.bot_username, code.code)
    plain = _plain(ctx)
    texts = PosterTexts(label=label, scan=plain("poster-scan"), link=link,
                        code_line=plain("poster-code", code=code.code),
                        summary=_summary(ctx, program, plain=True), risk=plain("poster-risk"))
    # ~35 ms of CPU together (measured, see bot/services/poster.py): in a thread, so other chats go on.
    pdf, png = await asyncio.to_thread(lambda: (render_pdf(texts), render_png(link, code.code)))
    await ctx.reply_document(pdf, f"poster-{code.code}.pdf", caption=ctx.t("poster-pdf-caption", label=label))
    caption = "\n".join([ctx.t("poster-caption-title", label=label), *_summary(ctx, program, plain=False),
                         ctx.t("poster-risk"), ctx.t("poster-caption-link", link=link)])
    await ctx.reply_photo(Photo(data=png, filename=f"poster-{code.code}.png"), caption)
