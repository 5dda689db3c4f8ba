"""Admin commands: /stats, /user <id>, /freeze, /unfreeze, /promote, /demote.

Every one is behind `admin_only` and registered with in_groups=True, so someone
trying one in a group hears why not instead of a generic "talk to me in
private". The work is in bot/services (admin_stats, profile, admin_actions),
shared with the CLI; here are only parsing and wording. /stats and /user only
read, so they are not audited; every change is, by the service. A promotion or
demotion also gives the target the command menu of their new role, after the commit
(bot/runtime/menus.py).
"""
from __future__ import annotations

import re

from bot.context import Context
from bot.i18n import Raw
from bot.services.admin_actions import AdminActions, Outcome, Result, clean_reason
from bot.services.admin_stats import AdminStats
from bot.services.profile import ProfileService
from bot.services.rewards.money import yuan
from handlers.admin_guard import admin_only
from handlers.router import Router

router = Router("admin")

# Up to 18 digits: a Telegram id (or a platform-only user's negative id) that fits a BIGINT.
_ID = re.compile(r"-?\d{1,18}")


async def _target(ctx: Context, usage: str) -> tuple[int, str] | None:
    """(the id, the rest of the arguments), or None once a missing or bad id has been answered."""
    head, _, rest = ctx.args.partition(" ")
    if not head:
        await ctx.reply(ctx.t(usage))
        return None
    if not _ID.fullmatch(head):
        await ctx.reply(ctx.t("admin-bad-id", arg=head[:32]))
        return None
    return int(head), rest.strip()


def _actions(ctx: Context) -> AdminActions:
    return AdminActions(ctx.services.uow, ctx.services.audit, frozenset(ctx.app.settings.admin_ids))


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


# -- /stats -------------------------------------------------------------------------------

@router.command("stats", in_groups=True)
@admin_only
async def stats(ctx: Context) -> None:
    s = await AdminStats(ctx.services.uow, ctx.app.settings.tz).collect(ctx.now())
    levels = ctx.app.settings.referral_levels
    lines = [
        ctx.t("stats-title", day=s.day.isoformat()),
        ctx.t("stats-users", total=s.users, active=s.active, frozen=s.frozen, blocked=s.blocked,
              platform=s.platform_only),
        ctx.t("stats-roles", agents=s.agents, admins=s.admins, configured=len(ctx.app.settings.admin_ids)),
        ctx.t("stats-bound", bound=s.bound),
        ctx.t("stats-levels", counts=Raw(" · ".join(
            ctx.t("stats-level", level=k, count=s.referrals_by_level.get(k, 0)) for k in range(1, levels + 1)))),
    ]
    if s.events_today:
        lines.append(ctx.t("stats-events", events=Raw(" · ".join(
            ctx.t("stats-event", type=kind, count=n) for kind, n in s.events_today.items()))))
    else:
        lines.append(ctx.t("stats-events-none"))
    lines.append(ctx.t("stats-ledger", reward=yuan(s.ledger["reward"]), tier=yuan(s.ledger["tier_bonus"]),
                       reversed=yuan(s.ledger["reversal"]), paid=yuan(s.ledger["payout"])))
    lines.append(ctx.t("stats-tips-off", count=s.tips_off))
    lines.append(ctx.t("stats-flags", count=s.open_flags))
    f = s.funnel
    assert f is not None
    lines.append(ctx.t("stats-funnel", joined=f.joined, bound=f.bound, bound_pct=_percent(f.bound, f.joined),
                       approved=f.credit_approved, approved_pct=_percent(f.credit_approved, f.bound),
                       loan=f.first_loan, loan_pct=_percent(f.first_loan, f.credit_approved)))
    await ctx.reply("\n".join(lines))


# -- /user <id> ---------------------------------------------------------------------------

@router.command("user", in_groups=True)
@admin_only
async def user_info(ctx: Context) -> None:
    parsed = await _target(ctx, "admin-usage-user")
    if parsed is None:
        return
    target, _ = parsed
    uow = ctx.services.uow
    info = await ProfileService(uow, ctx.app.settings, ctx.services.programs).view(target, ctx.now())
    row = await uow.users.get(target)
    if info is None or row is None:
        await ctx.reply(ctx.t("admin-unknown-user", id=str(target)))
        return
    none = ctx.t("user-info-none")
    name = " ".join(p for p in (row.first_name, f"@{row.username}" if row.username else "") if p)
    lines = [
        ctx.t("user-info-title", id=str(target), name=name or none),
        ctx.t("user-info-role", role=ctx.services.users.role_of(row), status=info["status"],
              language=info["language"]),
    ]
    if row.external_id:
        lines.append(ctx.t("user-info-external", external=row.external_id))
    lines += [
        ctx.t("user-info-codes", codes=", ".join(info["codes"]) or none),
        ctx.t("user-info-referrer", referrer=str(info["referrer_id"]) if info["referrer_id"] is not None else none),
        ctx.t("user-info-upline", upline=" → ".join(map(str, info["upline"])) or none),
        ctx.t("user-info-referrals", counts=Raw(" · ".join(
            ctx.t("stats-level", level=int(k), count=n) for k, n in info["referrals_by_level"].items()))),
        ctx.t("user-info-balance", **{k: yuan(v) for k, v in info["balance"].items()}),
        ctx.t("user-info-earnings", earnings=Raw(" · ".join(
            ctx.t("stats-level", level=int(k), count=yuan(v)) for k, v in info["earnings_by_level"].items()))),
    ]
    if row.credit_approved_at is not None:
        lines.append(ctx.t("user-info-credit-approved", date=ctx.local_date(row.credit_approved_at)))
    else:
        required = info["eligibility"]["referrer_requires_credit_check"]
        lines.append(ctx.t("user-info-credit-pending", required="yes" if required else "no"))
    lines.append(ctx.t("user-info-quality", score=info["quality_score"], version=info["program_version"]))
    await ctx.reply("\n".join(lines))


# -- /freeze, /unfreeze, /promote, /demote ----------------------------------------------------

_REFUSALS = {
    Outcome.UNKNOWN_USER: "admin-unknown-user",
    Outcome.SELF: "admin-self",
    Outcome.ADMIN_TARGET: "admin-freeze-admin",
    Outcome.CONFIG_ADMIN: "admin-config-admin",
    Outcome.FROZEN: "admin-promote-frozen",
}


async def _answer(ctx: Context, target: int, result: Result, done_key: str, already_key: str,
                  **args: object) -> None:
    if result.outcome is Outcome.DONE:
        key = done_key
    elif result.outcome is Outcome.ALREADY:
        key = already_key
    else:
        key = _REFUSALS[result.outcome]
    status = result.user.status if result.user is not None else ""
    await ctx.reply(ctx.t(key, id=str(target), status=status, **args))


@router.command("freeze", in_groups=True)
@admin_only
async def freeze(ctx: Context) -> None:
    parsed = await _target(ctx, "admin-usage-freeze")
    if parsed is None:
        return
    target, reason = parsed
    result = await _actions(ctx).freeze(target, actor_id=ctx.user_id, via="chat", reason=reason)
    if result.outcome is Outcome.NO_REASON:
        await ctx.reply(ctx.t("admin-freeze-no-reason", id=str(target)))
        return
    await _answer(ctx, target, result, "admin-frozen", "admin-already-frozen", reason=clean_reason(reason) or "")


@router.command("unfreeze", in_groups=True)
@admin_only
async def unfreeze(ctx: Context) -> None:
    parsed = await _target(ctx, "admin-usage-unfreeze")
    if parsed is None:
        return
    target, reason = parsed
    result = await _actions(ctx).unfreeze(target, actor_id=ctx.user_id, via="chat", reason=reason)
    await _answer(ctx, target, result, "admin-unfrozen", "admin-not-frozen")


@router.command("promote", in_groups=True)
@admin_only
async def promote(ctx: Context) -> None:
    parsed = await _target(ctx, "admin-usage-promote")
    if parsed is None:
        return
    target, rest = parsed
    role, _, reason = rest.partition(" ")
    if not role:
        await ctx.reply(ctx.t("admin-usage-promote"))
        return
    role = role.lower()
    result = await _actions(ctx).promote(target, role, actor_id=ctx.user_id, via="chat", reason=reason)
    if result.outcome is Outcome.BAD_ROLE:
        await ctx.reply(ctx.t("admin-bad-role", role=role[:32]))
        return
    _follow_role(ctx, target, result)
    await _answer(ctx, target, result, "admin-promoted", "admin-already-role", role=role)


@router.command("demote", in_groups=True)
@admin_only
async def demote(ctx: Context) -> None:
    parsed = await _target(ctx, "admin-usage-demote")
    if parsed is None:
        return
    target, reason = parsed
    result = await _actions(ctx).demote(target, actor_id=ctx.user_id, via="chat", reason=reason)
    _follow_role(ctx, target, result)
    before = result.before or ""
    await _answer(ctx, target, result, "admin-demoted", "admin-not-promoted", before=before)


def _follow_role(ctx: Context, target: int, result: Result) -> None:
    """The target's command menu follows their role once this commits. Also when the role was
    already so: a menu Telegram refused earlier (they had not opened the bot) is tried again now,
    and one that is right already costs no call."""
    if result.outcome in (Outcome.DONE, Outcome.ALREADY):
        ctx.refresh_menu(target)
