"""The outbox end to end against a real database: SQLite always, PostgreSQL when TEST_DATABASE_URL is set.

Time is virtual (the limiter's sleep moves the clock), so retries, pauses and
backoff are checked to the second without waiting for them.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.outbox import (
    PRIORITY_BROADCAST,
    PRIORITY_TIP,
    PRIORITY_TRANSACTIONAL,
    InProcessRateLimiter,
    OutboxSender,
    enqueue,
)
from bot.transport import BadRequest, Forbidden, Outgoing, RetryAfter, SentMessage, TransientError
from db.engine import make_engine, make_sessionmaker
from db.models import Base, HandledUpdate, OutboxMessage, User

EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)


# -- fixtures -----------------------------------------------------------------


@dataclass
class Db:
    dialect: str
    engine: AsyncEngine
    sm: async_sessionmaker[AsyncSession]
    _make_engine: object
    _extra: list[AsyncEngine] = field(default_factory=list)

    def another_instance(self) -> async_sessionmaker[AsyncSession]:
        """A separate engine and pool, as a second bot process would have."""
        engine = self._make_engine()
        self._extra.append(engine)
        return make_sessionmaker(engine)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        handle = Db("sqlite", engine, make_sessionmaker(engine), lambda: make_engine(url))
        yield handle
        for e in [engine, *handle._extra]:
            await e.dispose()
        return

    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL not set")
    # A schema per test: fresh tables, and no interference with other suites sharing the database.
    schema = f"t_outbox_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def make() -> AsyncEngine:
        return create_async_engine(url, pool_size=10, connect_args={"server_settings": {"search_path": schema}})

    engine = make()
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    handle = Db("postgresql", engine, make_sessionmaker(engine), make)
    try:
        yield handle
    finally:
        for e in [engine, *handle._extra]:
            await e.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


class VirtualTime:
    """Both clocks the sender uses; sleeping moves time forward at once."""

    def __init__(self) -> None:
        self.t = 0.0

    def time(self) -> float:
        return self.t

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.t)

    async def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.0)
        await asyncio.sleep(0)


class FakeTransport:
    """Records every send_message call; can be told to fail for a chat."""

    def __init__(self, vt: VirtualTime, latency: float = 0.0) -> None:
        self.vt = vt
        self.latency = latency
        self.log: list[tuple] = []  # ("call", t, chat, text) and ("429", t, seconds)
        self.delivered: list[tuple[int, str]] = []
        self.script: dict[int, list[Exception]] = defaultdict(list)
        self.always: dict[int, Exception] = {}
        self.in_flight: Counter[int] = Counter()
        self.max_per_chat = 0
        self.max_total = 0

    def fail(self, chat_id: int, *errors: Exception) -> None:
        self.script[chat_id].extend(errors)

    def calls(self, chat_id: int | None = None) -> list[tuple]:
        return [e for e in self.log if e[0] == "call" and (chat_id is None or e[2] == chat_id)]

    async def send_message(self, chat_id: int, text: str, keyboard=None, paid: bool = False) -> SentMessage:  # noqa: ANN001
        self.log.append(("call", self.vt.t, chat_id, text))
        self.in_flight[chat_id] += 1
        self.max_per_chat = max(self.max_per_chat, self.in_flight[chat_id])
        self.max_total = max(self.max_total, sum(self.in_flight.values()))
        try:
            await asyncio.sleep(self.latency)
            error = self.script[chat_id].pop(0) if self.script[chat_id] else self.always.get(chat_id)
            if error is not None:
                if isinstance(error, RetryAfter):
                    self.log.append(("429", self.vt.t, error.seconds))
                raise error
            self.delivered.append((chat_id, text))
            return SentMessage(message_id=len(self.delivered), chat_id=chat_id)
        finally:
            self.in_flight[chat_id] -= 1


class OpenLimiter:
    """No throttling, for tests about the database side."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    async def acquire(self, chat_id: int) -> None:
        return None

    async def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)


class GateLimiter(OpenLimiter):
    """Holds every acquire until opened."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = asyncio.Event()
        self.gate = asyncio.Event()

    async def acquire(self, chat_id: int) -> None:
        self.waiting.set()
        await self.gate.wait()


async def render(chat_id: int, kind: str, text_key: str, args: dict) -> Outgoing:
    return Outgoing(text=f"{text_key}|{json.dumps(args, sort_keys=True)}")


def sender(db: Db, transport: FakeTransport, limiter=None, sm=None, **kw) -> OutboxSender:  # noqa: ANN001, ANN003
    vt = transport.vt
    limiter = limiter or InProcessRateLimiter(clock=vt.time, sleep=vt.sleep)
    return OutboxSender(sm or db.sm, transport, render, limiter, clock=vt, **kw)


async def queue(db: Db, vt: VirtualTime, chat_id: int, n: int = 0, **kw) -> bool:  # noqa: ANN003
    async with db.sm() as session, session.begin():
        kw.setdefault("kind", "join")
        kw.setdefault("text_key", "notice-joined")
        return await enqueue(session, chat_id=chat_id, args={"n": n}, now=vt.now(), **kw)


async def rows(db: Db) -> list[OutboxMessage]:
    async with db.sm() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def add_user(db: Db, user_id: int, status: str = "active") -> None:
    async with db.sm() as session, session.begin():
        session.add(User(id=user_id, first_name="u", status=status, first_seen_at=EPOCH))


async def user_status(db: Db, user_id: int) -> str:
    async with db.sm() as session:
        return (await session.get(User, user_id)).status


# -- enqueue ------------------------------------------------------------------


async def test_enqueue_dedup_key_makes_a_second_enqueue_a_no_op(db):
    vt = VirtualTime()
    assert await queue(db, vt, 5, n=1, dedup_key="join:77") is True
    assert await queue(db, vt, 5, n=2, dedup_key="join:77") is False
    assert await queue(db, vt, 5, n=3) is True
    assert await queue(db, vt, 5, n=3) is True  # no key, no dedup
    stored = await rows(db)
    assert [(r.args["n"], r.dedup_key, r.state) for r in stored] == [
        (1, "join:77", "pending"), (3, None, "pending"), (3, None, "pending"),
    ]
    assert stored[0].not_before == vt.now() and stored[0].priority == PRIORITY_TRANSACTIONAL


async def test_enqueue_is_part_of_the_callers_transaction(db):
    vt = VirtualTime()
    async with db.sm() as session:
        async with session.begin():
            await enqueue(session, chat_id=1, kind="join", text_key="k", args={}, now=vt.now(), dedup_key="join:1")
            await session.rollback()
    assert await rows(db) == []
    # the key was not spent by the rolled-back attempt
    assert await queue(db, vt, 1, dedup_key="join:1") is True


async def test_enqueue_to_a_user_who_blocked_the_bot_is_recorded_but_never_sent(db):
    vt = VirtualTime()
    await add_user(db, 9, "blocked")
    transport = FakeTransport(vt)
    assert await queue(db, vt, 9, dedup_key="join:9") is False
    await sender(db, transport).drain_once()
    assert transport.calls() == []
    assert [r.state for r in await rows(db)] == ["blocked"]


async def test_nothing_unasked_for_reaches_a_user_frozen_or_opted_out_since_it_was_queued(db):
    vt = VirtualTime()
    await add_user(db, 11)
    await add_user(db, 12)
    await queue(db, vt, 11, n=1, kind="broadcast", priority=PRIORITY_BROADCAST)
    await queue(db, vt, 11, n=2, kind="ledger", priority=PRIORITY_TRANSACTIONAL)
    await queue(db, vt, 12, n=3, kind="tip", priority=PRIORITY_TIP)
    await queue(db, vt, 12, n=4, kind="rules", priority=PRIORITY_TIP)
    async with db.sm() as session, session.begin():  # after queueing: 11 frozen, 12 turns tips off
        (await session.get(User, 11)).status = "frozen"
        (await session.get(User, 12)).tips_enabled = False
    transport = FakeTransport(vt)
    await sender(db, transport).drain_once()
    sent = sorted(json.loads(t.split("|")[1])["n"] for _, t in transport.delivered)
    assert sent == [2, 4]  # the reward notice, and the rule change (not a tip)
    assert [r.state for r in await rows(db)] == ["cancelled", "sent", "cancelled", "sent"]


# -- ordering and concurrency -------------------------------------------------


async def test_transactional_notices_go_before_broadcasts(db):
    vt = VirtualTime()
    transport = FakeTransport(vt)
    await queue(db, vt, 1, n=1, kind="broadcast", priority=PRIORITY_BROADCAST)
    await queue(db, vt, 2, n=2, kind="broadcast", priority=PRIORITY_BROADCAST)
    await queue(db, vt, 1, n=3, priority=PRIORITY_TRANSACTIONAL)
    await queue(db, vt, 3, n=4, priority=PRIORITY_TRANSACTIONAL)
    await sender(db, transport, concurrency=1).drain_once()
    sent = [json.loads(t.split("|")[1])["n"] for _, t in transport.delivered]
    assert sent == [3, 4, 1, 2]


async def test_sends_overlap_across_chats_but_never_within_one_chat(db):
    vt = VirtualTime()
    transport = FakeTransport(vt, latency=0.002)
    expected = []
    for n in range(5):
        for chat in (1, 2, 3, -4):
            await queue(db, vt, chat, n=n)
            expected.append((chat, n))
    for chat in range(100, 121):
        await queue(db, vt, chat, n=0)
        expected.append((chat, 0))
    await sender(db, transport, concurrency=8).drain_once()

    got = [(chat, json.loads(t.split("|")[1])["n"]) for chat, t in transport.delivered]
    assert sorted(got) == sorted(expected)  # each exactly once
    assert transport.max_per_chat == 1
    assert transport.max_total > 1
    for chat in (1, 2, 3, -4):  # a chat's messages keep their order
        assert [n for c, n in got if c == chat] == [0, 1, 2, 3, 4]
    assert {r.state for r in await rows(db)} == {"sent"}


# -- Telegram's answers -------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_429_pauses_all_sending_then_the_row_is_delivered_exactly_once(db, concurrency):
    vt = VirtualTime()
    transport = FakeTransport(vt)
    transport.fail(1, RetryAfter(5))
    for chat in range(1, 11):
        await queue(db, vt, chat)
    await sender(db, transport, concurrency=concurrency).drain_once()

    (pause_at,) = [e[1] for e in transport.log if e[0] == "429"]
    after = transport.log[transport.log.index(("429", pause_at, 5)) + 1:]
    assert after and all(t >= pause_at + 5 for _, t, *_ in after)
    assert [chat for chat, _ in transport.delivered].count(1) == 1
    assert len(transport.calls(1)) == 2
    first = (await rows(db))[0]
    assert (first.state, first.attempts) == ("sent", 1)  # the 429 does not count as an attempt
    assert sorted(chat for chat, _ in transport.delivered) == list(range(1, 11))


async def test_403_blocks_the_user_and_nothing_more_is_sent_to_them(db, caplog):
    vt = VirtualTime()
    transport = FakeTransport(vt)
    await add_user(db, 42)
    await add_user(db, 43, "frozen")
    transport.fail(42, Forbidden("bot was blocked by the user"))
    transport.fail(43, Forbidden("bot was blocked by the user"))
    await queue(db, vt, 42, n=1)
    await queue(db, vt, 42, n=2)
    await queue(db, vt, 43, n=1)
    await queue(db, vt, 44, n=1)  # no user row: a chat we only know by id
    caplog.set_level(logging.WARNING, logger="bot.outbox")
    await sender(db, transport).drain_once()

    assert len(transport.calls(42)) == 1
    assert await user_status(db, 42) == "blocked"
    assert await user_status(db, 43) == "frozen"  # keeps its status (and its data)
    assert [(r.chat_id, r.state) for r in await rows(db)] == [
        (42, "blocked"), (42, "blocked"), (43, "blocked"), (44, "sent"),
    ]
    blocked_logs = [r for r in caplog.records if "blocked the bot" in r.getMessage()]
    assert blocked_logs and all(r.levelno == logging.WARNING and not r.exc_info for r in blocked_logs)

    # Later: enqueue refuses, and a row that slipped in anyway is blocked at claim time.
    assert await queue(db, vt, 42, n=3) is False
    async with db.sm() as session, session.begin():
        session.add(OutboxMessage(
            chat_id=42, kind="tip", priority=5, text_key="k", args={}, state="pending",
            attempts=0, not_before=vt.now(), created_at=vt.now(),
        ))
    await sender(db, transport).drain_once()
    assert len(transport.calls(42)) == 1
    assert [r.state for r in await rows(db) if r.chat_id == 42] == ["blocked"] * 4


async def test_400_fails_at_once_without_retry(db):
    vt = VirtualTime()
    transport = FakeTransport(vt)
    transport.fail(5, BadRequest("Bad Request: message is too long"))
    await queue(db, vt, 5)
    await sender(db, transport).drain_once()
    vt.t += 3600
    await sender(db, transport).drain_once()
    (row,) = await rows(db)
    assert (row.state, row.attempts) == ("failed", 1)
    assert "message is too long" in row.last_error
    assert len(transport.calls(5)) == 1


@pytest.mark.parametrize("error", [
    Forbidden("Forbidden: user is deactivated"),
    BadRequest("Bad Request: chat not found"),
])
async def test_a_recipient_who_is_gone_is_recorded_as_left_and_not_retried(db, error):
    vt = VirtualTime()
    transport = FakeTransport(vt)
    await add_user(db, 5)
    transport.fail(5, error)
    await queue(db, vt, 5, n=1)
    await queue(db, vt, 5, n=2)
    await sender(db, transport).drain_once()
    vt.t += 3600
    await sender(db, transport).drain_once()
    assert [r.state for r in await rows(db)] == ["left", "left"]
    assert len(transport.calls(5)) == 1
    assert await user_status(db, 5) == "blocked"  # nothing more is queued for them


async def test_paid_rows_use_the_paid_budget_and_unpaid_rows_stay_at_thirty_a_second(db):
    vt = VirtualTime()
    transport = FakeTransport(vt)

    async def paid_render(chat_id: int, kind: str, text_key: str, args: dict) -> Outgoing:
        return Outgoing(text=text_key, paid=bool(args.get("paid")))

    async with db.sm() as session, session.begin():
        for chat in range(1, 301):
            await enqueue(session, chat_id=chat, kind="broadcast", text_key="paid", args={"paid": True},
                          now=vt.now(), priority=PRIORITY_BROADCAST)
        for chat in range(1001, 1061):
            await enqueue(session, chat_id=chat, kind="broadcast", text_key="free", args={},
                          now=vt.now(), priority=PRIORITY_BROADCAST)
    grants: list[tuple[float, bool]] = []

    class Recording(InProcessRateLimiter):
        def try_acquire(self, chat_id: int, paid: bool = False) -> float:
            wait = super().try_acquire(chat_id, paid)
            if wait <= 0:
                grants.append((vt.time(), paid))
            return wait

    limiter = Recording(clock=vt.time, sleep=vt.sleep)
    out = OutboxSender(db.sm, transport, paid_render, limiter, clock=vt, concurrency=64, batch_size=200)
    await out.drain_once()
    assert len(transport.calls()) == 360
    paid = [t for t, is_paid in grants if is_paid]
    free = [t for t, is_paid in grants if not is_paid]
    assert len(paid) == 300 and len(free) == 60
    assert max(paid) < 1.0  # 300 paid messages inside the first second: 30/s does not hold them back
    assert max(free) >= 1.0  # 60 unpaid ones need two seconds
    for t in free:
        assert sum(1 for u in free if t <= u < t + 1) <= 30


async def test_transient_errors_back_off_exponentially_then_fail(db, caplog):
    vt = VirtualTime()
    transport = FakeTransport(vt)
    transport.always[6] = TransientError("502 Bad Gateway")
    await queue(db, vt, 6)
    out = sender(db, transport, max_attempts=3, backoff_base=2.0)
    caplog.set_level(logging.WARNING, logger="bot.outbox")

    await out.drain_once()
    (row,) = await rows(db)
    assert (row.state, row.attempts, row.not_before) == ("pending", 1, vt.now() + timedelta(seconds=2))
    vt.t += 1.9
    await out.drain_once()  # not due yet
    assert len(transport.calls(6)) == 1
    vt.t += 0.1
    await out.drain_once()
    (row,) = await rows(db)
    assert (row.state, row.attempts, row.not_before) == ("pending", 2, vt.now() + timedelta(seconds=4))
    vt.t += 4
    await out.drain_once()
    (row,) = await rows(db)
    assert (row.state, row.attempts) == ("failed", 3)
    assert "502" in row.last_error
    vt.t += 3600
    await out.drain_once()
    assert len(transport.calls(6)) == 3
    assert caplog.records and all(not r.exc_info for r in caplog.records)


async def test_an_unexpected_error_is_retried_and_logged_with_its_traceback(db, caplog):
    vt = VirtualTime()
    transport = FakeTransport(vt)
    transport.fail(7, RuntimeError("boom"))
    await queue(db, vt, 7)
    caplog.set_level(logging.WARNING, logger="bot.outbox")
    out = sender(db, transport)
    await out.drain_once()
    assert [bool(r.exc_info) for r in caplog.records] == [True]
    vt.t += 2
    await out.drain_once()
    (row,) = await rows(db)
    assert (row.state, row.attempts) == ("sent", 2)


# -- crashes, leases, several instances ---------------------------------------


async def test_rows_left_sending_by_a_crash_go_back_to_pending_on_start(db):
    vt = VirtualTime()
    vt.t = 1000
    async with db.sm() as session, session.begin():
        for n, (lease_left, attempts) in enumerate([(-1, 1), (50, 1), (-1, 5)]):
            session.add(OutboxMessage(
                chat_id=100 + n, kind="join", priority=0, text_key="k", args={"n": n}, state="sending",
                attempts=attempts, not_before=vt.now() + timedelta(seconds=lease_left), created_at=EPOCH,
            ))
    transport = FakeTransport(vt)
    out = sender(db, transport, max_attempts=5)
    await out.recover(startup=True)
    await out.drain_once()
    states = [r.state for r in await rows(db)]
    if db.dialect == "sqlite":
        # one process: whatever says 'sending' at start-up was interrupted
        assert states == ["sent", "sent", "failed"]
    else:
        # another instance may still be sending the row with a live lease
        assert states == ["sent", "sending", "failed"]
        vt.t += 50
        await out.recover()
        await out.drain_once()
        assert [r.state for r in await rows(db)] == ["sent", "sent", "failed"]
    assert sorted(chat for chat, _ in transport.delivered) == [100, 101]


async def test_a_claim_whose_lease_lapsed_is_not_sent_by_its_first_holder(db):
    vt = VirtualTime()
    transport = FakeTransport(vt)
    await queue(db, vt, 8)
    gate = GateLimiter()
    slow = sender(db, transport, limiter=gate)
    stuck = asyncio.create_task(slow.drain_once())
    await asyncio.wait_for(gate.waiting.wait(), 5)
    vt.t += 61  # the first holder stalls past its lease
    other = sender(db, transport, limiter=OpenLimiter(), sm=db.another_instance())
    assert await other.recover() == 1
    await other.drain_once()
    gate.gate.set()
    await asyncio.wait_for(stuck, 5)
    assert len(transport.calls(8)) == 1
    (row,) = await rows(db)
    assert (row.state, row.attempts) == ("sent", 2)


async def test_a_claim_waiting_on_the_limiter_keeps_its_lease_alive(db):
    vt = VirtualTime()
    transport = FakeTransport(vt)
    await queue(db, vt, 8)
    gate = GateLimiter()
    lease = timedelta(seconds=0.3)  # renewed every 0.1 s of waiting
    slow = sender(db, transport, limiter=gate, lease=lease)
    waiting = asyncio.create_task(slow.drain_once())
    await asyncio.wait_for(gate.waiting.wait(), 5)
    other = sender(db, transport, limiter=OpenLimiter(), sm=db.another_instance())
    for _ in range(3):
        vt.t += 0.2  # without renewal the lease would lapse on the second step
        for _ in range(250):
            (row,) = await rows(db)
            if row.not_before == vt.now() + lease:
                break
            await asyncio.sleep(0.02)
        assert row.not_before == vt.now() + lease, "the lease was not renewed"
        assert await other.recover() == 0
    gate.gate.set()
    await asyncio.wait_for(waiting, 5)
    (row,) = await rows(db)
    assert (row.state, row.attempts) == ("sent", 1)
    assert len(transport.calls(8)) == 1


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)  # several instances need PostgreSQL
async def test_two_senders_draining_one_postgres_outbox_send_each_row_once(db):
    vt = VirtualTime()
    transport = FakeTransport(vt, latency=0.001)
    for n in range(2):
        for chat in range(1, 151):
            await queue(db, vt, chat, n=n)
    first = sender(db, transport, limiter=OpenLimiter(), sm=db.another_instance(), concurrency=8, batch_size=20)
    second = sender(db, transport, limiter=OpenLimiter(), sm=db.another_instance(), concurrency=8, batch_size=20)
    a, b = await asyncio.gather(first.drain_once(), second.drain_once())
    assert a > 0 and b > 0  # both took part
    assert a + b == 300
    counts = Counter(transport.delivered)
    assert len(counts) == 300 and set(counts.values()) == {1}
    assert {r.state for r in await rows(db)} == {"sent"}


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)  # liveness locks are PostgreSQL's
async def test_rows_of_a_dead_instance_come_back_at_once_and_a_live_ones_stay(db):
    from db.liveness import InstanceLock

    vt = VirtualTime()
    vt.t = 1000
    alive = InstanceLock(db.engine)
    await alive.hold()
    try:
        async with db.sm() as session, session.begin():
            # leases far from lapsing: only liveness can tell these rows apart
            for chat, claimed_by in ((201, alive.instance + 1), (202, alive.instance), (203, None)):
                session.add(OutboxMessage(
                    chat_id=chat, kind="join", priority=0, text_key="k", args={}, state="sending", attempts=1,
                    not_before=vt.now() + timedelta(seconds=50), created_at=EPOCH, claimed_by=claimed_by,
                ))
        transport = FakeTransport(vt)
        restarted = sender(db, transport, limiter=OpenLimiter(), sm=db.another_instance())
        assert await restarted.recover(startup=True) == 1  # the dead instance's row only
        await restarted.drain_once()
        assert [(r.chat_id, r.state) for r in await rows(db)] == [(201, "sent"), (202, "sending"), (203, "sending")]
    finally:
        await alive.release()
    # once the other instance is gone too, its row comes back without waiting for the lease
    assert await restarted.recover() == 1
    assert [r.state for r in await rows(db)] == ["sent", "pending", "sending"]


async def test_run_marks_its_claims_with_its_live_instance_number(db):
    vt = VirtualTime()
    transport = FakeTransport(vt)
    gate = GateLimiter()
    out = sender(db, transport, limiter=gate)
    await queue(db, vt, 4)
    task = asyncio.create_task(out.run())
    await asyncio.wait_for(gate.waiting.wait(), 5)
    (row,) = await rows(db)
    assert row.state == "sending"
    if db.dialect == "postgresql":
        async with db.sm() as session:
            from db.liveness import live_instances
            assert row.claimed_by in await live_instances(session)
    else:
        assert row.claimed_by is None  # one process: everything 'sending' is taken back at start
    out.stop()
    gate.gate.set()
    await asyncio.wait_for(task, 5)


# -- the loop -----------------------------------------------------------------


async def test_run_sends_as_soon_as_woken_and_stops_cleanly(db):
    vt = VirtualTime()
    transport = FakeTransport(vt)
    out = sender(db, transport, limiter=OpenLimiter(), poll_interval=30)
    task = asyncio.create_task(out.run())
    await asyncio.sleep(0.2)  # the loop is now idle for 30 s
    await queue(db, vt, 3)
    out.wake()
    for _ in range(100):
        if transport.delivered:
            break
        await asyncio.sleep(0.02)
    assert [chat for chat, _ in transport.delivered] == [3]
    out.stop()
    await asyncio.wait_for(task, 5)


async def test_stop_hands_back_rows_still_waiting_for_the_limiter(db):
    vt = VirtualTime()
    transport = FakeTransport(vt)
    gate = GateLimiter()
    await queue(db, vt, 4)
    out = sender(db, transport, limiter=gate, poll_interval=30)
    task = asyncio.create_task(out.run())
    await asyncio.wait_for(gate.waiting.wait(), 5)
    assert [r.state for r in await rows(db)] == ["sending"]
    out.stop()
    await asyncio.wait_for(task, 5)
    (row,) = await rows(db)
    assert (row.state, row.attempts) == ("pending", 0)
    assert transport.calls() == []


async def test_stop_lets_a_send_finish_its_database_reads_and_then_hands_the_row_back(db):
    """A cancellation landing inside a database call is what SQLAlchemy logs at ERROR at shutdown;
    stop() must end a send's wait for the limiter instead, after its reads are done."""
    vt = VirtualTime()
    transport = FakeTransport(vt)
    gate = GateLimiter()
    await queue(db, vt, 4)
    # a grace far longer than the test waits: the send must end its wait itself, not be cancelled
    out = sender(db, transport, limiter=gate, poll_interval=30, stop_grace=60)
    reading, read = asyncio.Event(), []

    async def slow_render(chat_id, kind, text_key, args):  # noqa: ANN001, ANN202
        async with db.sm() as session:  # a read still under way when stop() comes
            reading.set()
            await asyncio.sleep(0.3)
            read.append((await session.execute(select(OutboxMessage.state))).scalar_one())
        return await render(chat_id, kind, text_key, args)

    out._render = slow_render
    task = asyncio.create_task(out.run())
    await asyncio.wait_for(reading.wait(), 5)
    out.stop()
    await asyncio.wait_for(task, 5)
    assert read == ["sending"]  # the read ran to its end instead of being cancelled
    (row,) = await rows(db)
    assert (row.state, row.attempts) == ("pending", 0)
    assert transport.calls() == []


async def test_drain_once_sends_even_on_a_sender_stopped_before(db):
    vt = VirtualTime()
    transport = FakeTransport(vt)
    class SlowLimiter(OpenLimiter):  # a turn that takes a moment, as under load
        async def acquire(self, chat_id: int) -> None:
            await asyncio.sleep(0.01)

    out = sender(db, transport, limiter=SlowLimiter())
    out.stop()
    await queue(db, vt, 3)
    assert await asyncio.wait_for(out.drain_once(), 5) == 1
    assert [chat for chat, _ in transport.delivered] == [3]


async def test_handled_update_ids_older_than_a_week_are_pruned(db):
    vt = VirtualTime()
    vt.t = 30 * 86400
    async with db.sm() as session, session.begin():
        session.add_all([
            HandledUpdate(update_id=1, handled_at=vt.now() - timedelta(days=8)),
            HandledUpdate(update_id=2, handled_at=vt.now() - timedelta(days=1)),
        ])
    assert await sender(db, FakeTransport(vt)).prune_handled_updates() == 1
    async with db.sm() as session:
        assert list((await session.scalars(select(HandledUpdate.update_id))).all()) == [2]
