"""/residents: an agent's per-station funnel (today / this week / all time), and the CSV export button.

What each step counts, and by which time, is in bot/services/residents.py.
"""
from __future__ import annotations

from bot.context import Context
from bot.services.residents import STEPS, ResidentsService, csv_header, period_starts, total
from bot.transport import Button
from handlers.agent_guard import agent_only
from handlers.router import Router
from handlers.stations import chunks

router = Router("residents")

EXPORT = "res"  # callback data "res:csv"


def _service(ctx: Context) -> ResidentsService:
    return ResidentsService(ctx.services.uow, ctx.app.settings.tz)


def _block(ctx: Context, title: str, steps: dict) -> str:  # noqa: ANN001
    lines = [title] + [ctx.t("residents-step", step=step, today=steps[step].today, week=steps[step].week,
                             total=steps[step].total) for step in STEPS]
    return "\n".join(lines)


@router.command("residents")
@agent_only
async def residents(ctx: Context) -> None:
    funnels = await _service(ctx).funnel(ctx.user_id, ctx.now())
    if not funnels:
        await ctx.reply(ctx.t("station-list-empty"))
        return
    day, week = period_starts(ctx.now(), ctx.app.settings.tz)
    blocks = [ctx.t("residents-title", today=ctx.local_date(day), week=ctx.local_date(week))]
    if len(funnels) > 1:
        blocks.append(_block(ctx, ctx.t("residents-all-stations", count=len(funnels)), total(funnels)))
    for f in funnels:
        code = f.station.code
        title = ctx.t("residents-station", label=code.label or "", code=code.code,
                      state="on" if code.active else "off")
        blocks.append(_block(ctx, title, f.steps))
    bound = sum(f.steps["bound"].total for f in funnels)
    blocks.append(ctx.t("residents-footer") if bound else ctx.t("residents-none-yet"))
    messages = chunks(blocks)
    for text in messages[:-1]:
        await ctx.reply(text)
    keyboard = [[Button(ctx.t("residents-export-button"), callback_data=f"{EXPORT}:csv")]] if bound else None
    await ctx.reply(messages[-1], keyboard)


@router.callback(EXPORT)
@agent_only
async def export(ctx: Context) -> None:
    header = csv_header(lambda key: ctx.t(key))
    data, rows = await _service(ctx).csv_export(ctx.user_id, header)
    if not rows:
        await ctx.answer_callback(ctx.t("residents-none-yet"), alert=True)
        return
    await ctx.answer_callback()
    day = ctx.now().astimezone(ctx.app.settings.tz).strftime("%Y%m%d")
    await ctx.reply_document(data, f"residents-{day}.csv", caption=ctx.t("residents-export-caption", count=rows))

