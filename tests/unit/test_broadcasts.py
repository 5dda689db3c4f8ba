"""Broadcasts: audiences, delivery rows, progress, cancel, and the /broadcast dialogue in chat.

Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL (the `app` fixture).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.outbox import OutboxSender
from bot.outbox.queue import PRIORITY_TRANSACTIONAL, enqueue
from bot.outbox.render import OutboxRenderer, broadcast_content
from bot.runtime.jobs import update_broadcast_progress
from bot.services.broadcasts import AudienceError, BroadcastService, parse_audience
from db.models import AuditEntry, Broadcast, OutboxMessage, ReferralCount, User
from tests.conftest import T0
from tests.support import callback, message, person

ADMIN = 777  # in ADMIN_IDS (tests/conftest.py)

# id: (language, tg_language, status, role, direct referrals)
PEOPLE = {
    1: (None, "en-US", "active", "user", 0),
    2: ("zh-CN", "en", "active", "user", 3),  # chose 中文 although Telegram says English
    3: (None, "zh-hans", "active", "agent", 0),
    4: (None, None, "active", "user", 1),  # no language at all: DEFAULT_LOCALE (zh-CN)
    5: ("en", "de", "active", "agent", 0),
    6: (None, "en", "frozen", "user", 2),
    7: (None, "en", "blocked", "user", 0),
    -8: (None, None, "active", "user", 0),  # a platform-only person: no Telegram chat
}


async def add_people(app, people=PEOPLE) -> None:  # noqa: ANN001
    async with app.sessionmaker() as session, session.begin():
        for uid, (language, tg, status, role, referrals) in people.items():
            session.add(User(id=uid, first_name=f"u{uid}", language=language, tg_language=tg, status=status,
                             role=role, first_seen_at=T0))
        await session.flush()
        for uid, (*_, referrals) in people.items():
            if referrals:
                session.add(ReferralCount(user_id=uid, depth=1, count=referrals))
                session.add(ReferralCount(user_id=uid, depth=2, count=5))


async def add_bot_account(app, uid: int) -> None:  # noqa: ANN001
    async with app.sessionmaker() as session, session.begin():
        session.add(User(id=uid, first_name="bot", is_bot=True, status="active", first_seen_at=T0))


async def deliveries(app, broadcast_id: int | None = None) -> list[OutboxMessage]:  # noqa: ANN001
    async with app.sessionmaker() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "broadcast").order_by(OutboxMessage.chat_id)
        if broadcast_id is not None:
            query = query.where(OutboxMessage.broadcast_id == broadcast_id)
        return list((await session.scalars(query)).all())


async def broadcasts(app) -> list[Broadcast]:  # noqa: ANN001
    async with app.sessionmaker() as session:
        return list((await session.scalars(select(Broadcast).order_by(Broadcast.id))).all())


async def audit(app) -> list[AuditEntry]:  # noqa: ANN001
    async with app.sessionmaker() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def create(app, audience: str = "all", paid: bool = False, content=None):  # noqa: ANN001, ANN201
    async with app.uow() as uow:
        svc = BroadcastService(uow, app.clock, app.settings.default_locale, paid=paid)
        row = await svc.create(content=content or {"text": "<b>News</b>"}, audience=audience, actor_id=None,
                               via="cli")
        await uow.commit()
    return row


async def with_service(app, work):  # noqa: ANN001, ANN201
    async with app.uow() as uow:
        result = await work(BroadcastService(uow, app.clock, app.settings.default_locale))
        await uow.commit()
    return result


# -- audiences --------------------------------------------------------------------


@pytest.mark.parametrize(("audience", "expected"), [
    ("all", [1, 2, 3, 4, 5]),
    ("lang:en", [1, 5]),
    ("lang:zh-CN", [2, 3, 4]),
    ("role:agent", [3, 5]),
    ("referrers", [2, 4]),
])
async def test_each_audience_gets_one_row_per_active_recipient(app, audience, expected):
    await add_people(app)
    await add_bot_account(app, 99)
    count = await with_service(app, lambda svc: svc.count(audience))
    created = await create(app, audience)
    rows = await deliveries(app, created.id)
    assert [r.chat_id for r in rows] == expected  # never frozen (6), blocked (7), platform-only (-8), bots (99)
    assert count == created.total == len(expected)
    assert {r.dedup_key for r in rows} == {f"bc:{created.id}:{uid}" for uid in expected}
    assert {(r.state, r.kind, r.priority, r.attempts) for r in rows} == {("pending", "broadcast", 9, 0)}


def test_unknown_audiences_are_refused_with_the_allowed_ones():
    assert parse_audience(" lang:en ") == "lang:en"
    for bad in ("lang:fr", "role:user", "everyone", "", "lang:"):
        with pytest.raises(AudienceError, match="one of: all, lang:zh-CN"):
            parse_audience(bad)


async def test_the_paid_flag_rides_on_every_row_and_reaches_the_send(app):
    await add_people(app)
    free = await create(app, "role:agent")
    paid = await create(app, "role:agent", paid=True)
    assert {broadcast_content(r.args).paid for r in await deliveries(app, free.id)} == {False}
    assert {broadcast_content(r.args).paid for r in await deliveries(app, paid.id)} == {True}
    assert (free.paid, paid.paid) == (False, True)
    copy = await create(app, "role:agent", content={"from_chat_id": ADMIN, "message_id": 55})
    out = await OutboxRenderer(app)(3, "broadcast", "broadcast", (await deliveries(app, copy.id))[0].args)
    assert out.copy_from == (ADMIN, 55) and out.text is None


async def test_creating_a_broadcast_is_audited(app):
    await add_people(app)
    created = await create(app, "lang:en")
    [entry] = await audit(app)
    assert (entry.action, entry.via, entry.actor_id, entry.target) == ("broadcast", "cli", None,
                                                                        f"broadcast:{created.id}")
    assert entry.detail["audience"] == "lang:en" and entry.detail["recipients"] == 2


# -- sending --------------------------------------------------------------------


class OpenLimiter:
    async def acquire(self, chat_id: int, paid: bool = False) -> None:
        return None

    async def pause(self, seconds: float) -> None:
        return None


async def test_transactional_notices_queued_later_still_go_before_the_broadcast(app, transport):
    await add_people(app)
    await create(app)
    async with app.sessionmaker() as session, session.begin():
        await enqueue(session, chat_id=4, kind="join", text_key="notice-joined", args={"name": "X"},
                      now=app.clock.now() + timedelta(seconds=1), priority=PRIORITY_TRANSACTIONAL)
    sender = OutboxSender(app.sessionmaker, transport, OutboxRenderer(app), OpenLimiter(), clock=app.clock,
                          concurrency=1)
    app.clock.advance(seconds=2)
    await sender.drain_once()
    assert transport.sent[0].method == "send_message" and "X" in transport.sent[0].text
    assert [s.chat_id for s in transport.sent[1:]] == [1, 2, 3, 4, 5]
    assert {s.text for s in transport.sent[1:]} == {"<b>News</b>"}
    assert {r.state for r in await deliveries(app)} == {"sent"}


# -- progress, done, cancel ----------------------------------------------------------


async def set_states(app, broadcast_id: int, states: dict[int, str], sent_ago: float = 1.0) -> None:  # noqa: ANN001
    async with app.sessionmaker() as session, session.begin():
        for chat_id, state in states.items():
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id,
                                            OutboxMessage.chat_id == chat_id)
                .values(state=state, sent_at=app.clock.now() - timedelta(seconds=sent_ago) if state == "sent" else None)
            )


async def test_progress_counts_each_outcome_with_rate_and_eta(app):
    await add_people(app)
    created = await create(app)  # 1..5
    app.clock.advance(seconds=20)
    await set_states(app, created.id, {1: "sent", 2: "sent", 3: "blocked", 4: "left"})
    progress = await with_service(app, lambda svc: svc.progress(created.id))
    assert (progress.total, progress.sent, progress.blocked, progress.left, progress.failed, progress.pending) == \
        (5, 2, 1, 1, 0, 1)
    assert progress.rate == pytest.approx(0.2)  # two sent in the last ten seconds
    assert progress.eta_seconds == pytest.approx(5.0)
    assert await with_service(app, lambda svc: svc.finish_if_done(created.id)) is False
    await set_states(app, created.id, {5: "failed"})
    assert await with_service(app, lambda svc: svc.finish_if_done(created.id)) is True
    progress = await with_service(app, lambda svc: svc.progress(created.id))
    assert (progress.state, progress.failed, progress.pending, progress.eta_seconds) == ("done", 1, 0, None)


async def test_cancel_calls_off_pending_rows_at_once_and_only_once(app):
    await add_people(app)
    created = await create(app)
    await set_states(app, created.id, {1: "sent", 2: "sending"})

    async def cancel(svc):  # noqa: ANN001, ANN202
        return await svc.cancel(created.id, actor_id=ADMIN, via="chat")

    assert await with_service(app, cancel) == 3
    assert await with_service(app, cancel) is None
    states = {r.chat_id: r.state for r in await deliveries(app)}
    assert states == {1: "sent", 2: "sending", 3: "cancelled", 4: "cancelled", 5: "cancelled"}
    assert [(e.action, e.actor_id, e.detail.get("called_off")) for e in await audit(app)][-1] == \
        ("broadcast_cancel", ADMIN, 3)
    assert (await broadcasts(app))[0].state == "cancelled"


async def test_cancelled_rows_are_never_sent(app, transport):
    await add_people(app)
    created = await create(app)
    await with_service(app, lambda svc: svc.cancel(created.id, actor_id=None, via="cli"))
    sender = OutboxSender(app.sessionmaker, transport, OutboxRenderer(app), OpenLimiter(), clock=app.clock)
    assert await sender.drain_once() == 0
    assert transport.sent == []


# -- the dialogue ----------------------------------------------------------------


def admin(lang: str = "en"):  # noqa: ANN201
    return person(ADMIN, "Ada", lang=lang)


async def start_dialogue(pipeline, transport, app, content_type: str = "text"):  # noqa: ANN001, ANN201
    await add_people(app)
    await pipeline.handle(message(admin(), "/broadcast"))
    assert "Send me the message to broadcast" in transport.last(ADMIN).text
    draft_msg = message(admin(), "Big <b>news</b>" if content_type == "text" else None, content_type=content_type)
    await pipeline.handle(draft_msg)
    return draft_msg


async def test_an_admin_broadcasts_a_copy_of_their_message_after_a_preview(app, pipeline, transport):
    draft_msg = await start_dialogue(pipeline, transport, app)
    pick = transport.last(ADMIN)
    labels = [b.text for b in pick.buttons()]
    assert labels == ["Everyone (6)", "中文 (3)", "English (3)", "Agents (2)", "Users with referrals (2)", "Cancel"]
    await pipeline.handle(callback(admin(), "bc:a:lang:en", message_id=50))
    copy, preview = transport.to(ADMIN)[-2:]
    assert copy.method == "copy_message"
    assert copy.extra["from_chat_id"] == ADMIN and copy.extra["message_id"] == draft_msg.message_id
    assert "users reading English" in preview.text and "<b>3</b> recipients" in preview.text
    confirm = preview.buttons()[0]
    assert confirm.text == "✅ Send to 3"
    await pipeline.handle(callback(admin(), confirm.callback_data, message_id=51))
    progress = transport.last(ADMIN)
    assert progress.method == "edit_message" and progress.extra["message_id"] == 51
    assert "Broadcast #1" in progress.text and "Sent: <b>0</b> of 3" in progress.text
    assert [b.callback_data for b in progress.buttons()] == ["bc:x:1"]
    [created] = await broadcasts(app)
    assert (created.audience, created.total, created.via, created.created_by) == ("lang:en", 3, "chat", ADMIN)
    assert (created.status_chat_id, created.status_message_id) == (ADMIN, 51)
    assert created.content == {"from_chat_id": ADMIN, "message_id": draft_msg.message_id}
    assert [r.chat_id for r in await deliveries(app)] == [1, 5, ADMIN]
    assert [(e.action, e.via, e.actor_id) for e in await audit(app)] == [("broadcast", "chat", ADMIN)]
    # The dialogue is over: the admin's next text is ordinary text again.
    await pipeline.handle(message(admin(), "hello"))
    assert "Send me the message" not in transport.last(ADMIN).text and transport.last(ADMIN).method == "send_message"
    assert len(await broadcasts(app)) == 1


async def test_a_second_confirm_press_creates_nothing(app, pipeline, transport):
    await start_dialogue(pipeline, transport, app)
    await pipeline.handle(callback(admin(), "bc:a:all", message_id=50))
    confirm = transport.last(ADMIN).buttons()[0].callback_data
    await pipeline.handle(callback(admin(), confirm, message_id=51))
    await pipeline.handle(callback(admin(), confirm, message_id=51))
    assert len(await broadcasts(app)) == 1
    assert transport.last(None).text == "Already started as broadcast #1."
    assert len(await deliveries(app)) == 6


async def test_a_confirm_from_an_older_preview_is_stale(app, pipeline, transport):
    await start_dialogue(pipeline, transport, app)
    await pipeline.handle(callback(admin(), "bc:a:all", message_id=50))
    old_confirm = transport.last(ADMIN).buttons()[0].callback_data
    await pipeline.handle(callback(admin(), "bc:a:lang:en", message_id=50))  # changed their mind
    await pipeline.handle(callback(admin(), old_confirm, message_id=52))
    assert transport.last(ADMIN).text.startswith("This question is out of date")
    assert await broadcasts(app) == []


async def test_a_photo_with_its_caption_is_copied(app, pipeline, transport):
    draft_msg = await start_dialogue(pipeline, transport, app, content_type="photo")
    await pipeline.handle(callback(admin(), "bc:a:role:agent", message_id=50))
    copy = transport.to(ADMIN)[-2]
    assert (copy.method, copy.extra["message_id"]) == ("copy_message", draft_msg.message_id)


async def test_an_empty_audience_is_refused_before_the_preview(app, pipeline, transport):
    await start_dialogue(pipeline, transport, app)
    async with app.sessionmaker() as session, session.begin():
        await session.execute(update(User).where(User.role == "agent").values(role="user"))
    await pipeline.handle(callback(admin(), "bc:a:role:agent", message_id=50))
    assert transport.last(ADMIN).text.startswith("Nobody is in that audience")
    assert all(s.method != "copy_message" for s in transport.to(ADMIN))


async def test_cancel_mid_dialogue_and_with_nothing_to_cancel(app, pipeline, transport):
    await pipeline.handle(message(admin(), "/cancel"))
    assert transport.last(ADMIN).text == "There is nothing to cancel."
    await start_dialogue(pipeline, transport, app)
    await pipeline.handle(message(admin(), "/cancel"))
    assert transport.last(ADMIN).text == "Cancelled; nothing was sent."
    await pipeline.handle(callback(admin(), "bc:a:all", message_id=50))  # the old audience question
    assert transport.last(ADMIN).text.startswith("This question is out of date")
    assert await broadcasts(app) == []


async def test_the_cancel_button_on_the_preview_drops_the_draft(app, pipeline, transport):
    await start_dialogue(pipeline, transport, app)
    await pipeline.handle(callback(admin(), "bc:a:all", message_id=50))
    await pipeline.handle(callback(admin(), "bc:no", message_id=51))
    assert transport.last(ADMIN).text == "Cancelled; nothing was sent."
    async with app.uow() as uow:
        assert await uow.drafts.get(ADMIN) is None


async def test_non_admins_are_refused_at_every_step(app, pipeline, transport):
    mallory = person(31, "Mallory", lang="en")
    await pipeline.handle(message(mallory, "/broadcast"))
    assert transport.last(31).text == "This command is for the program's admins only."
    await pipeline.handle(message(mallory, "/broadcast_status"))
    assert transport.last(31).text == "This command is for the program's admins only."
    await pipeline.handle(callback(mallory, "bc:go:abcdef", message_id=5))
    await pipeline.handle(callback(mallory, "bc:x:1", message_id=5))
    answers = [s for s in transport.sent if s.method == "answer_callback"]
    assert [(a.text, a.extra["alert"]) for a in answers] == [("This command is for the program's admins only.", True)] * 2
    await pipeline.handle(message(mallory, "/broadcast", chat_id=-100, chat_type="group"))
    assert transport.last(-100).text == "This command is for the program's admins only."
    await pipeline.handle(message(admin(), "/broadcast", chat_id=-100, chat_type="group"))
    assert transport.last(-100).text == "Admin commands work in a private chat with me only."
    assert await broadcasts(app) == []


async def test_forged_or_unknown_buttons_get_the_stale_answer(app, pipeline, transport):
    for data in ("bc:a:lang:fr", "bc:a:all", "bc:zz", "bc:x:abc", "bc:x:99", "bc:go:"):
        await pipeline.handle(callback(admin(), data, message_id=9))
        assert transport.last(ADMIN).text.startswith("This question is out of date"), data


async def test_the_cancel_button_stops_a_running_broadcast_once(app, pipeline, transport):
    await start_dialogue(pipeline, transport, app)
    await pipeline.handle(callback(admin(), "bc:a:all", message_id=50))
    await pipeline.handle(callback(admin(), transport.last(ADMIN).buttons()[0].callback_data, message_id=51))
    await pipeline.handle(callback(admin(), "bc:x:1", message_id=51))
    answer = [s for s in transport.sent if s.method == "answer_callback"][-1]
    assert answer.text == "Broadcast #1 cancelled: 6 messages will not be sent."
    edited = transport.last(ADMIN)
    assert "⛔ cancelled" in edited.text and "Called off: 6" in edited.text and edited.buttons() == []
    await pipeline.handle(callback(admin(), "bc:x:1", message_id=51))
    answer = [s for s in transport.sent if s.method == "answer_callback"][-1]
    assert (answer.text, answer.extra["alert"]) == ("Broadcast #1 has already been cancelled.", True)
    assert {r.state for r in await deliveries(app)} == {"cancelled"}


async def test_broadcast_status_latest_given_unknown_and_malformed(app, pipeline, transport):
    await pipeline.handle(message(admin(), "/broadcast_status"))
    assert transport.last(ADMIN).text.startswith("No broadcasts yet")
    await add_people(app)
    first = await create(app, "lang:en")
    await create(app, "role:agent")
    await set_states(app, first.id, {1: "sent", 5: "blocked", ADMIN: "sent"})  # the admin reads English too
    await pipeline.handle(message(admin(), "/broadcast_status"))
    assert "Broadcast #2" in transport.last(ADMIN).text
    await pipeline.handle(message(admin(), f"/broadcast_status {first.id}"))
    text = transport.last(ADMIN).text
    assert "Broadcast #1</b> — ✅ done" in text and "Sent: <b>2</b> of 3" in text and "Blocked the bot: 1" in text
    assert "Took 0 s." in text
    await pipeline.handle(message(admin(), "/broadcast_status 42"))
    assert transport.last(ADMIN).text == "There is no broadcast #42."
    for bad in ("abc", "1 2", "-3", "9" * 30):
        await pipeline.handle(message(admin(), f"/broadcast_status {bad}"))
        assert transport.last(ADMIN).text.startswith("Usage: /broadcast_status"), bad


# -- the progress job ------------------------------------------------------------------


async def test_the_progress_message_is_edited_while_running_and_once_more_when_done(app, pipeline, transport):
    await start_dialogue(pipeline, transport, app)
    await pipeline.handle(callback(admin(), "bc:a:lang:en", message_id=50))
    await pipeline.handle(callback(admin(), transport.last(ADMIN).buttons()[0].callback_data, message_id=51))
    shown: dict[int, str] = {}
    before = len(transport.sent)
    app.clock.advance(seconds=5)
    await set_states(app, 1, {1: "sent"})
    await update_broadcast_progress(app, transport, shown)
    await update_broadcast_progress(app, transport, shown)  # nothing changed: no edit
    edits = [s for s in transport.sent[before:] if s.method == "edit_message"]
    assert len(edits) == 1 and edits[0].extra["message_id"] == 51
    assert "Sent: <b>1</b> of 3" in edits[0].text and "Still to send: 2" in edits[0].text
    await set_states(app, 1, {5: "sent", ADMIN: "left"})
    await update_broadcast_progress(app, transport, shown)
    final = transport.last(ADMIN)
    assert "✅ done" in final.text and "Sent: <b>2</b> of 3" in final.text and "Left Telegram: 1" in final.text
    assert final.buttons() == []
    assert (await broadcasts(app))[0].state == "done"
    await update_broadcast_progress(app, transport, shown)
    assert transport.last(ADMIN) is final  # a finished broadcast is left alone

