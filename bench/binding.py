"""Binding transactions per second: BindingService.bind through a UnitOfWork, against plain Core.

Product: one UnitOfWork per binding, `BindingService.bind(new referee, code of a
referrer drawn from the forest's linkers, "link")`, commit. The note counts the
fraud flags the run raised: with referrers spread as real traffic spreads them
it should be few, so the figure measures bindings, not the flag path. Baseline: one Core
transaction (engine.begin()) writing the same rows with prebuilt statements and
no reads: the binding, the closure rows (depth 1, and depth 2 when the
referrer has a referrer), the count upserts and the referrer's outbox notice,
which the product writes in the same transaction. Driver ceiling: the same
writes straight through asyncpg / aiosqlite, no SQLAlchemy, to show what the
machine can do at all. Referees are new users inserted before the clock starts.
PostgreSQL: 16 concurrent tasks; SQLite: one task, as the product's SQLite
engine has one writer connection.
"""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from bench.common import Throughput, at_least, info, make_app, run_for
from bench.dataset import LEVELS, PROFILE_LANGUAGE, Forest, first_name
from bench.suite import Suite
from bot.services.binding import BindingService, Outcome
from bot.services.fraud.signals import FraudLimits
from db.models import Binding, FraudFlag, OutboxMessage, ReferralClosure, ReferralCount, User

TARGETS = {"postgresql": 1200.0, "sqlite": 1000.0}
MAX_RATE = 6000  # referees prepared per timed second; a faster run stops early and says so
PRODUCT_IDS, BASELINE_IDS, DRIVER_IDS = 7_000_000_000, 8_000_000_000, 9_000_000_000


async def run(suite: Suite) -> None:
    for backend in suite.backends:
        url = await suite.database(backend)
        app = make_app(url)
        try:
            product, used = await _product(suite, app, backend)
            flags = await _flags(app)
            baseline = await _baseline(suite, app, backend)
            await _new_users(app, DRIVER_IDS, _budget(suite))
            problems = await _check_counts(app, list(dict.fromkeys(used))[:50])
        finally:
            await app.close()
        driver = await _driver(suite, url, backend)
        note = (f"{product.describe()}; {_workers(suite, backend)} over {len(suite.forest.linkers):,} referrers' "
                f"links; {flags} fraud flags raised")
        if problems:
            note += f"; COUNTS DISAGREE WITH CLOSURE for {problems}"
        figure = at_least("binding", "bind() transactions/s", backend, product.rate, TARGETS[backend], "tx/s", note)
        if product.errors or problems:
            figure.ok = False
        suite.add(figure)
        suite.add(info("binding", "Core baseline transactions/s", backend, baseline.rate, "tx/s",
                       f"{baseline.describe()}; same rows, prebuilt statements, no reads"))
        suite.add(info("binding", "bind() ÷ Core baseline", backend,
                       100 * product.rate / baseline.rate if baseline.rate else None, "%"))
        suite.add(info("binding", "driver ceiling transactions/s", backend, driver.rate, "tx/s",
                       f"{driver.describe()}; the same writes through {_DRIVERS[backend]}, no SQLAlchemy"))


_DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}


def _workers(suite: Suite, backend: str) -> str:
    return f"{suite.sizes.concurrency} concurrent" if backend == "postgresql" else "1 writer"


async def _new_users(app, first: int, count: int) -> None:  # noqa: ANN001
    now = datetime.now(timezone.utc)
    rows = [dict(id=u, first_name=first_name(u), username=None, is_bot=False, tg_language=PROFILE_LANGUAGE,
                 role="user", status="active", first_seen_at=now) for u in range(first, first + count)]
    async with app.engine.begin() as conn:
        for i in range(0, len(rows), 5000):
            await conn.execute(insert(User), rows[i:i + 5000])


def _budget(suite: Suite) -> int:
    return int(MAX_RATE * (suite.sizes.seconds + suite.sizes.warmup))


async def _drive(suite: Suite, backend: str, step) -> Throughput:  # noqa: ANN001
    s = suite.sizes
    concurrency = s.concurrency if backend == "postgresql" else 1
    return await run_for(step, concurrency=concurrency, seconds=s.seconds, warmup=s.warmup)


async def _product(suite: Suite, app, backend: str) -> tuple[Throughput, list[int]]:  # noqa: ANN001
    """The throughput, and the referrers bound to in order."""
    budget = _budget(suite)
    await _new_users(app, PRODUCT_IDS, budget)
    referees = iter(range(PRODUCT_IDS, PRODUCT_IDS + budget))
    rng = random.Random(5)
    linkers = suite.forest.linkers
    used: list[int] = []

    async def step() -> bool:
        referee = next(referees, None)
        if referee is None:
            return False
        async with app.uow() as uow:
            # With the anti-fraud checks the bot runs after every binding.
            binding = BindingService(uow, app.clock, LEVELS, FraudLimits())
            referrer = rng.choice(linkers)
            used.append(referrer)
            result = await binding.bind(referee, Forest.code_of(referrer), source="link")
            if result.outcome is not Outcome.BOUND:
                raise RuntimeError(f"bind refused: {result.outcome}")
            await uow.commit()
        return True

    return await _drive(suite, backend, step), used


async def _flags(app) -> int:  # noqa: ANN001
    async with app.uow() as uow:
        return int((await uow.session.execute(select(func.count()).select_from(FraudFlag))).scalar_one())


async def _baseline(suite: Suite, app, backend: str) -> Throughput:  # noqa: ANN001
    forest = suite.forest
    budget = _budget(suite)
    await _new_users(app, BASELINE_IDS, budget)
    referees = iter(range(BASELINE_IDS, BASELINE_IDS + budget))
    rng = random.Random(5)
    pool = forest.linkers
    upsert_insert = postgresql.insert if backend == "postgresql" else sqlite.insert
    add_binding = insert(Binding)
    add_closure = insert(ReferralClosure)
    bump = upsert_insert(ReferralCount).values(user_id=bindparam("u"), depth=bindparam("d"), count=bindparam("n"))
    bump = bump.on_conflict_do_update(index_elements=[ReferralCount.user_id, ReferralCount.depth],
                                      set_={"count": ReferralCount.count + bump.excluded.count})
    notice = insert(OutboxMessage)

    async def step() -> bool:
        referee = next(referees, None)
        if referee is None:
            return False
        referrer = rng.choice(pool)
        grand = forest.parent[referrer]
        now = datetime.now(timezone.utc)
        async with app.engine.begin() as conn:
            await conn.execute(add_binding, dict(referee_id=referee, referrer_id=referrer, code_id=None,
                                                 source="link", bound_at=now))
            closure = [dict(descendant_id=referee, depth=1, ancestor_id=referrer, bound_at=now)]
            counts = [dict(u=referrer, d=1, n=1)]
            if grand:
                closure.append(dict(descendant_id=referee, depth=2, ancestor_id=grand, bound_at=now))
                counts.append(dict(u=grand, d=2, n=1))
            await conn.execute(add_closure, closure)
            for c in counts:
                await conn.execute(bump, c)
            await conn.execute(notice, dict(chat_id=referrer, kind="join", priority=0, text_key="notice-joined",
                                            args={"name": "Use***"}, dedup_key=f"join:{referee}", state="pending",
                                            attempts=0, not_before=now, created_at=now))
        return True

    return await _drive(suite, backend, step)


async def _driver(suite: Suite, url: str, backend: str) -> Throughput:
    """The baseline's writes with the bare driver: the most this machine can do for this transaction."""
    forest = suite.forest
    referees = iter(range(DRIVER_IDS, DRIVER_IDS + _budget(suite)))
    rng = random.Random(5)
    args = json.dumps({"name": "Use***"})
    if backend == "postgresql":
        import asyncpg

        pool = await asyncpg.create_pool(url.replace("postgresql+asyncpg://", "postgresql://"),
                                         min_size=suite.sizes.concurrency, max_size=suite.sizes.concurrency)
        p = [f"${i}" for i in range(1, 6)]
    else:
        import aiosqlite

        db = await aiosqlite.connect(url.split("///", 1)[1], isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
            await db.execute(f"PRAGMA {pragma}")
        p = ["?"] * 5
    sql_binding = f"INSERT INTO bindings (referee_id, referrer_id, code_id, source, bound_at) " \
                  f"VALUES ({p[0]}, {p[1]}, NULL, 'link', {p[2]})"
    sql_closure = f"INSERT INTO referral_closure (descendant_id, depth, ancestor_id, bound_at) " \
                  f"VALUES ({p[0]}, {p[1]}, {p[2]}, {p[3]})"
    sql_count = f"INSERT INTO referral_counts (user_id, depth, count) VALUES ({p[0]}, {p[1]}, 1) " \
                "ON CONFLICT (user_id, depth) DO UPDATE SET count = referral_counts.count + 1"
    sql_notice = "INSERT INTO outbox (chat_id, kind, priority, text_key, args, dedup_key, state, attempts, " \
                 f"not_before, created_at) VALUES ({p[0]}, 'join', 0, 'notice-joined', {p[1]}, {p[2]}, 'pending', " \
                 f"0, {p[3]}, {p[4]})"

    def rows() -> tuple | None:
        referee = next(referees, None)
        if referee is None:
            return None
        referrer = rng.choice(forest.linkers)
        grand = forest.parent[referrer]
        now = datetime.now(timezone.utc)
        if backend == "sqlite":
            now = now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        closure = [(referee, 1, referrer, now)] + ([(referee, 2, grand, now)] if grand else [])
        counts = [(referrer, 1)] + ([(grand, 2)] if grand else [])
        return (referee, referrer, now), closure, counts, (referrer, args, f"join:{referee}", now, now)

    async def pg_step() -> bool:
        work = rows()
        if work is None:
            return False
        binding, closure, counts, notice = work
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(sql_binding, *binding)
            await conn.executemany(sql_closure, closure)
            await conn.executemany(sql_count, counts)
            await conn.execute(sql_notice, *notice)
        return True

    async def sqlite_step() -> bool:
        work = rows()
        if work is None:
            return False
        binding, closure, counts, notice = work
        await db.execute("BEGIN")
        try:
            await db.execute(sql_binding, binding)
            await db.executemany(sql_closure, closure)
            await db.executemany(sql_count, counts)
            await db.execute(sql_notice, notice)
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
        return True

    try:
        return await _drive(suite, backend, pg_step if backend == "postgresql" else sqlite_step)
    finally:
        await (pool.close() if backend == "postgresql" else db.close())


async def _check_counts(app, referrers: list[int]) -> list[int]:  # noqa: ANN001
    """The kept counts must still equal a GROUP BY over the closure for the referrers we bound to."""
    wrong = []
    async with app.uow() as uow:
        for user in referrers:
            kept = {d: c for d, c in (await uow.referrals.counts(user)).items() if c}
            counted = {d: c for (_, d), c in (await uow.referrals.recount(user)).items()}
            if kept != counted:
                wrong.append(user)
    return wrong
