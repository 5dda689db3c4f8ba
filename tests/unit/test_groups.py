"""Groups: the bot's own membership, /invite (in a group and in private), joins through members'
links, attribution of joiners who later open the bot, /top, and the update reader for member updates."""
from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.context import Incoming, MemberUpdate
from bot.runtime.updates import to_incoming
from bot.services.codes import CodeService
from bot.services.leaderboard import is_effective, week_start
from bot.transport import BadRequest, ChatMemberInfo, InlineArticle, SendError, StartButton
from db.models import Binding, FraudFlag, Group, GroupJoin, GroupLink, GroupMember, User
from handlers.admin_guard import ANONYMOUS_ADMIN_ID
from handlers.router import Router
from tests.conftest import T0
from tests.support import RecordingTransport, Sent, callback, message, person

GROUP = -100_500_600
TITLE = "Readers & Friends"
BOT_ID = 1  # the test token is "1:test"
OWNER, FRIEND, OTHER, ADMIN_OF_GROUP = 5001, 5002, 5003, 5004
_ids = itertools.count(900_000)


class GroupTransport(RecordingTransport):
    """The recording transport, plus what groups and inline mode need: invite links, getChatMember,
    inline answers. Members' statuses are set by the test; the bot is an admin with every right."""

    def __init__(self) -> None:
        super().__init__()
        self.members: dict[tuple[int, int], ChatMemberInfo] = {(GROUP, BOT_ID): ChatMemberInfo("administrator", True)}
        self.links: list[tuple[int, str, str]] = []  # (chat, name, url) of every link created
        self.link_error: SendError | None = None
        self.lookups: list[tuple[int, int]] = []

    async def answer_inline_query(self, inline_query_id: str, results: list[InlineArticle], cache_time: int,
                                  is_personal: bool, button: StartButton | None = None) -> None:
        self.sent.append(Sent("answer_inline_query", None, extra={
            "id": inline_query_id, "results": results, "cache_time": cache_time, "is_personal": is_personal,
            "button": button}))

    async def create_chat_invite_link(self, chat_id: int, name: str) -> str:
        if self.link_error is not None:
            raise self.link_error
        url = f"https://t.me/+L{len(self.links) + 1}"
        self.links.append((chat_id, name, url))
        return url

    async def get_chat_member(self, chat_id: int, user_id: int) -> ChatMemberInfo:
        self.lookups.append((chat_id, user_id))
        return self.members.get((chat_id, user_id), ChatMemberInfo("left"))


@pytest.fixture
def transport() -> GroupTransport:
    return GroupTransport()


# -- update builders --------------------------------------------------------------------------

def group_message(who, text: str, chat_id: int = GROUP) -> Incoming:  # noqa: ANN001
    return message(who, text, chat_id=chat_id, chat_type="supergroup")


def member_update(kind: str, who, old: str, new: str, *, by=None, link: str | None = None,  # noqa: ANN001
                  can_invite: bool = False, chat_id: int = GROUP, chat_type: str = "supergroup") -> Incoming:
    present = {"creator", "administrator", "member", "restricted"}
    change = MemberUpdate(person=who, old_status=old, new_status=new, was_member=old in present,
                          is_member=new in present, can_invite=can_invite, invite_link=link,
                          invite_link_name="x" if link else None)
    return Incoming(update_id=next(_ids), kind=kind, user=by or who, chat_id=chat_id, chat_type=chat_type,
                    chat_title=TITLE, member=change)


def bot_added(status: str = "administrator", can_invite: bool = True, old: str = "left",
              **kw) -> Incoming:  # noqa: ANN003
    return member_update("my_chat_member", person(BOT_ID, "Bot", is_bot=True), old, status,
                         by=person(ADMIN_OF_GROUP, "Gina", lang="en"), can_invite=can_invite, **kw)


def joined(who, link: str | None = None) -> Incoming:  # noqa: ANN001
    return member_update("chat_member", who, "left", "member", link=link)


def left(who) -> Incoming:  # noqa: ANN001
    return member_update("chat_member", who, "member", "left")


# -- helpers ------------------------------------------------------------------------------------

async def rows(app, *columns):  # noqa: ANN001, ANN002, ANN201
    async with app.uow() as uow:
        return [tuple(r) for r in await uow.session.execute(select(*columns))]


async def start(pipeline, uid: int, name: str = "Olga", payload: str = "") -> None:  # noqa: ANN001
    await pipeline.handle(message(person(uid, name, lang="en"), f"/start {payload}".strip()))


async def ready_group(pipeline, transport) -> None:  # noqa: ANN001
    """The bot added as an admin with the invite right; OWNER has started the bot and written in the group."""
    await pipeline.handle(bot_added())
    await start(pipeline, OWNER)
    await pipeline.handle(group_message(person(OWNER, "Olga", lang="en"), "hello"))
    transport.sent.clear()


async def owner_link(pipeline, transport) -> str:  # noqa: ANN001
    await pipeline.handle(group_message(person(OWNER, "Olga", lang="en"), "/invite"))
    return transport.links[-1][2]


def texts(transport, chat_id: int) -> list[str]:  # noqa: ANN001
    return [s.text for s in transport.to(chat_id)]


# -- the bot's own membership ---------------------------------------------------------------------

async def test_added_as_admin_with_the_invite_right_the_bot_is_ready_and_says_how(app, pipeline, transport):
    await pipeline.handle(bot_added())
    assert await rows(app, Group.chat_id, Group.title, Group.type, Group.bot_status, Group.can_invite) == [
        (GROUP, TITLE, "supergroup", "administrator", True)]
    [hello] = texts(transport, GROUP)
    assert "/invite" in hello and "/top" in hello


@pytest.mark.parametrize("status, can_invite, expected", [
    ("member", False, "I am not an admin of this group"),
    ("administrator", False, "I am an admin, but without the right “Invite users via link”"),
])
async def test_added_without_the_rights_the_bot_names_what_is_missing(app, pipeline, transport, status, can_invite,
                                                                       expected):
    await pipeline.handle(bot_added(status, can_invite))
    [said] = texts(transport, GROUP)
    assert expected in said
    assert await rows(app, Group.bot_status, Group.can_invite) == [(status, can_invite)]


async def test_removed_or_demoted_the_record_follows_and_nothing_is_said(app, pipeline, transport):
    await pipeline.handle(bot_added())
    transport.sent.clear()
    await pipeline.handle(bot_added("administrator", False, old="administrator"))
    assert await rows(app, Group.bot_status, Group.can_invite) == [("administrator", False)]
    await pipeline.handle(bot_added("kicked", False, old="administrator"))
    assert await rows(app, Group.bot_status, Group.can_invite) == [("kicked", False)]
    assert transport.sent == []


async def test_private_and_channel_membership_changes_are_ignored(app, pipeline, transport):
    blocker = person(6001, "Blocker")
    await pipeline.handle(member_update("my_chat_member", person(BOT_ID, "Bot", is_bot=True), "member", "kicked",
                                        by=blocker, chat_id=blocker.id, chat_type="private"))
    await pipeline.handle(bot_added(chat_id=-100_777, chat_type="channel"))
    assert await rows(app, Group.chat_id) == [] and await rows(app, User.id) == [] and transport.sent == []


# -- /invite in a group ------------------------------------------------------------------------------

async def test_invite_makes_a_named_link_once_and_sends_it_privately(app, pipeline, transport):
    await ready_group(pipeline, transport)
    await pipeline.handle(group_message(person(OWNER, "Olga", lang="en"), "/invite"))
    [(chat, name, url)] = transport.links
    async with app.uow() as uow:
        code = (await uow.codes.personal(OWNER)).code
    assert (chat, name) == (GROUP, code) and len(name) <= 32
    [private] = texts(transport, OWNER)
    assert f"<b>{TITLE.replace('&', '&amp;')}</b>" in private and url in private and "stayed 24 h" in private
    assert texts(transport, GROUP) == []  # the group hears nothing
    await pipeline.handle(group_message(person(OWNER, "Olga", lang="en"), "/invite@ReferralTestBot"))
    assert len(transport.links) == 1 and texts(transport, OWNER)[-1] == private  # the stored link, no new call
    assert await rows(app, GroupLink.chat_id, GroupLink.owner_id, GroupLink.invite_link, GroupLink.name) == [
        (GROUP, OWNER, url, code)]


async def test_the_private_link_is_in_the_members_own_language(app, pipeline, transport):
    await ready_group(pipeline, transport)
    async with app.uow() as uow:
        await uow.users.set_language(OWNER, "zh-CN")
        await uow.commit()
    await pipeline.handle(group_message(person(OWNER, "Olga", lang="en"), "/invite"))
    assert "专属邀请链接" in transport.last(OWNER).text


@pytest.mark.parametrize("member, expected", [
    (ChatMemberInfo("member"), "I am not an admin of this group"),
    (ChatMemberInfo("administrator", False), "I am an admin, but without the right “Invite users via link”"),
])
async def test_without_the_rights_invite_names_the_missing_one_in_the_group(app, pipeline, transport, member,
                                                                          expected):
    await pipeline.handle(bot_added(member.status, member.can_invite_users))
    await start(pipeline, OWNER)
    transport.members[(GROUP, BOT_ID)] = member
    transport.sent.clear()
    await pipeline.handle(group_message(person(OWNER, "Olga", lang="en"), "/invite"))
    [said] = texts(transport, GROUP)
    assert expected in said
    assert transport.links == [] and texts(transport, OWNER) == []
    assert transport.lookups == [(GROUP, BOT_ID)]  # checked live before refusing


async def test_a_stale_no_is_checked_live_and_corrected(app, pipeline, transport):
    # The bot was in the group before it tracked groups: a message creates the record, rights unknown.
    await start(pipeline, OWNER)
    await pipeline.handle(group_message(person(OWNER, "Olga", lang="en"), "/invite"))
    assert len(transport.links) == 1 and "https://t.me/+L1" in transport.last(OWNER).text
    assert await rows(app, Group.bot_status, Group.can_invite) == [("administrator", True)]


@pytest.mark.parametrize("description", [
    "Bad Request: not enough rights to manage chat invite link", "Bad Request: CHAT_ADMIN_REQUIRED"])
async def test_when_telegram_refuses_for_rights_the_missing_right_is_named_and_stored(app, pipeline, transport,
                                                                                     description):
    await ready_group(pipeline, transport)
    transport.link_error = BadRequest(description)
    transport.members[(GROUP, BOT_ID)] = ChatMemberInfo("administrator", False)
    await pipeline.handle(group_message(person(OWNER, "Olga", lang="en"), "/invite"))
    assert "without the right “Invite users via link”" in transport.last(GROUP).text
    assert await rows(app, Group.can_invite) == [(False,)] and await rows(app, GroupLink.id) == []


async def test_when_telegram_refuses_though_getchatmember_says_yes_the_invite_right_is_named(app, pipeline,
                                                                                           transport):
    await ready_group(pipeline, transport)
    transport.link_error = BadRequest("Bad Request: not enough rights to manage chat invite link")
    await pipeline.handle(group_message(person(OWNER, "Olga", lang="en"), "/invite"))
    assert "without the right “Invite users via link”" in transport.last(GROUP).text
    assert await rows(app, Group.bot_status, Group.can_invite) == [("administrator", False)]


async def test_another_failure_creating_the_link_is_an_apology_in_the_group(app, pipeline, transport):
    await ready_group(pipeline, transport)
    transport.link_error = SendError()
    await pipeline.handle(group_message(person(OWNER, "Olga", lang="en"), "/invite"))
    assert transport.last(GROUP).text == "Sorry, I could not create the link right now. Please try again later."
    assert texts(transport, OWNER) == []


@pytest.mark.parametrize("status", [None, "blocked"])
async def test_a_member_the_bot_cannot_message_is_told_in_the_group_to_start_it(app, pipeline, transport, status):
    await pipeline.handle(bot_added())
    if status is not None:
        await start(pipeline, FRIEND)
        async with app.uow() as uow:
            await uow.users.set_status(FRIEND, status)
            await uow.commit()
    transport.sent.clear()
    await pipeline.handle(group_message(person(FRIEND, "Fred", lang="en"), "/invite"))
    [answer] = transport.to(GROUP)
    assert "you haven't started me yet" in answer.text and "/invite" in answer.text
    assert [b.url for b in answer.buttons()] == ["https://t.me/ReferralTestBot"]
    assert transport.links == [] and texts(transport, FRIEND) == []
    assert (await rows(app, User.id)) == ([] if status is None else [(FRIEND,)])  # a group message records nobody


async def test_a_frozen_member_is_told_privately_and_gets_no_link(app, pipeline, transport):
    await ready_group(pipeline, transport)
    async with app.uow() as uow:
        await uow.users.set_status(OWNER, "frozen")
        await uow.commit()
    await pipeline.handle(group_message(person(OWNER, "Olga", lang="en"), "/invite"))
    assert "frozen" in transport.last(OWNER).text and texts(transport, GROUP) == [] and transport.links == []


async def test_the_anonymous_admin_is_asked_to_use_a_private_chat(pipeline, transport):
    await pipeline.handle(bot_added())
    transport.sent.clear()
    await pipeline.handle(group_message(person(ANONYMOUS_ADMIN_ID, "Group", lang="en", is_bot=True), "/invite"))
    assert "posting anonymously" in transport.last(GROUP).text and transport.links == []


# -- /invite in private ---------------------------------------------------------------------------------

async def test_invite_in_private_without_a_shared_group_says_how_to_get_one(pipeline, transport):
    await pipeline.handle(bot_added("member", False))  # the bot is in the group but not an admin
    await pipeline.handle(group_message(person(OWNER, "Olga", lang="en"), "hi"))
    await pipeline.handle(message(person(OWNER, "Olga", lang="en"), "/invite"))
    answer = transport.last(OWNER)
    assert "haven't seen you in any group where I am an admin" in answer.text and answer.keyboard is None


async def test_invite_in_private_lists_shared_groups_and_a_press_sends_the_link(app, pipeline, transport):
    await ready_group(pipeline, transport)
    await pipeline.handle(message(person(OWNER, "Olga", lang="en"), "/invite"))
    pick = transport.last(OWNER)
    assert pick.text == "Which group do you want an invite link for?"
    assert [(b.text, b.callback_data) for b in pick.buttons()] == [(TITLE, f"ginv:{GROUP}")]
    await pipeline.handle(callback(person(OWNER, "Olga", lang="en"), f"ginv:{GROUP}"))
    edited = [s for s in transport.to(OWNER) if s.method == "edit_message"][-1]
    [(_, _, url)] = transport.links
    assert url in edited.text and TITLE.replace("&", "&amp;") in edited.text
    assert any(s.method == "answer_callback" for s in transport.sent)


async def test_a_press_after_leaving_the_group_gives_no_link(app, pipeline, transport):
    await ready_group(pipeline, transport)
    await pipeline.handle(message(person(OWNER, "Olga", lang="en"), "/invite"))
    await pipeline.handle(left(person(OWNER, "Olga")))
    await pipeline.handle(callback(person(OWNER, "Olga", lang="en"), f"ginv:{GROUP}"))
    assert "don't seem to be in that group" in transport.last(OWNER).text and transport.links == []
    await pipeline.handle(message(person(OWNER, "Olga", lang="en"), "/invite"))
    assert "haven't seen you in any group" in transport.last(OWNER).text


async def test_a_press_when_the_bot_lost_the_right_names_it(app, pipeline, transport):
    await ready_group(pipeline, transport)
    await pipeline.handle(message(person(OWNER, "Olga", lang="en"), "/invite"))
    await pipeline.handle(bot_added("administrator", False, old="administrator"))
    transport.members[(GROUP, BOT_ID)] = ChatMemberInfo("administrator", False)
    await pipeline.handle(callback(person(OWNER, "Olga", lang="en"), f"ginv:{GROUP}"))
    assert "without the right “Invite users via link”" in transport.last(OWNER).text and transport.links == []


async def test_forged_group_buttons_are_refused(pipeline, transport):
    await start(pipeline, OWNER)
    await pipeline.handle(callback(person(OWNER, "Olga", lang="en"), "ginv:abc"))
    assert transport.sent[-1].method == "answer_callback" and transport.sent[-1].text == "This button has expired."
    await pipeline.handle(callback(person(OWNER, "Olga", lang="en"), "ginv:-999"))
    assert "don't seem to be in that group" in transport.last(OWNER).text


async def test_a_frozen_user_gets_no_group_list(app, pipeline, transport):
    await ready_group(pipeline, transport)
    async with app.uow() as uow:
        await uow.users.set_status(OWNER, "frozen")
        await uow.commit()
    await pipeline.handle(message(person(OWNER, "Olga", lang="en"), "/invite"))
    assert "frozen" in transport.last(OWNER).text and transport.last(OWNER).keyboard is None


# -- joins ----------------------------------------------------------------------------------------------------

async def test_joins_are_recorded_once_with_our_link_or_without(app, pipeline, transport):
    await ready_group(pipeline, transport)
    url = await owner_link(pipeline, transport)
    await pipeline.handle(joined(person(FRIEND, "Fred"), url))
    await pipeline.handle(joined(person(OTHER, "Otto")))  # no link
    await pipeline.handle(joined(person(6100, "Stranger"), "https://t.me/+someone-elses"))  # not one of ours
    async with app.uow() as uow:
        link_id = (await uow.groups.link_of(GROUP, OWNER)).id
    assert sorted(await rows(app, GroupJoin.user_id, GroupJoin.link_id, GroupJoin.left_at)) == [
        (FRIEND, link_id, None), (OTHER, None, None), (6100, None, None)]
    assert (GROUP, FRIEND, True) in await rows(app, GroupMember.chat_id, GroupMember.user_id, GroupMember.present)
    assert await rows(app, User.id) == [(OWNER,)]  # joining a group records nobody as a user
    assert transport.to(GROUP) == [] and transport.to(FRIEND) == []


async def test_leaving_and_rejoining_keeps_the_first_join_and_the_first_leave(app, pipeline, transport):
    await ready_group(pipeline, transport)
    url = await owner_link(pipeline, transport)
    await pipeline.handle(joined(person(FRIEND, "Fred"), url))
    first = await rows(app, GroupJoin.joined_at, GroupJoin.link_id)
    app.clock.advance(hours=1)
    await pipeline.handle(left(person(FRIEND, "Fred")))
    app.clock.advance(hours=1)
    await pipeline.handle(joined(person(FRIEND, "Fred")))  # back, without the link
    app.clock.advance(hours=1)
    await pipeline.handle(left(person(FRIEND, "Fred")))
    assert await rows(app, GroupJoin.joined_at, GroupJoin.link_id) == first
    assert await rows(app, GroupJoin.left_at) == [(T0 + timedelta(hours=1),)]


async def test_a_restricted_member_counts_as_joined_and_bots_and_self_joins_are_not_attributed(app, pipeline,
                                                                                             transport):
    await ready_group(pipeline, transport)
    url = await owner_link(pipeline, transport)
    await pipeline.handle(member_update("chat_member", person(FRIEND, "Fred"), "left", "restricted", link=url))
    await pipeline.handle(joined(person(7000, "Spam", is_bot=True), url))
    await pipeline.handle(left(person(OWNER, "Olga")))
    await pipeline.handle(joined(person(OWNER, "Olga"), url))  # the owner through their own link
    got = {uid: (link, is_bot) for uid, link, is_bot in await rows(app, GroupJoin.user_id, GroupJoin.link_id,
                                                                   GroupJoin.is_bot)}
    assert got[FRIEND][0] is not None and got[7000] == (got[FRIEND][0], True) and got[OWNER] == (None, False)
    assert (GROUP, 7000) not in [(c, u) for c, u in await rows(app, GroupMember.chat_id, GroupMember.user_id)]


async def test_a_join_in_a_group_the_bot_never_saw_added_is_still_recorded(app, pipeline):
    await pipeline.handle(joined(person(FRIEND, "Fred")))
    assert await rows(app, Group.bot_status, Group.can_invite) == [("administrator", False)]
    assert await rows(app, GroupJoin.user_id) == [(FRIEND,)]


# -- attribution: joiners who later open the bot ---------------------------------------------------------------

async def binding_of(app, uid: int):  # noqa: ANN001, ANN201
    async with app.uow() as uow:
        return await uow.referrals.binding_of(uid)


async def test_a_joiner_who_then_starts_the_bot_is_bound_to_the_link_owner(app, pipeline, transport):
    await ready_group(pipeline, transport)
    await pipeline.handle(joined(person(FRIEND, "Fred"), await owner_link(pipeline, transport)))
    await start(pipeline, FRIEND, "Fred")
    bound = await binding_of(app, FRIEND)
    assert (bound.referrer_id, bound.source) == (OWNER, "group")
    assert transport.last(FRIEND).text.startswith("🎉 You joined through <b>O***</b>'s invitation.")


async def test_first_touch_the_group_link_wins_over_a_later_deep_link(app, pipeline, transport):
    await ready_group(pipeline, transport)
    await start(pipeline, OTHER, "Otto")
    other_code = await code_of(app, OTHER)
    await pipeline.handle(joined(person(FRIEND, "Fred"), await owner_link(pipeline, transport)))
    await start(pipeline, FRIEND, "Fred", payload=other_code)
    assert (await binding_of(app, FRIEND)).referrer_id == OWNER
    assert "O***" in transport.last(FRIEND).text and "No such" not in transport.last(FRIEND).text


async def test_the_group_link_wins_whatever_the_deep_link_holds(app, pipeline, transport):
    """The binding's look-up reads the group invite with the code; without a code to look up
    (unknown, malformed) the invite is asked for on its own, and wins all the same."""
    await ready_group(pipeline, transport)
    link = await owner_link(pipeline, transport)
    for uid, payload in ((FRIEND, "NOSUCH99"), (5100, "../../etc/passwd")):
        await pipeline.handle(joined(person(uid, "Fred"), link))
        await start(pipeline, uid, "Fred", payload=payload)
        bound = await binding_of(app, uid)
        assert (bound.referrer_id, bound.source) == (OWNER, "group")
        assert "O***" in transport.last(uid).text


async def code_of(app, uid: int) -> str:  # noqa: ANN001
    async with app.uow() as uow:
        code = await CodeService(uow, app.clock).personal_code(uid)
        await uow.commit()
    return code.code


async def test_someone_who_talked_to_the_bot_before_joining_is_not_re_attributed(app, pipeline, transport):
    await ready_group(pipeline, transport)
    await start(pipeline, FRIEND, "Fred")
    await pipeline.handle(joined(person(FRIEND, "Fred"), await owner_link(pipeline, transport)))
    await start(pipeline, FRIEND, "Fred")
    assert await binding_of(app, FRIEND) is None


async def test_a_joiner_without_our_link_is_not_bound(app, pipeline, transport):
    await ready_group(pipeline, transport)
    await pipeline.handle(joined(person(FRIEND, "Fred")))
    await start(pipeline, FRIEND, "Fred")
    assert await binding_of(app, FRIEND) is None


async def test_a_frozen_link_owner_binds_nobody_and_the_deep_link_decides(app, pipeline, transport):
    await ready_group(pipeline, transport)
    await start(pipeline, OTHER, "Otto")
    other_code = await code_of(app, OTHER)
    await pipeline.handle(joined(person(FRIEND, "Fred"), await owner_link(pipeline, transport)))
    async with app.uow() as uow:
        await uow.users.set_status(OWNER, "frozen")
        await uow.commit()
    await start(pipeline, FRIEND, "Fred", payload=other_code)
    assert (await binding_of(app, FRIEND)).referrer_id == OTHER


async def test_a_bot_joiner_is_never_bound(app, pipeline, transport):
    await ready_group(pipeline, transport)
    await pipeline.handle(joined(person(7001, "Robo", is_bot=True), await owner_link(pipeline, transport)))
    await pipeline.handle(message(person(7001, "Robo", lang="en", is_bot=True), "/start"))
    assert await binding_of(app, 7001) is None and await rows(app, Binding.referee_id) == []


async def test_three_bots_through_a_members_link_flag_the_member_for_review(app, pipeline, transport):
    await ready_group(pipeline, transport)
    link = await owner_link(pipeline, transport)
    for n in range(3):
        await pipeline.handle(joined(person(7100 + n, f"Robo{n}", is_bot=True), link))
    assert await rows(app, FraudFlag.user_id, FraudFlag.kind, FraudFlag.state) == [
        (OWNER, "fake_referees", "open")]
    [(evidence,)] = await rows(app, FraudFlag.evidence)
    assert evidence["group_bots"] == 3


async def test_bots_joining_without_a_members_link_flag_nobody(app, pipeline, transport):
    await ready_group(pipeline, transport)
    for n in range(3):
        await pipeline.handle(joined(person(7200 + n, f"Robo{n}", is_bot=True)))
    assert await rows(app, FraudFlag.id) == []


# -- /top -------------------------------------------------------------------------------------------------------

async def board(pipeline, transport, who=None, text: str = "/top") -> Sent | None:  # noqa: ANN001
    before = len(transport.to(GROUP))
    await pipeline.handle(group_message(who or person(OTHER, "Otto", lang="en"), text))
    after = transport.to(GROUP)
    return after[-1] if len(after) > before else None


async def test_top_lists_effective_invites_with_masked_names_once_an_hour(app, pipeline, transport):
    await ready_group(pipeline, transport)
    url = await owner_link(pipeline, transport)
    await start(pipeline, OTHER, "Barbara")
    await pipeline.handle(group_message(person(OTHER, "Barbara", lang="en"), "/invite"))
    other_url = transport.links[-1][2]
    for uid in (8001, 8002):
        await pipeline.handle(joined(person(uid, "J"), url))
    await pipeline.handle(joined(person(8003, "K"), other_url))
    await pipeline.handle(joined(person(8004, "L")))  # without a link: nobody's invite
    await pipeline.handle(joined(person(8005, "B", is_bot=True), url))  # a bot never counts
    early = person(8006, "Early")
    await pipeline.handle(joined(early, other_url))
    app.clock.advance(hours=2)
    await pipeline.handle(left(early))  # left after 2 h: never counts, even after rejoining
    await pipeline.handle(joined(early, other_url))
    app.clock.advance(hours=23)
    post = await board(pipeline, transport)
    assert post.text.splitlines()[:3] == [
        "<b>Top inviters this week</b> (since 2026-11-23)", "1. O*** — 2", "2. Bar*** — 1"]
    assert "stayed 24 h" in post.text and "Olga" not in post.text and "Barbara" not in post.text
    assert await board(pipeline, transport) is None  # within the hour: nothing at all
    app.clock.advance(minutes=61)
    assert (await board(pipeline, transport)).text == post.text


@pytest.mark.parametrize("status, can_invite, missing", [
    ("member", False, "I am not an admin of this group"),
    ("administrator", False, "I am an admin, but without the right “Invite users via link”"),
])
async def test_top_without_the_rights_says_which_is_missing(app, pipeline, transport, status, can_invite, missing):
    await pipeline.handle(bot_added(status, can_invite=can_invite))
    transport.members[(GROUP, BOT_ID)] = ChatMemberInfo(status, can_invite)  # the live re-check agrees
    post = await board(pipeline, transport)
    assert post is not None and "No one has brought anyone in" in post.text and missing in post.text


async def test_top_with_the_rights_says_nothing_about_them(app, pipeline, transport):
    await ready_group(pipeline, transport)
    post = await board(pipeline, transport)
    assert post is not None and "I can't create invite links" not in post.text


async def test_joins_count_only_after_the_stay_and_early_leavers_never(app, pipeline, transport):
    await ready_group(pipeline, transport)
    url = await owner_link(pipeline, transport)
    await pipeline.handle(joined(person(8101, "A"), url))
    app.clock.advance(hours=23)
    assert "No one has brought anyone in" in (await board(pipeline, transport)).text
    await pipeline.handle(left(person(8101, "A")))  # 23 h: too early
    app.clock.advance(hours=2)
    assert "No one has brought anyone in" in (await board(pipeline, transport)).text


async def test_with_no_minimum_stay_a_join_counts_at_once(app, pipeline, transport):
    app.settings = app.settings.model_copy(update={"group_min_stay_hours": 0.0})
    await ready_group(pipeline, transport)
    await pipeline.handle(joined(person(8201, "A"), await owner_link(pipeline, transport)))
    await pipeline.handle(left(person(8201, "A")))
    post = await board(pipeline, transport)
    assert "1. O*** — 1" in post.text and "as soon as they join" in post.text


async def test_a_join_counts_in_the_week_it_became_effective(app, pipeline, transport):
    await ready_group(pipeline, transport)
    url = await owner_link(pipeline, transport)
    # T0 is Thursday 10:00 in Shanghai; this join becomes effective on Monday 01:00 of next week.
    app.clock.advance(days=3, hours=15)  # Sunday 01:00
    await pipeline.handle(joined(person(8301, "A"), url))
    app.clock.advance(hours=23, minutes=30)  # Monday 00:30: not yet effective
    assert "No one" in (await board(pipeline, transport)).text
    app.clock.advance(hours=2)
    post = await board(pipeline, transport)
    assert "(since 2026-11-30)" in post.text and "1. O*** — 1" in post.text


async def test_group_admins_turn_the_board_off_and_on_and_others_are_refused(app, pipeline, transport):
    await ready_group(pipeline, transport)
    gina = person(ADMIN_OF_GROUP, "Gina", lang="en")
    transport.members[(GROUP, ADMIN_OF_GROUP)] = ChatMemberInfo("administrator")
    transport.members[(GROUP, OTHER)] = ChatMemberInfo("member")
    refused = await board(pipeline, transport, person(OTHER, "Otto", lang="en"), "/top off")
    assert refused.text == "Only the group's admins can turn the leaderboard on or off."
    assert (await board(pipeline, transport, gina, "/top off")).text.startswith("The leaderboard is now off")
    assert await rows(app, Group.top_enabled) == [(False,)]
    off = await board(pipeline, transport)
    assert off.text.startswith("The leaderboard is turned off in this group")
    assert await board(pipeline, transport) is None  # the "off" answer is rate limited too
    anonymous = person(ANONYMOUS_ADMIN_ID, "Group", lang="en", is_bot=True)
    assert (await board(pipeline, transport, anonymous, "/top on")).text == "The leaderboard is now on in this group."
    app.clock.advance(hours=1)
    assert (await board(pipeline, transport)).text.startswith("<b>Top inviters this week</b>")


async def test_the_creator_may_switch_and_a_failed_lookup_refuses(app, pipeline, transport):
    await ready_group(pipeline, transport)
    transport.members[(GROUP, ADMIN_OF_GROUP)] = ChatMemberInfo("creator")
    gina = person(ADMIN_OF_GROUP, "Gina", lang="en")
    assert "now off" in (await board(pipeline, transport, gina, "/top off")).text

    async def broken(chat_id: int, user_id: int) -> ChatMemberInfo:
        raise SendError()
    transport.get_chat_member = broken  # type: ignore[method-assign]
    assert "Only the group's admins" in (await board(pipeline, transport, gina, "/top on")).text


async def test_top_in_private_says_where_it_works(pipeline, transport):
    await pipeline.handle(message(person(OWNER, "Olga", lang="en"), "/top"))
    assert transport.last(OWNER).text.startswith("/top works in groups")


# -- the effective rule and the week, as properties ---------------------------------------------------------------

STAY = st.floats(min_value=0, max_value=72).map(lambda h: timedelta(hours=h))
MOMENT = st.integers(min_value=0, max_value=30 * 24 * 3600).map(lambda s: T0 + timedelta(seconds=s))


@given(joined_at=MOMENT, stay=STAY, later=st.integers(min_value=0, max_value=10**7))
def test_once_effective_a_join_stays_effective(joined_at, stay, later):
    now = joined_at + stay
    assert is_effective(joined_at, None, now, stay)
    assert is_effective(joined_at, None, now + timedelta(seconds=later), stay)
    left_at = now + timedelta(seconds=later)  # left after the stay: still counts
    assert is_effective(joined_at, left_at, left_at + timedelta(days=1), stay)


@given(joined_at=MOMENT, stay=STAY.filter(lambda s: s > timedelta(0)), early=st.floats(0, 0.999))
def test_an_early_leaver_never_counts(joined_at, stay, early):
    left_at = joined_at + stay * early
    if left_at - joined_at < stay:
        assert not is_effective(joined_at, left_at, left_at + timedelta(days=365), stay)


@given(now=MOMENT, zone=st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"]))
def test_the_week_starts_on_the_last_local_monday_midnight(now, zone):
    tz = ZoneInfo(zone)
    start = week_start(now, tz)
    local = start.astimezone(tz)
    assert (local.weekday(), local.hour, local.minute) == (0, 0, 0)
    assert start <= now < start + timedelta(days=7, hours=1) and start.tzinfo is not None


def test_week_start_in_shanghai():
    assert week_start(T0, ZoneInfo("Asia/Shanghai")) == datetime(2026, 11, 22, 16, 0, tzinfo=timezone.utc)


# -- plumbing: the router and the update reader --------------------------------------------------------------------

def test_the_router_accepts_only_known_update_kinds():
    with pytest.raises(ValueError, match="unknown update kind"):
        Router("x").on("poll")
    with pytest.raises(ValueError, match="unknown event"):
        Router("x").watch("private_message")


def _library_update(library: str, data: dict):  # noqa: ANN202
    if library == "aiogram":
        from aiogram.types import Update

        return Update.model_validate(data)
    from telegram import Update

    return Update.de_json(data, None)


@pytest.mark.parametrize("library", ["aiogram", "ptb"])
def test_member_updates_read_the_same_in_both_libraries(library):
    from tests.fakes.telegram_server import FakeTelegram, TgUser

    tg = FakeTelegram("1:test")
    fred = TgUser(FRIEND, "Fred", language_code="en")
    link = {"invite_link": "https://t.me/+abc", "name": "ABCD2345"}
    update = {"update_id": 1, **tg.chat_member(GROUP, fred, old="left", new="restricted", invite_link=link)}
    incoming = to_incoming(_library_update(library, update))
    change = incoming.member
    assert (incoming.kind, incoming.chat_id, incoming.chat_type, incoming.user.id) == (
        "chat_member", GROUP, "group", FRIEND)
    assert (change.person.id, change.old_status, change.new_status, change.joined, change.left) == (
        FRIEND, "left", "restricted", True, False)
    assert (change.invite_link, change.invite_link_name, change.person.is_bot) == ("https://t.me/+abc", "ABCD2345",
                                                                                   False)
    gone = to_incoming(_library_update(library, {"update_id": 2, **tg.chat_member(GROUP, fred, "member", "kicked")}))
    assert (gone.member.left, gone.member.invite_link) == (True, None)
    gina = TgUser(ADMIN_OF_GROUP, "Gina")
    added = tg.my_chat_member(gina, old="left", new="administrator", chat=GROUP, rights={"can_invite_users": False})
    mine = to_incoming(_library_update(library, {"update_id": 3, **added}))
    assert (mine.kind, mine.chat_title, mine.member.person.id, mine.member.new_status, mine.member.can_invite) == (
        "my_chat_member", f"Group {-GROUP}", 1, "administrator", False)
    owner = tg.my_chat_member(gina, old="administrator", new="creator", chat=GROUP)
    assert to_incoming(_library_update(library, {"update_id": 4, **owner})).member.can_invite is True
    said = to_incoming(_library_update(library, {"update_id": 5, **tg.group_message(gina, GROUP, "hi")}))
    assert (said.kind, said.chat_title, said.is_group) == ("message", f"Group {-GROUP}", True)


# -- a group upgraded to a supergroup ---------------------------------------------------------------------------------

BASIC = -4_518_810_793  # the group's id before the upgrade; GROUP is the supergroup's
GINA = person(ADMIN_OF_GROUP, "Gina", lang="en")
OLGA = person(OWNER, "Olga", lang="en")
NOTHING = {"group": [], "members": [], "links": [], "joins": []}


def migrate_to(update_id: int | None = None) -> Incoming:
    """The old group's service message, from whoever caused the upgrade."""
    return Incoming(update_id=update_id or next(_ids), kind="message", user=GINA, chat_id=BASIC, chat_type="group",
                    chat_title=TITLE, content_type="migration", message_id=next(_ids), migrate_to_chat_id=GROUP)


def migrate_from(update_id: int | None = None) -> Incoming:
    """The supergroup's service message, sent on its behalf by the anonymous admin."""
    return Incoming(update_id=update_id or next(_ids), kind="message",
                    user=person(ANONYMOUS_ADMIN_ID, "Group", lang="en", is_bot=True), chat_id=GROUP,
                    chat_type="supergroup", chat_title=TITLE, content_type="migration", message_id=next(_ids),
                    migrate_from_chat_id=BASIC)


def in_basic(who, text: str) -> Incoming:  # noqa: ANN001
    return message(who, text, chat_id=BASIC, chat_type="group")


def joined_basic(who, link: str | None = None) -> Incoming:  # noqa: ANN001
    return member_update("chat_member", who, "left", "member", link=link, chat_id=BASIC, chat_type="group")


async def basic_group_life(pipeline, transport) -> str:  # noqa: ANN001
    """Before the upgrade: the bot an admin of the basic group, OWNER's link, FRIEND joined through it and
    OTHER without, the board posted once (at T0) and then turned off. Returns OWNER's link."""
    await pipeline.handle(bot_added(chat_id=BASIC, chat_type="group"))
    await start(pipeline, OWNER)
    await pipeline.handle(in_basic(OLGA, "hello"))
    await pipeline.handle(in_basic(OLGA, "/invite"))
    [(_, _, url)] = transport.links
    await pipeline.handle(joined_basic(person(FRIEND, "Fred"), url))
    await pipeline.handle(joined_basic(person(OTHER, "Otto")))
    await pipeline.handle(in_basic(person(OTHER, "Otto", lang="en"), "/top"))
    await pipeline.handle(in_basic(person(ANONYMOUS_ADMIN_ID, "Group", lang="en", is_bot=True), "/top off"))
    transport.sent.clear()
    transport.lookups.clear()
    return url


async def kept_for(app, chat_id: int) -> dict[str, list[tuple]]:  # noqa: ANN001
    """Every row the bot keeps for a chat, table by table."""
    async with app.uow() as uow:
        async def of(*columns, where):  # noqa: ANN001, ANN002, ANN202
            return sorted(tuple(r) for r in await uow.session.execute(select(*columns).where(where == chat_id)))
        return {
            "group": await of(Group.title, Group.type, Group.bot_status, Group.can_invite, Group.top_enabled,
                              Group.last_top_at, where=Group.chat_id),
            "members": await of(GroupMember.user_id, GroupMember.present, where=GroupMember.chat_id),
            "links": await of(GroupLink.id, GroupLink.owner_id, GroupLink.invite_link, where=GroupLink.chat_id),
            "joins": await of(GroupJoin.user_id, GroupJoin.link_id, GroupJoin.joined_at, GroupJoin.left_at,
                              where=GroupJoin.chat_id),
        }


@pytest.mark.parametrize("to_first", [True, False], ids=["migrate_to-first", "migrate_from-first"])
async def test_an_upgrade_moves_everything_to_the_new_id_and_says_nothing(app, pipeline, transport, to_first):
    await basic_group_life(pipeline, transport)
    before = await kept_for(app, BASIC)
    first, second = (migrate_to(), migrate_from()) if to_first else (migrate_from(), migrate_to())
    await pipeline.handle(first)
    moved = await kept_for(app, GROUP)
    assert moved["group"] == [(TITLE, "supergroup", "administrator", True, False, T0)]  # the board stays off
    assert {k: moved[k] for k in ("members", "links", "joins")} == {k: before[k] for k in ("members", "links", "joins")}
    assert await kept_for(app, BASIC) == NOTHING
    await pipeline.handle(second)  # nothing left to move
    assert await kept_for(app, GROUP) == moved and await kept_for(app, BASIC) == NOTHING
    assert transport.sent == [] and transport.lookups == []  # not a word; the rights were known


async def test_upgrade_messages_redelivered_change_nothing_and_say_nothing(app, pipeline, transport):
    await basic_group_life(pipeline, transport)
    to, from_ = migrate_to(), migrate_from()
    await pipeline.handle(to)
    moved = await kept_for(app, GROUP)
    app.clock.advance(hours=1)
    assert await pipeline.handle(to) is None  # the same update: skipped
    await pipeline.handle(migrate_to())  # the same message again, under a new update id
    await pipeline.handle(from_)
    assert await pipeline.handle(from_) is None
    await pipeline.handle(migrate_from())
    assert await kept_for(app, GROUP) == moved and await kept_for(app, BASIC) == NOTHING
    assert transport.sent == [] and transport.lookups == []


async def test_both_upgrade_messages_at_once_move_everything_once(app, pipeline, transport):
    await basic_group_life(pipeline, transport)
    before = await kept_for(app, BASIC)
    # On PostgreSQL each runs in its own transaction: the second waits for the first's lock, then finds nothing.
    await asyncio.gather(pipeline.handle(migrate_to()), pipeline.handle(migrate_from()),
                         pipeline.handle(migrate_from()))
    moved = await kept_for(app, GROUP)
    assert {k: moved[k] for k in ("members", "links", "joins")} == {k: before[k] for k in ("members", "links", "joins")}
    assert await kept_for(app, BASIC) == NOTHING and transport.sent == []


async def test_after_an_upgrade_links_joins_and_settings_work_under_the_new_id(app, pipeline, transport):
    url = await basic_group_life(pipeline, transport)
    await pipeline.handle(migrate_to())
    await pipeline.handle(migrate_from())
    # Fred joined through Olga's link before the upgrade and opens the bot now: he is Olga's referral.
    await start(pipeline, FRIEND, "Fred")
    bound = await binding_of(app, FRIEND)
    assert (bound.referrer_id, bound.source) == (OWNER, "group")
    assert transport.last(FRIEND).text.startswith("🎉 You joined through <b>O***</b>'s invitation.")
    # Telegram keeps the link valid in the supergroup: a newcomer through it is Olga's too.
    await pipeline.handle(joined(person(8401, "Nina"), url))
    await start(pipeline, 8401, "Nina")
    assert (await binding_of(app, 8401)).referrer_id == OWNER
    # /invite, in the supergroup or in private, gives Olga the same link under the new id.
    await pipeline.handle(group_message(OLGA, "/invite"))
    assert len(transport.links) == 1 and url in transport.last(OWNER).text
    await pipeline.handle(message(OLGA, "/invite"))
    assert [(b.text, b.callback_data) for b in transport.last(OWNER).buttons()] == [(TITLE, f"ginv:{GROUP}")]
    app.clock.advance(hours=1)
    assert (await board(pipeline, transport)).text.startswith("The leaderboard is turned off in this group")
    assert await kept_for(app, BASIC) == NOTHING


async def test_a_supergroup_heard_from_first_is_merged_into_and_its_rights_checked(app, pipeline, transport):
    await basic_group_life(pipeline, transport)
    app.clock.advance(minutes=1)
    # A message in the supergroup is handled before the upgrade: a row whose rights (and here title) are unknown.
    await pipeline.handle(group_message(person(8501, "Sue", lang="en"), "hi"))
    assert (await kept_for(app, GROUP))["group"] == [("", "supergroup", "member", False, True, None)]
    await pipeline.handle(migrate_from())
    moved = await kept_for(app, GROUP)
    # The bot's rights asked of Telegram; the old group's board setting and last post kept.
    assert moved["group"] == [(TITLE, "supergroup", "administrator", True, False, T0)]
    assert transport.lookups == [(GROUP, BOT_ID)]
    assert moved["members"] == [(OWNER, True), (FRIEND, True), (OTHER, True), (8501, True)]
    await pipeline.handle(migrate_to())
    assert await kept_for(app, GROUP) == moved and await kept_for(app, BASIC) == NOTHING
    assert transport.sent == []


async def test_clashing_records_keep_the_earliest_join_and_the_supergroups_link(app, pipeline, transport):
    await basic_group_life(pipeline, transport)
    async with app.uow() as uow:
        old_link = await uow.groups.link_of(BASIC, OWNER)
    # Before the upgrade is handled: Olga asks for a link in the supergroup (a new one is made),
    # Fred and Otto show up there as joins of their own, and Fred leaves it.
    app.clock.advance(hours=1)
    await pipeline.handle(group_message(OLGA, "/invite"))
    new_url = transport.links[-1][2]
    await pipeline.handle(joined(person(FRIEND, "Fred")))
    await pipeline.handle(joined(person(OTHER, "Otto"), new_url))
    app.clock.advance(hours=1)
    await pipeline.handle(left(person(FRIEND, "Fred")))
    await pipeline.handle(migrate_from())
    await pipeline.handle(migrate_to())
    moved = await kept_for(app, GROUP)
    [(link_id, owner, url)] = moved["links"]
    assert (owner, url) == (OWNER, new_url) and link_id != old_link.id
    # The earlier join is each one's join (Fred's through Olga's link, now her kept one; Otto's through
    # none), with the first leave either recorded; the supergroup's record of who is there wins.
    assert moved["joins"] == [(FRIEND, link_id, T0, T0 + timedelta(hours=2)), (OTHER, None, T0, None)]
    assert moved["members"] == [(OWNER, True), (FRIEND, False), (OTHER, True)]
    assert await kept_for(app, BASIC) == NOTHING
    await start(pipeline, FRIEND, "Fred")
    assert (await binding_of(app, FRIEND)).referrer_id == OWNER


async def test_an_upgrade_of_a_group_never_seen_records_the_supergroup(app, pipeline, transport):
    await pipeline.handle(migrate_to())
    assert (await kept_for(app, GROUP))["group"] == [(TITLE, "supergroup", "administrator", True, True, None)]
    assert transport.lookups == [(GROUP, BOT_ID)] and transport.sent == []
    assert await kept_for(app, BASIC) == NOTHING


async def test_late_updates_from_the_old_group_are_the_supergroup_s_and_never_revive_it(app, pipeline, transport):
    """Updates from the old chat handled after the move (late, or redelivered under new ids): the
    bot's own "left" there, which the upgrade brings, changes nothing; a member's message or join
    there is recorded in the supergroup; /invite in private offers the supergroup alone."""
    url = await basic_group_life(pipeline, transport)
    await pipeline.handle(migrate_to())
    moved = await kept_for(app, GROUP)
    app.clock.advance(minutes=5)
    bot_left = member_update("my_chat_member", person(BOT_ID, "Bot", is_bot=True), "administrator", "left",
                             by=person(ADMIN_OF_GROUP, "Gina", lang="en"), chat_id=BASIC, chat_type="group")
    await pipeline.handle(bot_left)
    await pipeline.handle(bot_added(chat_id=BASIC, chat_type="group"))  # an old "added", redelivered late
    assert await kept_for(app, BASIC) == NOTHING
    assert await kept_for(app, GROUP) == moved
    assert transport.sent == []  # nothing said to a chat nobody reads any more

    await pipeline.handle(in_basic(person(8601, "Sam", lang="en"), "hello"))
    await pipeline.handle(joined_basic(person(8602, "Tess"), url))
    await pipeline.handle(member_update("chat_member", person(OTHER, "Otto"), "member", "left",
                                        chat_id=BASIC, chat_type="group"))
    assert await kept_for(app, BASIC) == NOTHING
    now = await kept_for(app, GROUP)
    assert now["group"] == moved["group"]
    assert (8601, True) in now["members"] and (8602, True) in now["members"] and (OTHER, False) in now["members"]
    [(link_id, _, _)] = now["links"]
    assert (8602, link_id, T0 + timedelta(minutes=5), None) in now["joins"]  # Olga's link, in the supergroup
    await start(pipeline, 8602, "Tess")
    assert (await binding_of(app, 8602)).referrer_id == OWNER
    await pipeline.handle(message(OLGA, "/invite"))
    assert [(b.text, b.callback_data) for b in transport.last(OWNER).buttons()] == [(TITLE, f"ginv:{GROUP}")]


async def test_the_old_group_s_own_left_before_the_upgrade_is_checked_with_telegram(app, pipeline, transport):
    """If the bot's "left" in the old chat comes before the upgrade's message, the record that moves
    says the bot left: the supergroup's status is asked of Telegram, not taken from it."""
    await basic_group_life(pipeline, transport)
    await pipeline.handle(member_update("my_chat_member", person(BOT_ID, "Bot", is_bot=True), "administrator",
                                        "left", by=person(ADMIN_OF_GROUP, "Gina", lang="en"), chat_id=BASIC,
                                        chat_type="group"))
    await pipeline.handle(migrate_from())
    assert transport.lookups == [(GROUP, BOT_ID)]
    assert (await kept_for(app, GROUP))["group"] == [(TITLE, "supergroup", "administrator", True, False, T0)]
    assert await kept_for(app, BASIC) == NOTHING


@pytest.mark.parametrize("library", ["aiogram", "ptb"])
def test_upgrade_messages_read_the_same_in_both_libraries(library):
    from tests.fakes.telegram_server import FakeTelegram, TgUser

    tg = FakeTelegram("1:test")
    supergroup = -1_002_471_352_452  # Telegram's supergroup ids are below -10**12
    tg.group_chat(BASIC, TITLE)
    to, from_ = tg.group_upgraded(BASIC, supergroup, TgUser(ADMIN_OF_GROUP, "Gina"))
    old = to_incoming(_library_update(library, {"update_id": 1, **to}))
    assert (old.kind, old.chat_id, old.chat_type, old.content_type, old.user.id) == (
        "message", BASIC, "group", "migration", ADMIN_OF_GROUP)
    assert (old.migrate_to_chat_id, old.migrate_from_chat_id, old.migration) == (supergroup, None, (BASIC, supergroup))
    new = to_incoming(_library_update(library, {"update_id": 2, **from_}))
    assert (new.chat_id, new.chat_type, new.content_type, new.user.id, new.text) == (
        supergroup, "supergroup", "migration", ANONYMOUS_ADMIN_ID, None)
    assert (new.migrate_to_chat_id, new.migrate_from_chat_id, new.migration) == (None, BASIC, (BASIC, supergroup))
    said = to_incoming(_library_update(library, {"update_id": 3, **tg.group_message(TgUser(FRIEND, "Fred"),
                                                                                     supergroup, "hi")}))
    assert (said.content_type, said.migration) == ("text", None)
