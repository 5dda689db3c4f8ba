"""/publish (admins): publish the next program version from the chat.

/publish <effective time> [urgent reason] → the bot asks for the program as a
.toml document → a preview (version, effective time, what changes, how many
users hear of it) → Confirm publishes exactly as `referral-bot program
publish` does. The dialogue lives in uow.drafts (kind "publish"), so it
survives a restart; Confirm re-checks everything, so a preview that went stale
(time passed, another version published) publishes nothing wrong.
"""
from __future__ import annotations

from bot.context import Context
from bot.services.rewards.publishing import (
    PublishRefused, check_effective, local, parse_effective, propose, publish,
)
from bot.transport import Button
from handlers.admin_guard import admin_only
from handlers.router import Router
from handlers.rules_text import change_lines

router = Router("publish")

DRAFT = "publish"
PREFIX = "pub"
MAX_FILE = 64 * 1024


def _refusal(ctx: Context, exc: PublishRefused) -> str:
    return ctx.t(f"publish-err-{exc.code}", **exc.params)


def _cancel_button(ctx: Context) -> list[Button]:
    return [Button(ctx.t("publish-cancel-button"), callback_data=f"{PREFIX}:cancel")]


async def _propose(ctx: Context, data: dict, source: str, origin: str):  # noqa: ANN202
    settings = ctx.app.settings
    return await propose(
        ctx.services.uow, ctx.services.programs, source=source, origin=origin,
        effective_at=parse_effective(data["effective_at"], settings.tz), now=ctx.now(),
        notice_days=settings.rule_notice_days, max_levels=settings.referral_levels, tz=settings.tz,
        urgent_reason=data.get("urgent"))


@router.command("publish", in_groups=True)
@admin_only
async def publish_command(ctx: Context) -> None:
    when, _, reason = ctx.args.partition(" ")
    if not when:
        await ctx.reply(ctx.t("publish-usage"))
        return
    settings, now = ctx.app.settings, ctx.now()
    reason = reason.strip()[:500] or None
    try:
        effective_at = parse_effective(when, settings.tz)
        check_effective(effective_at, now=now, notice_days=settings.rule_notice_days, tz=settings.tz,
                        urgent_reason=reason)
    except PublishRefused as exc:
        await ctx.reply(_refusal(ctx, exc) + "\n" + ctx.t("publish-usage"))
        return
    await ctx.services.uow.drafts.put(ctx.user_id, DRAFT, {"effective_at": effective_at.isoformat(),
                                                           "urgent": reason}, now)
    await ctx.reply(ctx.t("publish-send-file", date=local(effective_at, settings.tz), tz=settings.timezone),
                    [_cancel_button(ctx)])


@router.dialogue(DRAFT)
@admin_only
async def receive_program(ctx: Context) -> None:
    uow, document = ctx.services.uow, ctx.incoming.document
    draft = await uow.drafts.get(ctx.user_id)
    assert draft is not None  # the dispatcher routes here only while the draft exists
    if document is None:
        await ctx.reply(ctx.t("publish-not-document"), [_cancel_button(ctx)])
        return
    data = await ctx.download(document, MAX_FILE)
    if data is None:
        await ctx.reply(ctx.t("publish-too-big", kb=MAX_FILE // 1024), [_cancel_button(ctx)])
        return
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        await ctx.reply(ctx.t("publish-not-text"), [_cancel_button(ctx)])
        return
    origin = document.file_name or "program.toml"
    try:
        proposal = await _propose(ctx, draft.data, source, origin)
    except PublishRefused as exc:
        await ctx.reply(_refusal(ctx, exc), [_cancel_button(ctx)])
        return
    version = proposal.program.version
    await uow.drafts.put(ctx.user_id, DRAFT, {**draft.data, "source": source, "origin": origin,
                                              "version": version}, ctx.now())
    tz = ctx.app.settings.tz
    lines = [ctx.t("publish-preview", version=version, previous=proposal.previous.version,
                   date=local(proposal.effective_at, tz), tz=ctx.app.settings.timezone,
                   recipients=proposal.recipients)]
    if proposal.urgent_reason:
        lines.append(ctx.t("publish-urgent", reason=proposal.urgent_reason))
    lines += change_lines(ctx.t, proposal.changes, proposal.program.perk(ctx.locale))
    keyboard = [[Button(ctx.t("publish-confirm-button"), callback_data=f"{PREFIX}:ok:{version}")],
                _cancel_button(ctx)]
    await ctx.reply("\n".join(lines), keyboard)


@router.callback(PREFIX)
@admin_only
async def publish_button(ctx: Context) -> None:
    uow = ctx.services.uow
    action = ctx.callback_data.partition(":")[2]
    draft = await uow.drafts.get(ctx.user_id)
    ours = draft is not None and draft.kind == DRAFT
    if action == "cancel":
        if ours:
            await uow.drafts.clear(ctx.user_id)
        await ctx.answer_callback()
        await ctx.edit(ctx.t("publish-cancelled"))
        return
    version = action.removeprefix("ok:")
    if not (ours and action.startswith("ok:") and "source" in draft.data and str(draft.data["version"]) == version):
        await ctx.answer_callback(ctx.t("publish-stale"), alert=True)
        return
    await uow.drafts.clear(ctx.user_id)
    await ctx.answer_callback()
    settings, now = ctx.app.settings, ctx.now()
    try:
        proposal = await _propose(ctx, draft.data, draft.data["source"], draft.data["origin"])
        queued = await publish(uow, ctx.services.programs, proposal, audit=ctx.services.audit,
                               actor_id=ctx.user_id, via="chat", now=now, tz=settings.tz)
    except PublishRefused as exc:
        await ctx.edit(_refusal(ctx, exc))
        return
    await ctx.edit(ctx.t("publish-done", version=proposal.program.version,
                         date=local(proposal.effective_at, settings.tz), tz=settings.timezone, recipients=queued))
