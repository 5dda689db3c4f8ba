"""/broadcast (admins): a message → an audience → a preview → Confirm; then one progress message.

The dialogue lives in uow.drafts (kind "broadcast"), so it survives a
restart. The admin's message is broadcast with copyMessage, so text
formatting, photos and captions arrive exactly as the admin wrote them; the
preview is that same copy sent back to the admin. Confirm carries the draft's
nonce and deletes the draft in the transaction that creates the broadcast, so
a second press (or a press on an older preview) creates nothing. The preview's
text message becomes the progress message, which bot/runtime/jobs.py edits
while the outbox sends.

Callback data: bc:a:<audience> (pick), bc:go:<nonce> (confirm), bc:no (drop
the draft), bc:x:<broadcast id> (cancel a running broadcast).
"""
from __future__ import annotations

import secrets
from typing import Callable

from bot.context import Context
from bot.services.broadcasts import CHAT_AUDIENCES, AudienceError, BroadcastService, Progress, parse_audience
from bot.transport import Button, Keyboard
from handlers.admin_guard import admin_only
from handlers.router import Router

router = Router("broadcast")

DRAFT = "broadcast"

Translate = Callable[..., str]


def service(ctx: Context) -> BroadcastService:
    settings = ctx.app.settings
    return BroadcastService(ctx.services.uow, ctx.app.clock, settings.default_locale, paid=settings.broadcast_paid)


def audience_key(audience: str) -> str:
    """Fluent selector keys cannot hold ':'."""
    return audience.replace(":", "-")


def duration(t: Translate, seconds: float) -> str:
    whole = max(0, round(seconds))
    return t("bc-duration", minutes=whole // 60, seconds=whole % 60)


def progress_view(t: Translate, progress: Progress) -> tuple[str, Keyboard | None]:
    """The progress message: what the admin sees while it runs and when it has ended."""
    b = progress.broadcast
    lines = [
        t("bc-progress-title", id=b.id, state=b.state),
        t("bc-progress-audience", audience=audience_key(b.audience), total=b.total),
        t("bc-progress-counts", sent=progress.sent, total=b.total, failed=progress.failed,
          blocked=progress.blocked, left=progress.left),
    ]
    if b.state == "running":
        eta = duration(t, progress.eta_seconds) if progress.eta_seconds is not None else t("bc-eta-unknown")
        lines.append(t("bc-progress-running", pending=progress.pending, rate=f"{progress.rate:.1f}", eta=eta))
    if progress.cancelled:
        lines.append(t("bc-progress-called-off", cancelled=progress.cancelled))
    if b.state == "done" and b.finished_at is not None:
        lines.append(t("bc-progress-took", took=duration(t, (b.finished_at - b.created_at).total_seconds())))
    keyboard = None
    if b.state == "running":
        keyboard = [[Button(t("bc-cancel-broadcast-button"), callback_data=f"bc:x:{b.id}")]]
    return "\n".join(lines), keyboard


# -- the dialogue -------------------------------------------------------------------


@router.command("broadcast", in_groups=True)
@admin_only
async def broadcast_command(ctx: Context) -> None:
    await ctx.services.uow.drafts.put(ctx.user_id, DRAFT, {"step": "message"}, ctx.now())
    await ctx.reply(ctx.t("bc-ask"))


@router.dialogue(DRAFT)
@admin_only
async def broadcast_message(ctx: Context) -> None:
    """Whatever the admin sends next is the broadcast; sending again replaces it."""
    incoming = ctx.incoming
    if incoming.content_type == "unknown" or incoming.message_id is None:
        await ctx.reply(ctx.t("bc-unsupported"))
        return
    data = {"step": "audience", "from_chat_id": ctx.chat_id, "message_id": incoming.message_id}
    await ctx.services.uow.drafts.put(ctx.user_id, DRAFT, data, ctx.now())
    await ctx.reply(ctx.t("bc-pick-audience"), await _audience_keyboard(ctx))


async def _audience_keyboard(ctx: Context) -> Keyboard:
    svc = service(ctx)
    rows = []
    for audience in CHAT_AUDIENCES:
        count = await svc.count(audience)
        rows.append([Button(ctx.t("bc-audience-button", audience=audience_key(audience), count=count),
                            callback_data=f"bc:a:{audience}")])
    rows.append([Button(ctx.t("bc-cancel-button"), callback_data="bc:no")])
    return rows


@router.command("cancel")
async def cancel_command(ctx: Context) -> None:
    """Ends whatever dialogue the user is in (a broadcast, a publication...)."""
    drafts = ctx.services.uow.drafts
    if await drafts.get(ctx.user_id) is None:
        await ctx.reply(ctx.t("bc-nothing-to-cancel"))
        return
    await drafts.clear(ctx.user_id)
    await ctx.reply(ctx.t("bc-cancelled"))


@router.callback("bc")
@admin_only
async def broadcast_button(ctx: Context) -> None:
    _, action, rest = (ctx.callback_data.split(":", 2) + ["", ""])[:3]
    if action == "a":
        await _pick(ctx, rest)
    elif action == "go":
        await _confirm(ctx, rest)
    elif action == "no":
        await _drop(ctx)
    elif action == "x":
        await _cancel_running(ctx, rest)
    else:
        await _stale(ctx)


async def _stale(ctx: Context) -> None:
    await ctx.answer_callback(ctx.t("bc-stale"), alert=True)
    await ctx.edit(ctx.t("bc-stale"))


async def _pick(ctx: Context, raw: str) -> None:
    draft = await ctx.services.uow.drafts.get(ctx.user_id)
    try:
        audience = parse_audience(raw)
    except AudienceError:
        audience = None
    if draft is None or draft.kind != DRAFT or "message_id" not in draft.data or audience is None:
        await _stale(ctx)
        return
    count = await service(ctx).count(audience)
    if count == 0:
        await ctx.answer_callback()
        await ctx.edit(ctx.t("bc-nobody"), await _audience_keyboard(ctx))
        return
    nonce = secrets.token_hex(6)
    data = {**draft.data, "step": "confirm", "audience": audience, "nonce": nonce}
    await ctx.services.uow.drafts.put(ctx.user_id, DRAFT, data, ctx.now())
    await ctx.answer_callback()
    await ctx.edit(ctx.t("bc-pick-audience") + "\n→ " + ctx.t("bc-audience-name", audience=audience_key(audience)))
    await ctx.copy(int(data["from_chat_id"]), int(data["message_id"]))
    keyboard = [[Button(ctx.t("bc-confirm-button", count=count), callback_data=f"bc:go:{nonce}"),
                 Button(ctx.t("bc-cancel-button"), callback_data="bc:no")]]
    await ctx.reply(ctx.t("bc-preview", audience=audience_key(audience), count=count), keyboard)


async def _confirm(ctx: Context, nonce: str) -> None:
    svc = service(ctx)
    data = await svc.take_draft(ctx.user_id, nonce) if nonce else None
    if data is None or "audience" not in data:
        started = (await svc.by_status_message(ctx.chat_id, ctx.incoming.message_id)
                   if ctx.incoming.message_id is not None else None)
        if started is not None:  # a second press on the same Confirm
            await ctx.answer_callback(ctx.t("bc-already-started", id=started.id))
            return
        await _stale(ctx)
        return
    if await svc.count(data["audience"]) == 0:  # everyone left since the preview
        await ctx.answer_callback()
        await ctx.edit(ctx.t("bc-nobody"))
        return
    content = {"from_chat_id": int(data["from_chat_id"]), "message_id": int(data["message_id"])}
    created = await svc.create(content=content, audience=data["audience"], actor_id=ctx.user_id, via="chat",
                               status_chat_id=ctx.chat_id)
    if ctx.incoming.message_id is not None:
        # The preview's text message becomes the progress message the job keeps editing.
        await svc.set_status_message(created.id, ctx.chat_id, ctx.incoming.message_id)
    progress = await svc.progress(created.id)
    assert progress is not None
    await ctx.answer_callback(ctx.t("bc-started", id=created.id))
    await ctx.edit(*progress_view(ctx.t, progress))


async def _drop(ctx: Context) -> None:
    draft = await ctx.services.uow.drafts.get(ctx.user_id)
    if draft is not None and draft.kind == DRAFT:
        await ctx.services.uow.drafts.clear(ctx.user_id)
    await ctx.answer_callback()
    await ctx.edit(ctx.t("bc-cancelled"))


async def _cancel_running(ctx: Context, raw: str) -> None:
    if not raw.isdigit():
        await _stale(ctx)
        return
    svc = service(ctx)
    broadcast_id = int(raw)
    called_off = await svc.cancel(broadcast_id, actor_id=ctx.user_id, via="chat")
    progress = await svc.progress(broadcast_id)
    if progress is None:
        await _stale(ctx)
        return
    if called_off is None:
        await ctx.answer_callback(ctx.t("bc-cancel-too-late", id=broadcast_id, state=progress.state), alert=True)
    else:
        await ctx.answer_callback(ctx.t("bc-cancel-done", id=broadcast_id, count=called_off))
    await ctx.edit(*progress_view(ctx.t, progress))


# -- where they stand -----------------------------------------------------------------


@router.command("broadcast_status", in_groups=True)
@admin_only
async def broadcast_status(ctx: Context) -> None:
    svc = service(ctx)
    raw = ctx.args.strip().lstrip("#")
    if raw and not (raw.isdigit() and len(raw) <= 18):
        await ctx.reply(ctx.t("bc-status-usage"))
        return
    if raw:
        target = await svc.get(int(raw))
        if target is None:
            await ctx.reply(ctx.t("bc-status-unknown", id=raw))
            return
    else:
        target = await svc.latest()
        if target is None:
            await ctx.reply(ctx.t("bc-status-none"))
            return
    await svc.finish_if_done(target.id)
    progress = await svc.progress(target.id)
    assert progress is not None
    await ctx.reply(*progress_view(ctx.t, progress))
