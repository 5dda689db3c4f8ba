"""/review: the queue of flags, approve / reject / reject and freeze, a second press, refusals; what
holds do to balances (pending while open, available after approve, reversed after reject, never paid
twice), the audit entries, and `ledger check` with flags."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.services.rewards.audit import audit
from db.models import AuditEntry, OutboxMessage
from tests.support import callback, message, person
from tests.unit.test_fraud_signals import code_of, entries_of, first_loan, flags, joins
from tests.unit.test_rewards_flow import approve, balance, body

ADMIN = 777
A, B = 4001, 4002  # A invited B; B then "invites" a burst of four


def admin():  # noqa: ANN201
    return person(ADMIN, "Ada", lang="en")


async def flagged(app, pipeline, transport, intake) -> tuple[int, list[int]]:  # noqa: ANN001
    """A → B, B has a burst flag, and a first loan of one of B's referees: B's ¥50 held, A's ¥10 not."""
    code_a = await code_of(pipeline, transport, A, "Alice")
    await pipeline.handle(message(person(B, "Bobby", lang="en"), f"/start {code_a}"))
    code_b = await code_of(pipeline, transport, B, "Bobby")
    referees = await joins(app, pipeline, code_b, 4, timedelta(seconds=1))
    [flag] = await flags(app)
    await approve(intake, A, B)
    await first_loan(intake, referees[0], "fl-0")
    app.clock.advance(minutes=1)  # the admin looks a minute later
    return flag.id, referees


async def press(pipeline, transport, who, data: str):  # noqa: ANN001, ANN201
    """(the callback's answer, the edits of the pressed message)."""
    before = len(transport.sent)
    await pipeline.handle(callback(who, data, message_id=55))
    new = transport.sent[before:]
    answers = [s for s in new if s.method == "answer_callback"]
    return answers[-1], [s for s in new if s.method == "edit_message"]


async def audit_actions(app) -> list[tuple]:  # noqa: ANN001
    async with app.uow() as uow:
        rows = await uow.session.execute(select(AuditEntry.action, AuditEntry.target, AuditEntry.actor_id,
                                                AuditEntry.detail).order_by(AuditEntry.id))
        return [tuple(r) for r in rows]


async def ledger_keys(app, uid: int) -> list[str]:  # noqa: ANN001
    async with app.uow() as uow:
        return list((await uow.session.execute(select(OutboxMessage.text_key).where(
            OutboxMessage.chat_id == uid, OutboxMessage.kind == "ledger").order_by(OutboxMessage.id))).scalars())


# -- the queue ------------------------------------------------------------------------------------

async def test_the_queue_shows_each_flag_with_evidence_timeline_and_held_money(app, pipeline, transport, intake):
    flag_id, _ = await flagged(app, pipeline, transport, intake)
    before = len(transport.sent)
    await pipeline.handle(message(admin(), "/review"))
    title, item = transport.sent[before:]
    assert "Open flags: 1" in title.text
    assert f"Flag #{flag_id}</b> · a burst of bindings · raised 2026-11-26 10:00" in item.text
    assert f"User: Bob*** ({B})" in item.text and "Bobby" not in item.text
    assert "4 bindings within 10 s (a burst is 4)." in item.text
    # binding times in Shanghai time: T0 is 10:00:00 there, one a second from 10:00:01
    assert "Bindings (local time): 10:00:01, 10:00:02, 10:00:03, 10:00:04" in item.text
    assert "Held: ¥50.00" in item.text
    assert [b.callback_data for b in item.buttons()] == [f"rv:a:{flag_id}", f"rv:r:{flag_id}", f"rv:f:{flag_id}"]
    assert [b.text for b in item.buttons()] == ["✅ Approve", "❌ Reject", "🧊 Reject and freeze"]


async def test_an_empty_queue(app, pipeline, transport):
    await pipeline.handle(message(admin(), "/review"))
    assert transport.last(ADMIN).text == "No open flags. 👍"


@pytest.mark.parametrize(("args", "expected"), [
    ("abc", "Usage: /review for the queue"),
    ("12x", "Usage: /review for the queue"),
    ("99999999999999999999", "Usage: /review for the queue"),
    ("424242", "There is no flag #424242."),
])
async def test_review_bad_or_unknown_id(app, pipeline, transport, args, expected):
    await pipeline.handle(message(admin(), f"/review {args}"))
    assert transport.last(ADMIN).text.startswith(expected)


async def test_non_admins_are_refused_and_nothing_changes(app, pipeline, transport, intake):
    flag_id, _ = await flagged(app, pipeline, transport, intake)
    mallory = person(2002, "Mallory", lang="en")
    await pipeline.handle(message(mallory, "/review"))
    assert transport.last(2002).text == "This command is for the program's admins only."
    answer, edits = await press(pipeline, transport, mallory, f"rv:a:{flag_id}")
    assert answer.text == "This command is for the program's admins only." and answer.extra["alert"] is True
    assert edits == []
    assert [f.state for f in await flags(app)] == ["open"] and await audit_actions(app) == []


async def test_in_a_group_the_admin_is_sent_to_the_private_chat(app, pipeline, transport):
    await pipeline.handle(message(admin(), "/review", chat_id=-100_5, chat_type="supergroup"))
    assert transport.last(-100_5).text == "Admin commands work in a private chat with me only."


# -- approve ---------------------------------------------------------------------------------------

async def test_pending_while_open_then_approve_releases_and_a_second_press_changes_nothing(app, pipeline, transport,
                                                                                         intake):
    flag_id, _ = await flagged(app, pipeline, transport, intake)
    app.clock.advance(days=2)
    assert ((await balance(app, B)).pending, (await balance(app, B)).available) == (5000, 0)
    assert (await balance(app, A)).available == 1000  # the level above is not held
    refused = await intake.submit(body(id="po-b", type="payout", user={"telegram_id": B}, amount_fen=5000),
                                  received_at=app.clock.now())
    assert refused.http_status == 400

    answer, [edit] = await press(pipeline, transport, admin(), f"rv:a:{flag_id}")
    assert answer.text == f"Flag #{flag_id} approved: what it held is released."
    assert "✅ Approved by 777 on 2026-11-28 10:01: ¥50.00 released." in edit.text and edit.keyboard is None
    assert ((await balance(app, B)).pending, (await balance(app, B)).available) == (0, 5000)
    assert await ledger_keys(app, B) == ["fraud-notice-pending", "notice-reward-available"]
    paid = await intake.submit(body(id="po-b2", type="payout", user={"telegram_id": B}, amount_fen=5000),
                               received_at=app.clock.now())
    assert paid.http_status == 202
    [(action, target, actor, detail)] = await audit_actions(app)
    assert (action, target, actor) == ("flag_approve", str(B), ADMIN)
    assert detail == {"flag_id": flag_id, "kind": "burst", "released": 1}

    again, edits = await press(pipeline, transport, admin(), f"rv:r:{flag_id}")
    assert again.text == f"Flag #{flag_id} was already decided (approved); nothing changed." and edits == []
    assert len(await audit_actions(app)) == 1 and len(await entries_of(app, B)) == 2  # reward and payout only
    assert (await balance(app, B)).paid == 5000 and (await balance(app, B)).available == 0


async def test_approved_before_the_hold_ends_becomes_available_when_it_ends(app, pipeline, transport, intake):
    flag_id, _ = await flagged(app, pipeline, transport, intake)
    await press(pipeline, transport, admin(), f"rv:a:{flag_id}")
    assert ((await balance(app, B)).pending, (await balance(app, B)).available) == (5000, 0)
    app.clock.advance(days=1)
    assert (await balance(app, B)).available == 5000


# -- reject ------------------------------------------------------------------------------------------

async def test_reject_reverses_what_the_flag_held_and_tells_the_user_of_the_reversal(app, pipeline, transport,
                                                                                  intake):
    flag_id, referees = await flagged(app, pipeline, transport, intake)
    answer, [edit] = await press(pipeline, transport, admin(), f"rv:r:{flag_id}")
    assert answer.text == f"Flag #{flag_id} rejected: 1 entries (¥50.00) reversed."
    assert "❌ Rejected by 777 on 2026-11-26 10:01: ¥50.00 reversed." in edit.text
    app.clock.advance(days=2)
    b = await balance(app, B)
    assert (b.pending, b.available, b.reversed) == (0, 0, 5000)
    assert (await balance(app, A)).available == 1000
    assert await ledger_keys(app, B) == ["fraud-notice-pending", "notice-reward-reversed"]
    [(action, target, actor, detail)] = await audit_actions(app)
    assert (action, target) == ("flag_reject", str(B))
    assert detail == {"flag_id": flag_id, "kind": "burst", "reversed": 1, "reversed_fen": 5000, "freeze": False}
    async with app.uow() as uow:
        assert (await uow.users.get(B)).status == "active"
    # a second press reverses nothing more; nor does the platform's own reversal of that loan
    await press(pipeline, transport, admin(), f"rv:f:{flag_id}")
    result = await intake.submit(body(id="rv-0", type="reversal", user={"telegram_id": referees[0]},
                                      event_id="fl-0"), received_at=app.clock.now())
    assert result.http_status == 202
    entries = await entries_of(app, B)
    assert sum(e.amount_fen for e in entries) == 0 and len(entries) == 2
    report = await audit(app)
    assert report.ok, report.problems
    assert report.replayed_entries == report.entries


async def test_reject_and_freeze_freezes_the_user_and_audits_both(app, pipeline, transport, intake):
    flag_id, referees = await flagged(app, pipeline, transport, intake)
    answer, [edit] = await press(pipeline, transport, admin(), f"rv:f:{flag_id}")
    assert "rejected: 1 entries (¥50.00) reversed." in answer.text
    assert "❌ Rejected and frozen by 777" in edit.text
    actions = await audit_actions(app)
    assert [(a, t) for a, t, _, _ in actions] == [("flag_reject", str(B)), ("freeze", str(B))]
    assert actions[0][3]["freeze"] is True and actions[1][3] == {"before": "active"}
    async with app.uow() as uow:
        assert (await uow.users.get(B)).status == "frozen"
    await first_loan(intake, referees[1], "fl-1")  # a frozen referrer earns nothing more
    assert len(await entries_of(app, B)) == 2
    report = await audit(app)
    assert report.ok, report.problems


async def test_review_id_shows_a_decided_flag_without_buttons(app, pipeline, transport, intake):
    flag_id, _ = await flagged(app, pipeline, transport, intake)
    await press(pipeline, transport, admin(), f"rv:r:{flag_id}")
    await pipeline.handle(message(admin(), f"/review {flag_id}"))
    shown = transport.last(ADMIN)
    assert f"Flag #{flag_id}" in shown.text and "Rejected by 777" in shown.text and shown.keyboard is None
    await pipeline.handle(message(admin(), "/review"))
    assert transport.last(ADMIN).text == "No open flags. 👍"


async def test_unknown_or_malformed_buttons_are_answered(app, pipeline, transport):
    answer, edits = await press(pipeline, transport, admin(), "rv:a:999")
    assert answer.text == "There is no flag #999." and edits == []
    answer, edits = await press(pipeline, transport, admin(), "rv:z:1")
    assert answer.text.startswith("Usage: /review") and edits == []


async def test_the_users_other_open_flags_are_listed_and_approve_releases_only_its_own(app, pipeline, transport,
                                                                                      intake):
    flag_id, referees = await flagged(app, pipeline, transport, intake)
    code_b = await code_of(pipeline, transport, B, "Bobby")
    await joins(app, pipeline, code_b, 2, timedelta(minutes=5))  # six in the hour: velocity_hour too
    burst, velocity = await flags(app)
    assert velocity.kind == "velocity_hour"
    await pipeline.handle(message(admin(), f"/review {flag_id}"))
    assert f"Other open flags of this user: #{velocity.id} velocity_hour" in transport.last(ADMIN).text
    await first_loan(intake, referees[1], "fl-1")  # held by the earliest open flag: the burst
    assert [e.hold_flag_id for e in await entries_of(app, B)] == [flag_id, flag_id]
    await press(pipeline, transport, admin(), f"rv:a:{flag_id}")
    app.clock.advance(days=2)
    assert (await balance(app, B)).available == 10_000
    await first_loan(intake, referees[2], "fl-2")  # now held by the velocity flag
    assert (await entries_of(app, B))[-1].hold_flag_id == velocity.id
    report = await audit(app)
    assert report.ok, report.problems
