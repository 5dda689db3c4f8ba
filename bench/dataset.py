"""A generated referral forest with a power-law tail, and fast bulk loaders for it.

Shape (n users, deterministic for a seed):

* a few hub referrers, each with a huge two-level tree: hub k has about
  0.112·n/2^k descendants, ~6·√D of them direct and the rest at level 2, spread
  over the directs by Pareto(1.3) weights (so some level-1 referees are big
  referrers themselves). At n = 1,000,000 the largest has ~112,000 descendants;
* everyone else: 35 % arrive without a referrer; the rest pick an earlier
  user with weight (rank+10)^-0.7, a preferential-attachment power law.

Rows written: users, bindings (source 'seed'), closure rows for depth 1..2 and
referral_counts equal to a GROUP BY over that closure, plus a personal code
for up to 50,000 "linkers", the referrers whose links new users open in the
`/start <code>` and binding benchmarks (spread wide, as real traffic is: 1,000
referrers taking 1,200 new users a second would all be flagged for bursts by
the product's own anti-fraud rules), of which a pool of 1,000 also has a
cached QR file_id for the `/help` and `/code` turns. PostgreSQL loads with COPY (asyncpg copy_records_to_table),
SQLite with executemany in one transaction; secondary indexes are dropped
before and rebuilt after, foreign-key triggers are off during the load.
"""
from __future__ import annotations

import bisect
import itertools
import math
import random
import sqlite3
import time
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Iterator

SEED = 20261126
LEVELS = 2
POOL_SIZE = 1000
LINKERS = 50_000
QR_FILE_ID = "AgACAgIAAxkBAAIBbenchQRfileIdCachedByTelegram"
T_START = datetime(2025, 11, 1, tzinfo=timezone.utc)
SPAN = timedelta(days=365)
TABLES = ("users", "codes", "bindings", "referral_closure", "referral_counts")
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass
class Forest:
    n: int
    parent: array  # parent[u] for users 1..n; 0 = arrived without a referrer
    level1: array  # kept counts, as a GROUP BY over the closure would give them
    level2: array
    hubs: list[int]
    pool: list[int]  # referrers with a personal code (and a cached QR file_id)
    linkers: list[int] = field(default_factory=list)  # referrers with a personal code: the pool, then more
    seconds: float = 0.0
    sizes: dict[str, int] = field(default_factory=dict)

    @cached_property
    def largest(self) -> int:
        return max(range(1, self.n + 1), key=lambda u: self.level1[u] + self.level2[u])

    def descendants(self, user: int) -> int:
        return self.level1[user] + self.level2[user]

    def bound_at(self, user: int) -> datetime:
        return T_START + SPAN * (user / self.n)

    @staticmethod
    def code_of(user: int) -> str:
        """A unique personal code per pool user, in the product's alphabet (no 0/O/1/I/L)."""
        digits = []
        for _ in range(8):
            user, r = divmod(user, len(_ALPHABET))
            digits.append(_ALPHABET[r])
        return "".join(reversed(digits))


def generate(n: int, seed: int = SEED) -> Forest:
    started = time.perf_counter()
    rng = random.Random(seed)
    parent = array("q", bytes(8 * (n + 1)))
    nxt, hubs = 1, []
    top = max(int(0.112 * n), 60)
    for k in range(5):
        size = top >> k
        if size < 30 or nxt + size + 1 > n:
            break
        hub = nxt
        hubs.append(hub)
        direct = max(3, round(6 * math.sqrt(size)))
        first = nxt + 1
        for child in range(first, first + direct):
            parent[child] = hub
        nxt = first + direct
        weights = [rng.paretovariate(1.3) for _ in range(direct)]
        for p in rng.choices(range(first, first + direct), weights=weights, k=size - direct):
            parent[nxt] = p
            nxt += 1
    # everyone else: preferential attachment to an earlier user, or no referrer at all
    g0, m = nxt, n - nxt + 1
    if m > 0:
        cum = list(itertools.accumulate((i + 10) ** -0.7 for i in range(m)))
        rand = rng.random
        for i in range(1, m):
            if rand() < 0.35:
                continue
            parent[g0 + i] = g0 + bisect.bisect_right(cum, rand() * cum[i - 1])
    level1, level2 = array("q", bytes(8 * (n + 1))), array("q", bytes(8 * (n + 1)))
    bound = closure = 0
    for u in range(1, n + 1):
        p = parent[u]
        if p:
            bound += 1
            closure += 1
            level1[p] += 1
            g = parent[p]
            if g:
                closure += 1
                level2[g] += 1
    pool = random.Random(seed + 1).sample(range(1, n + 1), min(POOL_SIZE, n))
    counts = sum(1 for u in range(1, n + 1) if level1[u]) + sum(1 for u in range(1, n + 1) if level2[u])
    in_pool = set(pool)
    others = [u for u in random.Random(seed + 2).sample(range(1, n + 1), min(LINKERS, n)) if u not in in_pool]
    linkers = pool + others[:max(0, LINKERS - len(pool))]
    forest = Forest(n, parent, level1, level2, hubs, pool, linkers=linkers)
    forest.sizes = {"users": n, "bindings": bound, "referral_closure": closure, "referral_counts": counts,
                    "codes": len(linkers)}
    forest.seconds = time.perf_counter() - started
    return forest


# -- rows ---------------------------------------------------------------------------------
# Column lists match db/models.py; timestamps come as `stamp(user)`.

USER_COLS = ("id", "first_name", "username", "is_bot", "tg_language", "language", "role", "status",
             "first_seen_at", "rules_version_ack")
BINDING_COLS = ("referee_id", "referrer_id", "code_id", "source", "bound_at")
CLOSURE_COLS = ("descendant_id", "depth", "ancestor_id", "bound_at")
COUNT_COLS = ("user_id", "depth", "count")
CODE_COLS = ("code", "owner_id", "kind", "label", "active", "created_at", "qr_file_id")

PROFILE_LANGUAGE = "zh-hans"


def first_name(user: int) -> str:
    return f"User{user}"


def user_rows(f: Forest, stamps: list) -> Iterator[tuple]:
    for u in range(1, f.n + 1):
        yield (u, first_name(u), None, False, PROFILE_LANGUAGE, None, "user", "active", stamps[u], None)


def binding_rows(f: Forest, stamps: list) -> Iterator[tuple]:
    parent = f.parent
    for u in range(1, f.n + 1):
        p = parent[u]
        if p:
            yield (u, p, None, "seed", stamps[u])


def closure_rows(f: Forest, stamps: list) -> Iterator[tuple]:
    parent = f.parent
    for u in range(1, f.n + 1):
        p = parent[u]
        if p:
            yield (u, 1, p, stamps[u])
            g = parent[p]
            if g:
                yield (u, 2, g, stamps[u])


def count_rows(f: Forest) -> Iterator[tuple]:
    for depth, counts in ((1, f.level1), (2, f.level2)):
        for u in range(1, f.n + 1):
            if counts[u]:
                yield (u, depth, counts[u])


def code_rows(f: Forest, stamps: list, active: object = True) -> Iterator[tuple]:
    in_pool = set(f.pool)
    for u in f.linkers:
        yield (Forest.code_of(u), u, "personal", None, active, stamps[u], QR_FILE_ID if u in in_pool else None)


def _stamps(f: Forest, as_text: bool) -> list:
    step = SPAN / f.n
    if as_text:  # SQLAlchemy's SQLite DATETIME storage: naive UTC, microseconds
        base = T_START.replace(tzinfo=None)
        return [None] + [(base + step * u).isoformat(sep=" ", timespec="microseconds") for u in range(1, f.n + 1)]
    return [None] + [T_START + step * u for u in range(1, f.n + 1)]


# -- loaders ---------------------------------------------------------------------------------


async def load_postgresql(f: Forest, dsn: str) -> float:
    """COPY the forest into an empty, migrated database; returns seconds taken."""
    stamps = _stamps(f, as_text=False)
    return await copy_postgresql(dsn, [
        ("users", USER_COLS, user_rows(f, stamps)),
        ("codes", CODE_COLS, code_rows(f, stamps)),
        ("bindings", BINDING_COLS, binding_rows(f, stamps)),
        ("referral_closure", CLOSURE_COLS, closure_rows(f, stamps)),
        ("referral_counts", COUNT_COLS, count_rows(f)),
    ])


def load_sqlite(f: Forest, path: str) -> float:
    """executemany in one transaction into an empty, migrated file; returns seconds taken."""
    stamps = _stamps(f, as_text=True)
    return insert_sqlite(path, [
        ("users", USER_COLS, user_rows(f, stamps)),
        ("codes", CODE_COLS, code_rows(f, stamps, 1)),
        ("bindings", BINDING_COLS, binding_rows(f, stamps)),
        ("referral_closure", CLOSURE_COLS, closure_rows(f, stamps)),
        ("referral_counts", COUNT_COLS, count_rows(f)),
    ])


Tables = list[tuple[str, tuple[str, ...], Iterator[tuple]]]  # (table, columns, rows) in load order


async def copy_postgresql(dsn: str, tables: Tables) -> float:
    """COPY rows into an empty, migrated database: the tables' secondary indexes dropped before and
    rebuilt after, no triggers (foreign keys, the ledger's append-only guard) during the load, identity
    sequences moved past the ids loaded, then VACUUM ANALYZE. Returns seconds taken."""
    import asyncpg

    started = time.perf_counter()
    names = [t[0] for t in tables]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET session_replication_role = replica")  # no FK or other triggers during the load
        secondary = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY($1::text[])"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)", names)
        for row in secondary:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')
        for table, cols, rows in tables:
            await conn.copy_records_to_table(table, records=rows, columns=cols)
        for row in secondary:
            await conn.execute(row["indexdef"])
        await conn.execute("SET session_replication_role = origin")
        for table in names:
            sequence = await conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table) \
                if await conn.fetchval("SELECT 1 FROM information_schema.columns WHERE table_name = $1 "
                                       "AND column_name = 'id'", table) else None
            if sequence:
                await conn.execute(f"SELECT setval('{sequence}', GREATEST((SELECT max(id) FROM {table}), 1))")
    finally:
        await conn.close()
    conn = await asyncpg.connect(dsn)
    try:
        # Steady state, as autovacuum would leave it shortly after a load like this: statistics,
        # and a visibility map (index-only scans), and no autovacuum run during the measurements.
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return time.perf_counter() - started


def insert_sqlite(path: str, tables: Tables) -> float:
    """executemany in one transaction into an empty, migrated file, secondary indexes dropped before
    and rebuilt after, foreign keys off; no ANALYZE (the product never runs one). Returns seconds taken."""
    started = time.perf_counter()
    names = tuple(t[0] for t in tables)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-262144", "temp_store=MEMORY",
                       "foreign_keys=OFF"):
            con.execute(f"PRAGMA {pragma}")
        secondary = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
            f"({','.join('?' * len(names))})", names).fetchall()
        for name, _ in secondary:
            con.execute(f'DROP INDEX "{name}"')
        con.execute("BEGIN")
        for table, cols, rows in tables:
            marks = ",".join("?" * len(cols))
            con.executemany(f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})", rows)
        con.execute("COMMIT")
        for _, sql in secondary:
            con.execute(sql)
        # No ANALYZE: the product never runs one on SQLite, so neither does the bench.
        con.execute("PRAGMA journal_mode=WAL")
    finally:
        con.close()
    return time.perf_counter() - started
