"""/start, with or without a deep-link payload: the welcome, the risk notice, and binding by link."""
from __future__ import annotations

from bot.context import Context
from bot.i18n import Raw
from bot.services.binding import Outcome
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
    by_group = await _group_outcome(ctx)
    if not payload:
        await ctx.reply(f"{by_group}\n\n{welcome(ctx, perk)}" if by_group else welcome(ctx, perk))
        return
    note = await _link_outcome(ctx, payload, by_group)
    await ctx.reply(f"{note}\n\n{welcome(ctx, perk)}")


async def _group_outcome(ctx: Context) -> str | None:
    """First touch wins: a new user who joined a group through a member's invite link before
    opening the bot is that member's referral, whatever link they open the bot with now."""
    services = ctx.services
    if not ctx.is_new_user:
        return None
    owner_id = await services.groups.referrer_by_group(ctx.user_id)
    if owner_id is None:
        return None
    # The owner's personal code goes through the same rules as any link: no bots, no self, no frozen owner.
    code = await services.codes.personal_code(owner_id)
    result = await services.binding.bind(ctx.user_id, code.code, source="group")
    if result.outcome is not Outcome.BOUND:
        return None  # e.g. the owner is frozen: the link they opened, if any, decides
    assert result.referrer is not None
    return ctx.t("start-invited-by", name=mask_name(result.referrer.first_name))


async def _link_outcome(ctx: Context, payload: str, by_group: str | None = None) -> str:
    services = ctx.services
    if by_group is not None or not ctx.is_new_user:
        await services.stations.record_visit(ctx.user_id, payload)  # an agent's funnel counts every opener
    if by_group is not None:
        return by_group
    if not ctx.is_new_user:
        # First touch wins: someone who talked to us before is not re-attributed by a link.
        binding = await services.uow.referrals.binding_of(ctx.user_id)
        if binding is not None:
            return ctx.t("start-already-bound")
        if services.users.within_bind_window(ctx.user, ctx.app.settings.bind_window_hours):
            return ctx.t("start-not-new-bind-hint", hours=ctx.app.settings.bind_window_hours)
        return ctx.t("start-not-new")
    result = await services.binding.bind(ctx.user_id, payload, source="link")
    await services.stations.record_visit_of(result.code, ctx.user_id)  # the binding has read the code
    if result.outcome is Outcome.BOUND:
        assert result.referrer is not None
        return ctx.t("start-invited-by", name=mask_name(result.referrer.first_name))
    return ctx.t(refusal_key(result.outcome))
