"""/rules: the program in force, in the reader's language, and the next version if one is announced.

Also the rule-change announcement (an outbox row of kind "rules", rendered at
send time) and its "I have read it" button.
"""
from __future__ import annotations

import functools

from bot.context import Context
from bot.i18n import I18n
from bot.outbox.render import formatter
from bot.services.rewards.program import program_from_json
from bot.services.rewards.publishing import ANNOUNCEMENT_KIND, announcement_args, local
from bot.services.rewards.rules_summary import diff
from bot.transport import Button, Outgoing
from handlers.router import Router
from handlers.rules_text import announcement_text, change_lines, program_lines

router = Router("rules")

ACK = "ack"


@router.command("rules", idempotent=True)  # shows the program; acknowledging is a callback
async def rules(ctx: Context) -> None:
    book, uow, now, tz = ctx.services.programs, ctx.services.uow, ctx.now(), ctx.app.settings.tz
    current = await book.current(uow, now)
    program = current.program if current is not None else book.configured
    lines = [ctx.t("rules-title", version=program.version)]
    if current is not None:
        lines.append(ctx.t("rules-since", date=local(current.since, tz), tz=str(tz)))
    lines += program_lines(ctx.t, program, ctx.locale)
    upcoming = await book.next_after(uow, now)
    if upcoming is not None:
        lines += ["", ctx.t("rules-next", version=upcoming.program.version,
                            date=local(upcoming.effective_at, tz), tz=str(tz))]
        lines += change_lines(ctx.t, diff(program, upcoming.program), upcoming.program.perk(ctx.locale))
    lines += ["", ctx.t("rules-footer")]
    await ctx.reply("\n".join(lines))


def ack_keyboard(t, version: int) -> list[list[Button]]:  # noqa: ANN001
    return [[Button(t("rulechange-ack-button"), callback_data=f"{ACK}:{version}")]]


@formatter(ANNOUNCEMENT_KIND)
def render_announcement(i18n: I18n, locale: str, text_key: str, args: dict) -> Outgoing:
    t = functools.partial(i18n.t, locale)
    return Outgoing(text=announcement_text(t, args, locale), keyboard=ack_keyboard(t, int(args["version"])))


@router.callback(ACK)
async def acknowledge(ctx: Context) -> None:
    raw = ctx.callback_data.partition(":")[2]
    uow, book, tz = ctx.services.uow, ctx.services.programs, ctx.app.settings.tz
    row = await uow.programs.get(int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    if row is None:
        await ctx.answer_callback(ctx.t("callback-expired"))
        return
    now = ctx.now()
    if not await uow.programs.ack(ctx.user_id, row.version, now):
        # The first press stands, with its time; the message already says so.
        await ctx.answer_callback(ctx.t("rulechange-already"))
        return
    await ctx.answer_callback(ctx.t("rulechange-thanks"))
    program = program_from_json(row.rules, row.source)
    previous = await book.preceding(uow, row.version)
    changes = diff(previous, program) if previous is not None else []
    text = announcement_text(ctx.t, announcement_args(program, changes, row.effective_at, tz), ctx.locale)
    await ctx.edit(text + "\n\n" + ctx.t("rulechange-acked", date=local(now, tz), tz=str(tz)))
