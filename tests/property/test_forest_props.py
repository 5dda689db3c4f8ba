"""Hypothesis: whatever order people try to bind in, the referral graph stays a forest,
the closure table equals the true ancestors up to the level cap, the kept
per-level counts equal a recomputation, and every binding queued exactly one
join notice to its referrer.

On PostgreSQL a new leaf's edge is written by one statement
(ReferralRepository.add_leaf_edge); the same sequences run through it and
through the statement-by-statement path, and both must match the model."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from sqlalchemy import select, text

from bot.clock import FrozenClock
from bot.services.binding import BindingService, Outcome
from bot.services.codes import CodeService
from db.engine import make_engine, make_sessionmaker
from db.models import Base, Binding, OutboxMessage, ReferralClosure
from db.uow import UnitOfWork
from tests.support import BACKENDS, PG_URL, SQLITE_ONLY

N_USERS = 12
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)

attempts = st.lists(st.tuples(st.integers(0, N_USERS - 1), st.integers(0, N_USERS - 1)), max_size=40)


def ancestors(parent: dict[int, int], node: int) -> list[int]:
    chain = []
    while node in parent:
        node = parent[node]
        chain.append(node)
    return chain


async def _empty_schema(url: str):  # noqa: ANN202
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        if url == PG_URL:  # the server's test database: emptied, as the conftest does between tests
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return engine


async def scenario(levels: int, tries: list[tuple[int, int]], bots: set[int], frozen: set[int],
                   url: str = "sqlite+aiosqlite:///:memory:", one_statement: bool = True) -> None:
    engine = await _empty_schema(url)
    sm = make_sessionmaker(engine)
    clock = FrozenClock(T0)
    codes: dict[int, str] = {}
    async with UnitOfWork(sm) as uow:
        for uid in range(N_USERS):
            await uow.users.insert_if_absent(user_id=uid + 1, first_name=f"u{uid}", username=None,
                                             is_bot=uid in bots, tg_language=None, now=T0)
            if uid in frozen:
                await uow.users.set_status(uid + 1, "frozen")
            codes[uid] = (await CodeService(uow, clock).personal_code(uid + 1)).code
        await uow.commit()

    parent: dict[int, int] = {}  # the model: referee -> referrer
    for referee, referrer in tries:
        expect_ok = (
            referee != referrer and referee not in parent and referee not in bots and referrer not in frozen
            and referee not in ancestors(parent, referrer)
        )
        async with UnitOfWork(sm) as uow:
            service = BindingService(uow, clock, levels, one_statement=one_statement)
            result = await service.bind(referee + 1, codes[referrer], "bind")
            await uow.commit()
        assert result.ok == expect_ok, (referee, referrer, result.outcome)
        if result.ok:
            parent[referee] = referrer
        elif referee == referrer and referrer not in frozen | bots:
            assert result.outcome is Outcome.OWN_CODE

    async with UnitOfWork(sm) as uow:
        edges = {r: p for r, p in (await uow.session.execute(select(Binding.referee_id, Binding.referrer_id)))}
        closure = set(await uow.session.execute(
            select(ReferralClosure.ancestor_id, ReferralClosure.descendant_id, ReferralClosure.depth)))
        recount = await uow.referrals.recount()
        kept = await uow.referrals.kept_counts()
        notices = list(await uow.session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.dedup_key, OutboxMessage.text_key, OutboxMessage.args)
            .where(OutboxMessage.kind == "join")))
    await engine.dispose()

    assert edges == {r + 1: p + 1 for r, p in parent.items()}
    for node in range(N_USERS):  # a forest: following referrers always ends, at a root
        assert len(ancestors(parent, node)) < N_USERS
    expected = {(a + 1, node + 1, depth)
                for node in range(N_USERS)
                for depth, a in enumerate(ancestors(parent, node)[:levels], start=1)}
    assert {tuple(row) for row in closure} == expected
    assert kept == recount
    assert sum(kept.values()) == len(expected)
    # one join notice per binding, to the referrer, with the referee's name masked
    assert sorted((chat, key, text_key) for chat, key, text_key, _ in notices) == sorted(
        (p + 1, f"join:{r + 1}", "notice-joined") for r, p in parent.items())
    assert all(args == {"name": "u***"} for *_, args in notices)


@SQLITE_ONLY
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levels=st.integers(1, 3), tries=attempts,
       bots=st.sets(st.integers(0, N_USERS - 1), max_size=2),
       frozen=st.sets(st.integers(0, N_USERS - 1), max_size=2))
def test_any_bind_sequence_keeps_the_forest_and_its_closure(levels, tries, bots, frozen):
    asyncio.run(scenario(levels, tries, bots, frozen))


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="TEST_DATABASE_URL not set")
@pytest.mark.parametrize("one_statement", [True, False], ids=["one-statement", "statement-by-statement"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levels=st.integers(1, 3), tries=attempts,
       bots=st.sets(st.integers(0, N_USERS - 1), max_size=2),
       frozen=st.sets(st.integers(0, N_USERS - 1), max_size=2))
def test_postgresql_bindings_keep_the_forest_on_both_write_paths(one_statement, levels, tries, bots, frozen):
    asyncio.run(scenario(levels, tries, bots, frozen, url=PG_URL, one_statement=one_statement))
