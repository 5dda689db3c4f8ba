"""Hypothesis: whatever the sequence of tip-job runs, broadcasts, rule notices, sends, opt-outs and
freezes over simulated days, a tip never makes a second unasked-for message in a user's day.

Precisely, for every tip: no other non-transactional message (priority > 0) queued before it
reaches that chat on the local day the tip does; a user gets at most one tip a local day, only inside
the daytime window, only while active and opted in, at least TIP_INTERVAL_DAYS calendar days after the
previous one, and the tips follow the list in order.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select, update

from bot.outbox.queue import PRIORITY_BROADCAST, PRIORITY_TIP, PRIORITY_TRANSACTIONAL, enqueue
from bot.services.tips import TipQueue, TipSchedule
from db.engine import make_engine, make_sessionmaker
from db.models import Base, OutboxMessage, User
from db.uow import UnitOfWork
from tests.support import SQLITE_ONLY

pytestmark = SQLITE_ONLY

TZ = ZoneInfo("Asia/Shanghai")
N_USERS = 5
N_TIPS = 3
T0 = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)  # 09:00 local

users = st.integers(1, N_USERS)
WAIT = st.tuples(st.just("wait"), st.sampled_from([5, 30, 90, 240, 600, 1440, 2 * 1440]) | st.integers(1, 3 * 1440))
JOB, SEND = st.just(("job", 0)), st.just(("send", 0))
BROADCAST = st.tuples(st.just("broadcast"), users)
# Jobs, sends and broadcasts drawn more often: their interleavings are where a second message could slip in.
step = st.one_of(
    WAIT, WAIT, JOB, JOB, SEND, SEND, BROADCAST, BROADCAST,
    st.tuples(st.just("rules"), users),  # a rule-change notice, same priority as a tip
    st.tuples(st.just("reward"), users),  # transactional: no bar to a tip
    st.tuples(st.sampled_from(["optout", "optin", "freeze", "unfreeze"]), users),
)


def day(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%d")


async def scenario(interval: int, first_seen_hours: list[int], steps: list[tuple[str, int]]) -> None:
    engine = make_engine("sqlite+aiosqlite:///:memory:")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sm = make_sessionmaker(engine)
    schedule = TipSchedule(interval, (10, 20), TZ, N_TIPS)
    now = T0
    async with UnitOfWork(sm) as uow:
        for uid, hours in enumerate(first_seen_hours, start=1):
            uow.session.add(User(id=uid, first_name="u", is_bot=False, role="user", status="active",
                                 first_seen_at=T0 - timedelta(hours=hours)))
        await uow.commit()
    opted_out: set[int] = set()
    frozen: set[int] = set()
    serial = 0
    for kind, arg in steps:
        serial += 1
        async with UnitOfWork(sm) as uow:
            s = uow.session
            if kind == "wait":
                now += timedelta(minutes=arg)
            elif kind == "job":
                before = await s.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))
                queued = await TipQueue(uow, schedule, batch=N_USERS).queue_due(now)
                assert queued == 0 or schedule.in_window(now)
                # what the job just queued was queued for users allowed to get it at that moment
                fresh = (await s.execute(select(OutboxMessage.chat_id).where(OutboxMessage.id > before))).scalars()
                assert not set(fresh) & (opted_out | frozen)
            elif kind == "send":
                await s.execute(update(OutboxMessage).where(OutboxMessage.state == "pending")
                                .values(state="sent", sent_at=now))
            elif kind in ("broadcast", "rules", "reward"):
                priority = {"broadcast": PRIORITY_BROADCAST, "rules": PRIORITY_TIP,
                            "reward": PRIORITY_TRANSACTIONAL}[kind]
                await enqueue(s, chat_id=arg, kind=kind, text_key="x", args={}, now=now, priority=priority,
                              dedup_key=f"{kind}:{serial}")
            elif kind in ("optout", "optin"):
                await s.execute(update(User).where(User.id == arg).values(tips_enabled=kind == "optin"))
                (opted_out.add if kind == "optout" else opted_out.discard)(arg)
            else:
                await s.execute(update(User).where(User.id == arg)
                                .values(status="frozen" if kind == "freeze" else "active"))
                (frozen.add if kind == "freeze" else frozen.discard)(arg)
            await uow.commit()

    async with UnitOfWork(sm) as uow:
        o = OutboxMessage
        rows = (await uow.session.execute(
            select(o.id, o.chat_id, o.kind, o.priority, o.text_key, o.created_at, o.sent_at).order_by(o.id))).all()
        counters = dict((await uow.session.execute(select(User.id, User.tips_sent))).all())
    await engine.dispose()

    tips = [r for r in rows if r.kind == "tip"]
    for uid in range(1, N_USERS + 1):
        mine = [r for r in tips if r.chat_id == uid]
        assert counters[uid] == len(mine)
        assert [r.text_key for r in mine] == [f"tip-{n % N_TIPS + 1}" for n in range(len(mine))]
        days = [r.created_at.astimezone(TZ).date() for r in mine]
        assert all((b - a).days >= interval for a, b in zip(days, days[1:]))
        for r in mine:
            assert 10 <= r.created_at.astimezone(TZ).hour < 20
            assert r.created_at - (T0 - timedelta(hours=first_seen_hours[uid - 1])) >= timedelta(days=1)
    for tip in (t for t in tips if t.sent_at is not None):
        others = [r for r in rows if r.chat_id == tip.chat_id and r.priority > 0 and r.id != tip.id
                  and r.sent_at is not None and day(r.sent_at) == day(tip.sent_at) and r.id < tip.id]
        assert not others, (tip, others)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interval=st.integers(1, 3),
       first_seen_hours=st.lists(st.integers(0, 72), min_size=N_USERS, max_size=N_USERS),
       steps=st.lists(step, max_size=80))
def test_a_tip_never_makes_a_second_unasked_for_message_in_a_day(interval, first_seen_hours, steps):
    asyncio.run(scenario(interval, first_seen_hours, steps))
