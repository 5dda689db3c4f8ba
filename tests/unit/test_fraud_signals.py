"""Anti-fraud signals: velocity per hour and per local day (users and agents' higher limits), bursts,
idle referees behind a tier bonus, fake referees (bots, deleted accounts), and the holds a flag puts
on what its user earns next."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.outbox.queue import enqueue
from bot.outbox.render import OutboxRenderer
from bot.outbox.sender import OutboxSender
from bot.services.events.intake import EventIntake
from bot.services.fraud.signals import FraudSignals
from bot.services.rewards.balances import BalanceService
from bot.services.rewards.program import DEFAULT_PROGRAM, parse_program
from bot.services.rewards.programs import ProgramBook
from bot.transport import Forbidden
from db.models import Group, GroupJoin, GroupLink, OutboxMessage, User
from db.repositories.flags import FlagRow
from db.repositories.ledger import EntryRow
from tests.conftest import T0
from tests.support import RecordingTransport, message, person
from tests.unit.test_broadcasts import OpenLimiter
from tests.unit.test_rewards_flow import body

R = 5001  # the referrer under watch
REFEREES = iter(range(60_001, 70_000))
# Tiers at 2 and 3 qualified referees, so a tier bonus comes due with few conversions.
SMALL_TIERS = (DEFAULT_PROGRAM.replace("qualified = 5\nbonus = 10000", "qualified = 2\nbonus = 3000")
               .replace("qualified = 20\nbonus = 50000", "qualified = 3\nbonus = 7000"))


async def code_of(pipeline, transport, uid: int, name: str = "Rita") -> str:  # noqa: ANN001
    await pipeline.handle(message(person(uid, name, lang="en"), "/code"))
    return re.search(r"start=(\w+)", transport.last(uid).text).group(1)


async def join(pipeline, code: str, uid: int | None = None) -> int:  # noqa: ANN001
    uid = uid or next(REFEREES)
    await pipeline.handle(message(person(uid, f"Joiner{uid}", lang="en"), f"/start {code}"))
    return uid


async def joins(app, pipeline, code: str, n: int, every: timedelta) -> list[int]:  # noqa: ANN001
    """n new users bind through `code`, one every `every` (the clock moves before each)."""
    uids = []
    for _ in range(n):
        app.clock.advance(seconds=every.total_seconds())
        uids.append(await join(pipeline, code))
    return uids


async def flags(app, user_id: int | None = None) -> list[FlagRow]:  # noqa: ANN001
    async with app.uow() as uow:
        return [f for f, _ in await uow.flags.all_flags() if user_id is None or f.user_id == user_id]


def configure(app, **settings) -> None:  # noqa: ANN001, ANN003
    app.settings = app.settings.model_copy(update=settings)


async def set_role(app, uid: int, role: str) -> None:  # noqa: ANN001
    async with app.uow() as uow:
        await uow.users.set_role(uid, role)
        await uow.commit()


# -- velocity ---------------------------------------------------------------------------------

async def test_more_than_five_bindings_in_an_hour_flag_the_referrer_once_with_a_timeline(app, pipeline, transport):
    code = await code_of(pipeline, transport, R)
    await joins(app, pipeline, code, 5, timedelta(minutes=3))
    assert await flags(app) == []  # five is the limit, not over it
    await joins(app, pipeline, code, 1, timedelta(minutes=3))
    [flag] = await flags(app)
    assert (flag.user_id, flag.kind, flag.state) == (R, "velocity_hour", "open")
    assert flag.evidence["count"] == 6 and flag.evidence["limit"] == 5 and flag.evidence["agent"] is False
    assert len(flag.evidence["times"]) == 6
    first = datetime.fromisoformat(flag.evidence["times"][0])
    assert first == T0 + timedelta(minutes=3)
    # a seventh adds to the evidence of the open flag instead of raising another
    await joins(app, pipeline, code, 1, timedelta(minutes=3))
    [flag] = await flags(app)
    assert flag.evidence["count"] == 7 and flag.evidence["peak"] == 7 and len(flag.evidence["times"]) == 7


async def test_bindings_spread_over_more_than_an_hour_are_not_a_velocity_flag(app, pipeline, transport):
    code = await code_of(pipeline, transport, R)
    await joins(app, pipeline, code, 8, timedelta(minutes=13))  # never more than five in 60 minutes
    assert await flags(app) == []


async def test_more_than_twenty_in_a_local_day_flag_the_referrer(app, pipeline, transport):
    configure(app, fraud_hourly_bindings=1000)
    code = await code_of(pipeline, transport, R)
    await joins(app, pipeline, code, 20, timedelta(minutes=20))
    assert await flags(app) == []
    await joins(app, pipeline, code, 1, timedelta(minutes=20))  # T0 is 10:00 in Shanghai: still that day
    [flag] = await flags(app)
    assert flag.kind == "velocity_day" and flag.evidence["count"] == 21 and flag.evidence["day"] == "2026-11-26"
    assert len(flag.evidence["times"]) == 20  # the newest twenty


async def test_the_day_is_the_local_day(app, pipeline, transport):
    configure(app, fraud_hourly_bindings=1000, fraud_daily_bindings=3)
    code = await code_of(pipeline, transport, R)
    app.clock.at = datetime(2026, 11, 26, 15, 40, tzinfo=timezone.utc)  # 23:40 in Shanghai
    await joins(app, pipeline, code, 3, timedelta(minutes=5))  # 23:45, 23:50, 23:55
    await joins(app, pipeline, code, 3, timedelta(minutes=5))  # 00:00, 00:05, 00:10 the next day
    assert await flags(app) == []
    await joins(app, pipeline, code, 1, timedelta(minutes=5))
    [flag] = await flags(app)
    assert flag.kind == "velocity_day" and flag.evidence["count"] == 4 and flag.evidence["day"] == "2026-11-27"


async def test_agents_have_their_own_higher_limits(app, pipeline, transport):
    code = await code_of(pipeline, transport, R)
    await set_role(app, R, "agent")
    await joins(app, pipeline, code, 30, timedelta(minutes=1))  # 30 in half an hour: fine for a station
    assert await flags(app) == []
    configure(app, agent_hourly_bindings=31)
    await joins(app, pipeline, code, 1, timedelta(minutes=1))
    assert await flags(app) == []
    await joins(app, pipeline, code, 1, timedelta(minutes=1))
    [flag] = await flags(app)
    assert flag.kind == "velocity_hour" and flag.evidence["limit"] == 31 and flag.evidence["agent"] is True


async def test_an_agents_day_limit(app, pipeline, transport):
    configure(app, agent_daily_bindings=4)
    code = await code_of(pipeline, transport, R)
    await set_role(app, R, "agent")
    await joins(app, pipeline, code, 5, timedelta(minutes=30))
    [flag] = await flags(app)
    assert flag.kind == "velocity_day" and flag.evidence == {**flag.evidence, "count": 5, "limit": 4, "agent": True}


# -- burst ------------------------------------------------------------------------------------

async def test_four_bindings_within_ten_seconds_are_a_burst(app, pipeline, transport):
    code = await code_of(pipeline, transport, R)
    await joins(app, pipeline, code, 3, timedelta(seconds=2))
    assert await flags(app) == []
    await joins(app, pipeline, code, 1, timedelta(seconds=2))
    [flag] = await flags(app)
    assert flag.kind == "burst" and flag.evidence["count"] == 4 and flag.evidence["seconds"] == 10.0
    assert len(flag.evidence["times"]) == 4


async def test_four_bindings_spread_over_more_than_ten_seconds_are_no_burst(app, pipeline, transport):
    code = await code_of(pipeline, transport, R)
    await joins(app, pipeline, code, 4, timedelta(seconds=4))  # any 10 s window holds at most three
    assert await flags(app) == []


async def test_agents_are_exempt_from_bursts(app, pipeline, transport):
    code = await code_of(pipeline, transport, R)
    await set_role(app, R, "agent")
    await joins(app, pipeline, code, 6, timedelta(seconds=1))  # a queue of residents at a poster
    assert await flags(app) == []


async def test_platform_registrations_count_like_bot_bindings(app, pipeline, transport, intake):
    code = await code_of(pipeline, transport, R)
    for n in range(4):
        app.clock.advance(seconds=1)
        result = await intake.submit(body(id=f"reg-{n}", type="registered", user={"external_id": f"P-{n}"},
                                          referral_code=code), received_at=app.clock.now())
        assert result.http_status == 202
    [flag] = await flags(app)
    assert (flag.user_id, flag.kind) == (R, "burst")


# -- idle referees behind a tier bonus ----------------------------------------------------------

@pytest.fixture
async def small_tiers(app):  # noqa: ANN001, ANN201
    """The intake with tier bonuses at 2 and 3 qualified referees."""
    app.program = parse_program(SMALL_TIERS)
    app.programs = ProgramBook(app.program)
    async with app.uow() as uow:
        await app.programs.publish_current(uow, app.program, app.clock.now())
        await uow.commit()
    configure(app, fraud_hourly_bindings=1000, fraud_daily_bindings=1000)
    return EventIntake(app)


async def first_loan(intake, uid: int, key: str) -> None:  # noqa: ANN001
    now = intake.app.clock.now()
    result = await intake.submit(body(id=key, type="first_loan", user={"telegram_id": uid}, amount_fen=100_000,
                                      occurred_at=now.isoformat()), received_at=now)
    assert result.http_status == 202, result.body


async def entries_of(app, uid: int) -> list[EntryRow]:  # noqa: ANN001
    async with app.uow() as uow:
        return [e for e in await uow.ledger.all_entries() if e.beneficiary_id == uid]


async def test_a_tier_bonus_over_mostly_idle_referees_raises_idle_tier_and_is_held(app, pipeline, transport,
                                                                                  small_tiers):
    code = await code_of(pipeline, transport, R)
    referees = await joins(app, pipeline, code, 10, timedelta(minutes=1))
    await first_loan(small_tiers, referees[0], "fl-0")
    assert await flags(app) == []  # one qualified referee: no tier due yet
    await first_loan(small_tiers, referees[1], "fl-1")  # the tier of 2 is due; 8 of 10 never did anything
    [flag] = await flags(app)
    assert flag.kind == "idle_tier"
    assert flag.evidence == {"referees": 10, "idle": 8, "share_percent": 80, "tier": "tier:2", "min_referees": 10,
                             "limit_percent": 80}
    entries = await entries_of(app, R)
    # the first loan before the flag pays as usual; this event's reward and the bonus are held
    assert [(e.rule, e.hold_flag_id) for e in entries] == [("first_loan", None), ("first_loan", flag.id),
                                                          ("tier:2", flag.id)]
    async with app.uow() as uow:
        await uow.users.set_credit_approved(R, app.clock.now())
        await uow.commit()
    app.clock.advance(days=3)
    async with app.uow() as uow:
        balance = await BalanceService(uow).balance(R, app.clock.now())
    assert (balance.pending, balance.available) == (5000 + 3000, 5000)  # held, hold days over
    async with app.uow() as uow:
        keys = list((await uow.session.execute(select(OutboxMessage.text_key).where(
            OutboxMessage.chat_id == R, OutboxMessage.kind == "ledger").order_by(OutboxMessage.id))).scalars())
    assert keys == ["notice-reward-held", "fraud-notice-pending", "fraud-notice-pending"]


async def test_a_tier_bonus_with_enough_active_referees_raises_nothing(app, pipeline, transport, small_tiers):
    code = await code_of(pipeline, transport, R)
    referees = await joins(app, pipeline, code, 10, timedelta(minutes=1))
    for uid in referees[:3]:  # 7 of 10 idle: under 80 %
        result = await small_tiers.submit(body(id=f"ca-{uid}", type="credit_approved", user={"telegram_id": uid}),
                                          received_at=app.clock.now())
        assert result.http_status == 202
    await first_loan(small_tiers, referees[0], "fl-0")
    await first_loan(small_tiers, referees[1], "fl-1")
    assert await flags(app) == []
    assert [e.hold_flag_id for e in await entries_of(app, R)] == [None, None, None]


async def test_fewer_than_ten_referees_are_never_judged_idle(app, pipeline, transport, small_tiers):
    code = await code_of(pipeline, transport, R)
    referees = await joins(app, pipeline, code, 9, timedelta(minutes=1))
    await first_loan(small_tiers, referees[0], "fl-0")
    await first_loan(small_tiers, referees[1], "fl-1")
    assert await flags(app) == []


# -- fake referees ----------------------------------------------------------------------------

async def test_three_deleted_referees_flag_the_referrer(app, pipeline, transport):
    code = await code_of(pipeline, transport, R)
    referees = await joins(app, pipeline, code, 3, timedelta(minutes=5))
    async with app.uow() as uow:
        signals = FraudSignals(uow)
        assert await signals.after_deactivated(referees[0], app.clock.now()) is None
        assert await signals.after_deactivated(referees[0], app.clock.now()) is None  # once per account
        assert await signals.after_deactivated(referees[1], app.clock.now()) is None
        flag_id = await signals.after_deactivated(referees[2], app.clock.now())
        await uow.commit()
    [flag] = await flags(app)
    assert flag.id == flag_id and flag.kind == "fake_referees"
    assert flag.evidence["deleted"] == 3 and flag.evidence["count"] == 3 and sorted(flag.evidence["users"]) == referees


async def test_bots_who_joined_a_group_through_the_referrers_link_count(app, pipeline, transport):
    code = await code_of(pipeline, transport, R)
    [referee] = await joins(app, pipeline, code, 1, timedelta(minutes=5))
    now = app.clock.now()
    async with app.uow() as uow:
        uow.session.add(Group(chat_id=-100_1, title="g", type="supergroup", bot_status="administrator",
                              can_invite=True, updated_at=now))
        await uow.session.flush()
        link = GroupLink(chat_id=-100_1, owner_id=R, invite_link="https://t.me/+abc", name="R", created_at=now)
        uow.session.add(link)
        await uow.session.flush()
        uow.session.add(GroupJoin(chat_id=-100_1, user_id=77_001, link_id=link.id, is_bot=True, joined_at=now))
        await uow.commit()
    async with app.uow() as uow:
        assert await FraudSignals(uow).check_fake_referees(R, now) is None  # one bot: not yet
        await FraudSignals(uow).after_deactivated(referee, now)
        uow.session.add(GroupJoin(chat_id=-100_1, user_id=77_002, link_id=link.id, is_bot=True, joined_at=now))
        await uow.session.flush()
        assert await FraudSignals(uow).check_fake_referees(R, now) is not None
        await uow.commit()
    [flag] = await flags(app)
    assert (flag.evidence["deleted"], flag.evidence["group_bots"], flag.evidence["bots"]) == (1, 2, 0)


async def test_the_sender_marks_a_deleted_account_and_judges_its_referrer(app, pipeline, transport):
    code = await code_of(pipeline, transport, R)
    referees = await joins(app, pipeline, code, 3, timedelta(minutes=5))

    class Gone(RecordingTransport):
        async def send_message(self, chat_id, text, keyboard=None, paid=False):  # noqa: ANN001, ANN201
            if chat_id in referees:
                raise Forbidden("Forbidden: user is deactivated")
            return await super().send_message(chat_id, text, keyboard, paid)

    async with app.uow() as uow:
        for uid in referees:
            await enqueue(uow.session, chat_id=uid, kind="tip", text_key="tip-1", args={}, now=app.clock.now())
        await uow.commit()
    sender = OutboxSender(app.sessionmaker, Gone(), OutboxRenderer(app), OpenLimiter(), clock=app.clock)
    await sender.drain_once()
    async with app.uow() as uow:
        stamped = (await uow.session.execute(select(User.id, User.deactivated_at).where(User.id.in_(referees)))).all()
    assert all(at is not None for _, at in stamped) and len(stamped) == 3
    [flag] = await flags(app)
    assert (flag.user_id, flag.kind, flag.evidence["deleted"]) == (R, "fake_referees", 3)


# -- holds --------------------------------------------------------------------------------------

async def test_a_flagged_referrers_new_rewards_are_held_and_others_are_not(app, pipeline, transport, intake):
    code = await code_of(pipeline, transport, R)
    referees = await joins(app, pipeline, code, 4, timedelta(seconds=1))  # a burst
    [flag] = await flags(app)
    await first_loan(intake, referees[0], "fl-0")
    [entry] = await entries_of(app, R)
    assert entry.hold_flag_id == flag.id
    app.clock.advance(days=3)
    async with app.uow() as uow:
        await uow.users.set_credit_approved(R, app.clock.now() - timedelta(days=2))
        await uow.commit()
    async with app.uow() as uow:
        balance = await BalanceService(uow).balance(R, app.clock.now())
    assert (balance.pending, balance.available) == (5000, 0)
    result = await intake.submit(body(id="po-1", type="payout", user={"telegram_id": R}, amount_fen=5000),
                                 received_at=app.clock.now())
    assert result.http_status == 400  # held money cannot be paid out


async def test_two_first_loans_screening_one_tier_at_once_both_apply(app, pipeline, transport, small_tiers,
                                                                    monkeypatch):
    """Two referees' first loans at once, each reading the referrer's open idle_tier flag as a hold
    and each finding the tier of 3 due: both add their evidence to that flag (neither waits for the
    other's hold to end, which on PostgreSQL was a deadlock), and the tier pays once."""
    import asyncio

    from db.repositories.users import UserRepository
    from tests.unit.test_rewards_flow import _linger_after

    code = await code_of(pipeline, transport, R)
    referees = await joins(app, pipeline, code, 20, timedelta(minutes=1))
    await first_loan(small_tiers, referees[0], "fl-0")
    await first_loan(small_tiers, referees[1], "fl-1")  # the tier of 2: 18 of 20 idle raises idle_tier
    [flag] = await flags(app)
    _linger_after(monkeypatch, UserRepository, "upline_of", seconds=0.3)
    await asyncio.gather(first_loan(small_tiers, referees[2], "fl-2"), first_loan(small_tiers, referees[3], "fl-3"))
    [again] = await flags(app)
    # Each screen that found the tier due added to the one open flag: both on PostgreSQL, where they
    # overlap; on SQLite the second runs after the first paid the tier, and has nothing to screen.
    assert again.id == flag.id and again.evidence["updates"] >= 1
    tiers = [(e.rule, e.hold_flag_id) for e in await entries_of(app, R) if e.kind == "tier_bonus"]
    assert tiers == [("tier:2", flag.id), ("tier:3", flag.id)]


async def test_a_reject_waits_for_an_earning_the_flag_is_holding_right_now(app, pipeline, transport, small_tiers,
                                                                           monkeypatch):
    """A repayment paying the flagged referrer reads the flag as its hold, and an admin rejects the
    flag in that moment: the reject waits for the earning and reverses it with the rest, so no
    earning is left held by a rejected flag."""
    import asyncio

    from bot.services.audit import AuditLog
    from bot.services.fraud.review import ReviewService
    from db.repositories.users import UserRepository
    from tests.unit.test_rewards_flow import _linger_after

    code = await code_of(pipeline, transport, R)
    referees = await joins(app, pipeline, code, 20, timedelta(minutes=1))
    await first_loan(small_tiers, referees[0], "fl-0")
    await first_loan(small_tiers, referees[1], "fl-1")
    [flag] = await flags(app)
    _linger_after(monkeypatch, UserRepository, "upline_of", seconds=0.4)

    async def repayment() -> None:
        now = app.clock.now()
        result = await small_tiers.submit(body(id="rp-0", type="repayment_on_time", user={"telegram_id": referees[0]},
                                               loan_id="L0", occurred_at=now.isoformat()), received_at=now)
        assert result.body["outcome"] == "applied", result.body

    async def reject() -> str:
        await asyncio.sleep(0.15)  # the repayment holds the flag by now
        async with app.uow() as uow:
            decided = await ReviewService(uow, AuditLog(uow, app.clock), app.clock, frozenset({777}),
                                          app.settings.tz).decide(flag.id, "reject", actor_id=777, via="chat")
            await uow.commit()
        return decided.outcome

    _, outcome = await asyncio.gather(repayment(), reject())
    assert outcome == "done"
    entries = await entries_of(app, R)
    held = {e.id for e in entries if e.hold_flag_id == flag.id and e.reverses_id is None}
    reversed_ = {e.reverses_id for e in entries if e.reverses_id is not None}
    assert any(e.rule == "repayment_on_time" for e in entries if e.id in held)
    assert held <= reversed_, "an earning held by the rejected flag was not reversed"
