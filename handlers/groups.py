"""Groups: /invite (personal named invite links), /top (weekly leaderboard), joins, the bot's own membership,
and a group's upgrade to a supergroup."""
from __future__ import annotations

from bot.context import Context
from bot.i18n import resolve_locale
from bot.services.groups import Readiness, link_name, readiness
from bot.services.leaderboard import week_start
from bot.transport import BadRequest, Button, SendError
from db.repositories.groups import GroupRow
from db.repositories.users import UserRow
from handlers.admin_guard import ANONYMOUS_ADMIN_ID
from handlers.router import Router

router = Router("groups")

PICK = "ginv"  # callback data: ginv:<chat_id>, a group chosen for /invite in private
MAX_CHOICES = 20
_MISSING = {Readiness.NOT_ADMIN: "group-not-admin", Readiness.NO_INVITE_RIGHT: "group-no-invite-right"}


def _bot_id(ctx: Context) -> int:
    # A token is "<bot id>:<secret>" (checked at start-up): the id getChatMember needs for the bot itself.
    return int(ctx.app.settings.bot_token.partition(":")[0])


def _stay(ctx: Context, locale: str) -> str:
    """When a join counts: 'once they have stayed 24 h', or 'as soon as they join'."""
    hours = ctx.app.settings.group_min_stay_hours
    if hours > 0:
        return ctx.app.i18n.t(locale, "group-stay-hours", hours=f"{hours:g}")
    return ctx.app.i18n.t(locale, "group-stay-none")


def _link_text(ctx: Context, locale: str, title: str, link: str) -> str:
    i18n = ctx.app.i18n
    return (i18n.t(locale, "group-invite-link", title=title, link=link) + "\n\n"
            + i18n.t(locale, "group-invite-rule", stay=_stay(ctx, locale)))


# -- the bot's own membership, and who is in the group -------------------------------------

@router.on("my_chat_member")
async def bot_membership(ctx: Context) -> None:
    incoming, change = ctx.incoming, ctx.incoming.member
    if not incoming.is_group or change is None:
        return  # a private chat (someone blocked or unblocked the bot) or a channel
    ready = await ctx.services.groups.bot_membership(
        chat_id=ctx.chat_id, title=incoming.chat_title or "", type=incoming.chat_type or "group",
        status=change.new_status, can_invite=change.can_invite)
    if ready is None:
        return  # the old chat of a group that became a supergroup: nobody reads it any more
    if change.joined:
        # Whoever added the bot hears at once what is missing, rather than at the first /invite.
        await ctx.reply(ctx.t(_MISSING.get(ready, "group-ready")))


@router.watch("group_message")
async def seen_in_group(ctx: Context) -> None:
    person = ctx.incoming.user
    if person is None or person.is_bot:
        return  # the anonymous admin, a channel posting, another bot: nobody to invite with
    if ctx.incoming.migration is not None:
        return  # the upgrade's message in the old group: recording its sender there would revive a dead chat
    await ctx.services.groups.seen(chat_id=ctx.chat_id, title=ctx.incoming.chat_title,
                                   type=ctx.incoming.chat_type or "group", user_id=person.id)


@router.on("chat_member")
async def member_changed(ctx: Context) -> None:
    incoming, change = ctx.incoming, ctx.incoming.member
    if not incoming.is_group or change is None:
        return
    await ctx.services.groups.member_changed(
        chat_id=ctx.chat_id, title=incoming.chat_title, type=incoming.chat_type or "group",
        user_id=change.person.id, is_bot=change.person.is_bot, joined=change.joined, left=change.left,
        present=change.is_member, invite_link=change.invite_link)


@router.on("chat_migrated")
async def group_upgraded(ctx: Context) -> None:
    """The group became a supergroup under a new id: members, links, joins and settings follow.
    Nothing is said: the group sees Telegram's own notice."""
    migration = ctx.incoming.migration
    assert migration is not None
    group = await ctx.services.groups.upgraded(old_chat_id=migration[0], new_chat_id=migration[1],
                                               title=ctx.incoming.chat_title)
    if group is not None:
        # A supergroup already on record from a guess (a message seen there first) is checked with
        # Telegram now, so /invite in private offers it without waiting for an /invite in the group.
        await _readiness(ctx, group)


# -- /invite ----------------------------------------------------------------------------------

async def _recheck(ctx: Context, group: GroupRow) -> Readiness:
    """Asks Telegram what the bot may do in the group, and stores the answer."""
    me = await ctx.chat_member(group.chat_id, _bot_id(ctx))
    if me is None:
        return readiness(group.bot_status, group.can_invite)
    ready = await ctx.services.groups.bot_membership(chat_id=group.chat_id, title=group.title, type=group.type,
                                                     status=me.status, can_invite=me.can_invite_users)
    # None only if the group became a supergroup meanwhile: the answer was for the old chat.
    return ready if ready is not None else readiness(group.bot_status, group.can_invite)


async def _readiness(ctx: Context, group: GroupRow) -> Readiness:
    ready = readiness(group.bot_status, group.can_invite)
    if ready is Readiness.READY:
        return ready
    # A "no" on record may be stale (the bot was promoted while an update was lost, or joined
    # before it tracked groups): one look-up before refusing.
    return await _recheck(ctx, group)


async def _link(ctx: Context, group: GroupRow, owner: UserRow) -> str | Readiness | None:
    """The owner's link for the group: the stored one, else a new one (one Telegram call per
    member per group, ever). A Readiness when Telegram refused for want of rights; None on any
    other failure."""
    services = ctx.services
    stored = await services.groups.stored_link(group.chat_id, owner.id)
    if stored is not None:
        return stored
    code = await services.codes.personal_code(owner.id)
    name = link_name(code.code)
    try:
        url = await ctx.create_invite_link(group.chat_id, name)
    except BadRequest as exc:
        if not exc.lacks_rights:
            return None
        ready = await _recheck(ctx, group)
        if ready is Readiness.READY:
            # getChatMember says yes, createChatInviteLink said no: the invite right is the one missing.
            await services.groups.bot_membership(chat_id=group.chat_id, title=group.title, type=group.type,
                                                 status="administrator", can_invite=False)
            return Readiness.NO_INVITE_RIGHT
        return ready
    except SendError:
        return None
    return await services.groups.save_link(chat_id=group.chat_id, owner_id=owner.id, url=url, name=name)


@router.command("invite", in_groups=True)
async def invite(ctx: Context) -> None:
    if ctx.is_private:
        await _choose_group(ctx)
        return
    person = ctx.incoming.user
    if not ctx.incoming.is_group or person is None:
        return
    if person.id == ANONYMOUS_ADMIN_ID:
        await ctx.reply(ctx.t("group-invite-anonymous"))
        return
    if person.is_bot:
        return
    group = await ctx.services.groups.group(chat_id=ctx.chat_id, title=ctx.incoming.chat_title,
                                            type=ctx.incoming.chat_type or "group")
    ready = await _readiness(ctx, group)
    if ready is not Readiness.READY:
        await ctx.reply(ctx.t(_MISSING[ready]))
        return
    member = await ctx.services.uow.users.get(person.id)
    if member is None or member.status == "blocked":
        # Telegram lets a bot write only to people who started it (or unblocked it).
        url = f"https://t.me/{ctx.app.bot_username}"
        await ctx.reply(ctx.t("group-start-me-first"), [[Button(ctx.t("group-open-button"), url=url)]])
        return
    # Their own language, not the one their Telegram app happens to report in the group.
    locale = resolve_locale(member.language, person.language_code, ctx.app.settings.default_locale)
    if member.status == "frozen":
        await ctx.send_to(member.id, ctx.app.i18n.t(locale, "code-frozen"))  # privately: not before the group
        return
    result = await _link(ctx, group, member)
    if isinstance(result, Readiness):
        await ctx.reply(ctx.t(_MISSING[result]))
    elif result is None:
        await ctx.reply(ctx.t("group-invite-failed"))
    else:
        await ctx.send_to(member.id, _link_text(ctx, locale, group.title, result))


async def _choose_group(ctx: Context) -> None:
    if ctx.user is not None and ctx.user.status == "frozen":
        await ctx.reply(ctx.t("code-frozen"))
        return
    groups = await ctx.services.groups.shared_with(ctx.user_id)
    if not groups:
        await ctx.reply(ctx.t("group-invite-none"))
        return
    keyboard = [[Button(g.title or str(g.chat_id), callback_data=f"{PICK}:{g.chat_id}")] for g in groups[:MAX_CHOICES]]
    await ctx.reply(ctx.t("group-invite-pick"), keyboard)


@router.callback(PICK)
async def group_chosen(ctx: Context) -> None:
    raw = ctx.callback_data.partition(":")[2]
    if not raw.lstrip("-").isdigit() or ctx.user is None:
        await ctx.answer_callback(ctx.t("callback-expired"))
        return
    chat_id = int(raw)
    await ctx.answer_callback()
    if ctx.user.status == "frozen":
        await ctx.edit(ctx.t("code-frozen"))
        return
    group = await ctx.services.uow.groups.get(chat_id)
    if group is None or not await ctx.services.groups.is_member(chat_id, ctx.user_id):
        await ctx.edit(ctx.t("group-invite-not-member"))
        return
    ready = await _readiness(ctx, group)
    result = await _link(ctx, group, ctx.user) if ready is Readiness.READY else ready
    if isinstance(result, Readiness):
        await ctx.edit(ctx.t(_MISSING[result]))
    elif result is None:
        await ctx.edit(ctx.t("group-invite-failed"))
    else:
        await ctx.edit(_link_text(ctx, ctx.locale, group.title, result))


# -- /top -------------------------------------------------------------------------------------

async def _is_group_admin(ctx: Context) -> bool:
    person = ctx.incoming.user
    if person is None:
        return False
    if person.id == ANONYMOUS_ADMIN_ID:
        return True  # only this group's admins can post as the group
    member = await ctx.chat_member(ctx.chat_id, person.id)
    return member is not None and member.is_admin


@router.command("top", in_groups=True)
async def top(ctx: Context) -> None:
    if not ctx.incoming.is_group:
        await ctx.reply(ctx.t("top-private"))
        return
    services = ctx.services
    group = await services.groups.group(chat_id=ctx.chat_id, title=ctx.incoming.chat_title,
                                        type=ctx.incoming.chat_type or "group")
    switch = ctx.args.strip().lower()
    if switch in ("on", "off"):
        if not await _is_group_admin(ctx):
            await ctx.reply(ctx.t("top-admins-only"))
            return
        await services.groups.set_top_enabled(ctx.chat_id, switch == "on")
        await ctx.reply(ctx.t("top-turned-on" if switch == "on" else "top-turned-off"))
        return
    if not await services.leaderboard.claim(ctx.chat_id):
        return  # one post an hour per group, whoever asks: a busy group is not flooded
    if not group.top_enabled:
        await ctx.reply(ctx.t("top-off"))
        return
    standings = await services.leaderboard.weekly(ctx.chat_id)
    since = ctx.local_date(week_start(ctx.now(), ctx.app.settings.tz))
    lines = [ctx.t("top-title", since=since)]
    lines += [ctx.t("top-line", rank=rank, name=s.name, count=s.count) for rank, s in enumerate(standings, 1)]
    if not standings:
        lines.append(ctx.t("top-empty"))
    text = "\n".join(lines) + "\n\n" + ctx.t("top-rule", stay=_stay(ctx, ctx.locale))
    ready = await _readiness(ctx, group)
    if ready is not Readiness.READY:
        # Without the right there are no links to join through, so an empty board would mislead.
        text += "\n\n" + ctx.t(_MISSING[ready])
    await ctx.reply(text)
