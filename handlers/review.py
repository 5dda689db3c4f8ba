"""/review: admins work through the anti-fraud flags: approve releases holds, reject reverses them.

`/review` posts the oldest open flags, one message each, with Approve / Reject / Reject and freeze;
`/review ID` shows one flag in any state. A decision edits that flag's message to show it; a
second press (or another admin's press on a copy) is answered "already decided" and changes
nothing. The work, the audit entry and the notices are in bot/services/fraud/review.py.

Callback data: rv:<a|r|f>:<flag id> (approve, reject, reject and freeze).
"""
from __future__ import annotations

import re
from datetime import datetime

from bot.context import Context
from bot.services.admin_actions import Outcome as AdminOutcome
from bot.services.fraud.review import APPROVE, REJECT, REJECT_FREEZE, FlagView, ReviewService
from bot.services.masking import mask_name
from bot.services.rewards.money import yuan
from bot.transport import Button, Keyboard
from handlers.admin_guard import admin_only
from handlers.router import Router

router = Router("review")

QUEUE_PAGE = 5  # flags posted per /review; decide them, then /review again
TIMELINE_SHOWN = 10
_ID = re.compile(r"#?([0-9]{1,18})")
_ACTIONS = {"a": APPROVE, "r": REJECT, "f": REJECT_FREEZE}


def _service(ctx: Context) -> ReviewService:
    settings = ctx.app.settings
    return ReviewService(ctx.services.uow, ctx.services.audit, ctx.app.clock, frozenset(settings.admin_ids),
                         settings.tz)


def _local(ctx: Context, iso_or_time: str | datetime, fmt: str) -> str:
    moment = datetime.fromisoformat(iso_or_time) if isinstance(iso_or_time, str) else iso_or_time
    return moment.astimezone(ctx.app.settings.tz).strftime(fmt)


def _evidence(ctx: Context, view: FlagView) -> list[str]:
    flag, ev = view.flag, view.flag.evidence
    kind = flag.kind
    if kind in ("velocity_hour", "velocity_day", "burst"):
        lines = [ctx.t(f"review-ev-{kind.replace('_', '-')}", count=ev.get("count", 0), limit=ev.get("limit", 0),
                       day=ev.get("day", ""), seconds=f"{float(ev.get('seconds', 0)):g}")]
        if ev.get("peak", 0) > ev.get("count", 0):
            lines.append(ctx.t("review-peak", peak=ev["peak"]))
        if ev.get("agent"):
            lines.append(ctx.t("review-agent"))
        times = ev.get("times", [])[-TIMELINE_SHOWN:]
        if times:
            span_days = len({_local(ctx, t, "%Y-%m-%d") for t in times}) > 1
            fmt = "%m-%d %H:%M:%S" if span_days else "%H:%M:%S"
            lines.append(ctx.t("review-timeline", times=", ".join(_local(ctx, t, fmt) for t in times)))
        return lines
    if kind == "idle_tier":
        return [ctx.t("review-ev-idle-tier", idle=ev.get("idle", 0), referees=ev.get("referees", 0),
                      share=ev.get("share_percent", 0), limit=ev.get("limit_percent", 0),
                      min=ev.get("min_referees", 0))]
    return [ctx.t("review-ev-fake-referees", count=ev.get("count", 0), bots=ev.get("bots", 0),
                  deleted=ev.get("deleted", 0), group_bots=ev.get("group_bots", 0))]


def render(ctx: Context, view: FlagView) -> tuple[str, Keyboard | None]:
    """A flag's message: who, what, evidence, money; buttons while it is open, the decision after."""
    flag, user = view.flag, view.user
    name = mask_name(user.first_name if user else None)
    who = str(flag.user_id) if flag.user_id > 0 else (user.external_id if user and user.external_id else "—")
    lines = [
        ctx.t("review-flag-title", id=str(flag.id), kind=flag.kind,
              date=_local(ctx, flag.created_at, "%Y-%m-%d %H:%M")),
        ctx.t("review-user", name=name, id=who),
        *_evidence(ctx, view),
    ]
    if view.others:
        lines.append(ctx.t("review-others", flags=", ".join(f"#{o.id} {o.kind}" for o in view.others)))
    if flag.state == "open":
        lines.append(ctx.t("review-held", amount=yuan(view.held_fen)))
        keyboard = [[Button(ctx.t("review-button-approve"), callback_data=f"rv:a:{flag.id}"),
                     Button(ctx.t("review-button-reject"), callback_data=f"rv:r:{flag.id}")],
                    [Button(ctx.t("review-button-freeze"), callback_data=f"rv:f:{flag.id}")]]
        return "\n".join(lines), keyboard
    when = _local(ctx, flag.reviewed_at, "%Y-%m-%d %H:%M") if flag.reviewed_at else "—"
    admin = str(flag.reviewed_by) if flag.reviewed_by is not None else "—"
    amount = yuan(view.held_fen if flag.state == "approved" else view.reversed_fen)
    lines.append(ctx.t("review-decided", decision=flag.decision_reason or flag.state, admin=admin, date=when,
                       amount=amount))
    return "\n".join(lines), None


@router.command("review", in_groups=True)
@admin_only
async def review(ctx: Context) -> None:
    service = _service(ctx)
    if ctx.args:
        match = _ID.fullmatch(ctx.args.strip())
        if match is None:
            await ctx.reply(ctx.t("review-usage"))
            return
        view = await service.view(int(match.group(1)))
        if view is None:
            await ctx.reply(ctx.t("review-unknown", id=match.group(1)))
            return
        await ctx.reply(*render(ctx, view))
        return
    views, total = await service.queue(QUEUE_PAGE)
    if not views:
        await ctx.reply(ctx.t("review-empty"))
        return
    await ctx.reply(ctx.t("review-queue-title", total=total, shown=len(views)))
    for view in views:
        await ctx.reply(*render(ctx, view))


@router.callback("rv")
@admin_only
async def decide(ctx: Context) -> None:
    _, action, raw_id = (ctx.callback_data.split(":", 2) + ["", ""])[:3]
    decision = _ACTIONS.get(action)
    if decision is None or not raw_id.isdigit() or len(raw_id) > 18:
        await ctx.answer_callback(ctx.t("review-usage"), alert=True)
        return
    result = await _service(ctx).decide(int(raw_id), decision, actor_id=ctx.user_id, via="chat")
    if result.outcome == "unknown":
        await ctx.answer_callback(ctx.t("review-unknown", id=raw_id), alert=True)
        return
    assert result.view is not None
    if result.outcome == "already":
        await ctx.answer_callback(ctx.t("review-already", id=raw_id, state=result.view.flag.state), alert=True)
        return
    if decision == APPROVE:
        answer = ctx.t("review-done-approve", id=raw_id)
    else:
        answer = ctx.t("review-done-reject", id=raw_id, count=result.reversed_count,
                       amount=yuan(result.reversed_fen))
        if result.freeze is AdminOutcome.ADMIN_TARGET:
            answer += " " + ctx.t("review-freeze-admin")
        elif result.freeze is AdminOutcome.ALREADY:
            answer += " " + ctx.t("review-freeze-already")
    await ctx.answer_callback(answer)
    await ctx.edit(*render(ctx, result.view))
