"""/start, with or without a deep-link payload: the welcome, the risk notice, and binding by link."""
from __future__ import annotations

from bot.context import Context
from bot.i18n import Raw
from bot.services.binding import BindResult
from bot.services.masking import mask_name
from handlers.help import commands_text
from handlers.inline import INLINE_START
from handlers.router import Router
from handlers.texts import refusal_key

router = Router("start")


def welcome(ctx: Context, perk: str = "") -> str:
    name = ctx.incoming.user.first_name if ctx.incoming.user else ""
    parts = [ctx.t("start-welcome", name=name or "🙂")]
    if perk:
        parts.append(ctx.t("start-perk", perk=perk))
    parts += [ctx.t("risk-notice"), ctx.t("start-commands", commands=Raw(commands_text(ctx)))]
    return "\n\n".join(parts)


async def _perk(ctx: Context) -> str:
    """New users are told what they get for joining."""
    if not ctx.is_new_user:
        return ""
    program = await ctx.services.programs.in_force(ctx.services.uow, ctx.now())
    return program.perk(ctx.locale)


@router.command("start")
async def start(ctx: Context) -> None:
    # The inline-mode button for people without a card yet opens the bot with this: no code behind it.
    payload = "" if ctx.args == INLINE_START else ctx.args
    perk = await _perk(ctx)
    if not payload:
        by_group = await _group_outcome(ctx)
        await ctx.reply(f"{by_group}\n\n{welcome(ctx, perk)}" if by_group else welcome(ctx, perk))
        return
    note = await (_newcomer_link(ctx, payload) if ctx.is_new_user else _known_user_link(ctx, payload))
    await ctx.reply(f"{note}\n\n{welcome(ctx, perk)}")


def _invited_by(ctx: Context, result: BindResult) -> str:
    assert result.referrer is not None
    return ctx.t("start-invited-by", name=mask_name(result.referrer.first_name))


async def _group_outcome(ctx: Context) -> str | None:
    """First touch wins: a new user who joined a group through a member's invite link before
    opening the bot is that member's referral."""
    if not ctx.is_new_user:
        return None
    result = await ctx.services.binding.by_group_invite(ctx.user_id)
    return _invited_by(ctx, result) if result is not None else None


async def _newcomer_link(ctx: Context, payload: str) -> str:
    """A group invite they joined through first wins over the link (see BindingService.open_link)."""
    services = ctx.services
    opened = await services.binding.open_link(ctx.user_id, payload)
    await services.stations.record_visit_of(opened.link_code, ctx.user_id)  # an agent's funnel counts every opener
    if opened.result.ok:
        return _invited_by(ctx, opened.result)
    return ctx.t(refusal_key(opened.result.outcome))


async def _known_user_link(ctx: Context, payload: str) -> str:
    """First touch wins: someone who talked to us before is not re-attributed by a link."""
    services = ctx.services
    await services.stations.record_visit(ctx.user_id, payload)  # an agent's funnel counts every opener
    binding = await services.uow.referrals.binding_of(ctx.user_id)
    if binding is not None:
        return ctx.t("start-already-bound")
    if services.users.within_bind_window(ctx.user, ctx.app.settings.bind_window_hours):
        return ctx.t("start-not-new-bind-hint", hours=ctx.app.settings.bind_window_hours)
    return ctx.t("start-not-new")
