"""/earnings for a big referrer: RewardsView.earnings (this month and all time) and BalanceService.balance.

The data: bench/ledger_data.py (10,000 referees, 100,000 ledger entries of the referrer's own,
~95,000 more for the rest of the upline, ~100,000 events), bulk-loaded into a fresh database of
the benchmark's own after `prepare` migrated it and published the bench program. Each figure is
the latency of one service call inside an open unit of work, as the forest figures are; the p99
with a target is the best of three rounds (each up to `earnings_samples` calls, cut short after a
few seconds when calls are slow), the worst round's shown beside it.

The product's answers are checked against the same sums computed in Python from the generated
rows with bot.services.rewards.balances (entry_state, fold). The statements one earnings() call
runs are captured, and their plans written to bench/results/earnings_plans.md (EXPLAIN (ANALYZE,
BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite); the slowest statement's plan is summarised
in the notes.
"""
from __future__ import annotations

import re
import time
from collections import defaultdict
from types import SimpleNamespace

from bench.common import RESULTS, at_most, info, ms, pct
from bench.ledger_data import PROGRAM_TOML, REFERRER, Ledger, generate
from bench.suite import Suite

TARGET_MS = 20.0  # p99, stated for PostgreSQL
ROUNDS = 3
ENTRIES = 100_000
PLANS = RESULTS / "earnings_plans.md"
ROUND_SECONDS, ROUND_SECONDS_QUICK = 4.0, 2.0  # a round stops early at this (a slow call takes ~0.2 s)
MIN_CALLS = 20


async def _time_for(fn, n: int, budget: float) -> list[float]:  # noqa: ANN001
    """Latency of up to `n` calls of fn(REFERRER), stopping after `budget` seconds (but not before
    MIN_CALLS): a slow query must not make the run take minutes."""
    for _ in range(3):
        await fn(REFERRER)
    out: list[float] = []
    clock = time.perf_counter
    started = clock()
    while len(out) < n and (len(out) < MIN_CALLS or clock() - started < budget):
        t = clock()
        await fn(REFERRER)
        out.append(clock() - t)
    return out


async def run(suite: Suite) -> None:
    ledger = generate(ENTRIES)
    suite.add(info("earnings", "generate the referrer's ledger", "-", len(ledger.entries), "rows",
                   f"{ledger.referees:,} referees; {len(ledger.of(REFERRER)):,} entries of the referrer's, "
                   f"{len(ledger.events):,} events"))
    plans = [f"# Plans of the statements one `/earnings` runs ({len(ledger.of(REFERRER)):,} entries)", ""]
    for backend in suite.backends:
        await _measure(suite, backend, ledger, plans)
    PLANS.parent.mkdir(parents=True, exist_ok=True)
    PLANS.write_text("\n".join(plans), encoding="utf-8")


async def _measure(suite: Suite, backend: str, ledger: Ledger, plans: list[str]) -> None:
    from bench.dataset import copy_postgresql, insert_sqlite
    from bot.config import load_settings
    from bot.runtime.launcher import prepare
    from bot.services.rewards.balances import BalanceService
    from bot.services.rewards.overview import RewardsView

    url = await suite.scratch_database(backend, "earnings")
    if backend == "postgresql":
        from bench.common import pg_dsn

        seconds = await copy_postgresql(pg_dsn("bench_earnings"), ledger.tables(as_text=False))
        how = "COPY, indexes rebuilt after, VACUUM ANALYZE"
    else:
        seconds = insert_sqlite(url.split("///", 1)[1], ledger.tables(as_text=True))
        how = "executemany, indexes rebuilt after, no ANALYZE"
    suite.add(info("earnings", "load the ledger", backend, seconds, "s", how))
    program = suite.tmp / "earnings-program.toml"
    program.write_text(PROGRAM_TOML, encoding="utf-8")
    # PROGRAM_FILE is the bench program, already stored as version 1 (the version every entry names).
    app = await prepare(load_settings(database_url=url, bot_token="123:bench", program_file=str(program)))
    try:
        now, tz = ledger.now, app.settings.tz
        n = suite.sizes.earnings_samples
        budget = ROUND_SECONDS_QUICK if suite.quick else ROUND_SECONDS
        limit = TARGET_MS
        # First as a read finds it before the checkpoint job's first round (every entry summed),
        # then with the checkpoint that round writes: what the running bot reads.
        for phase in ("before the first checkpoint", "with the job's checkpoint"):
            if phase.startswith("with"):
                from bot.services.rewards.checkpoints import CheckpointWriter

                started = time.perf_counter()
                written = await CheckpointWriter(app.uow, tz, app.settings.timezone).write_due(
                    app.settings.ledger_checkpoint_entries, lambda: now)
                suite.add(info("earnings", "checkpoint job round", backend, time.perf_counter() - started, "s",
                               f"{written} checkpoint(s) written (LEDGER_CHECKPOINT_ENTRIES="
                               f"{app.settings.ledger_checkpoint_entries}); the job runs every 10 minutes"))
            async with app.uow() as uow:
                view = RewardsView(uow, app.programs, tz)
                balances = BalanceService(uow)

                async def earnings(user: int):  # noqa: ANN202
                    return await view.earnings(user, now)

                async def balance(user: int):  # noqa: ANN202
                    return await balances.balance(user, now)

                for name, fn, what in (("/earnings (month + all time)", earnings, "RewardsView.earnings"),
                                       ("balance", balance, "BalanceService.balance")):
                    rounds = [await _time_for(fn, n, budget) for _ in range(ROUNDS)]
                    p99s = sorted(ms(pct(r, 99)) for r in rounds)
                    best = min(rounds, key=lambda r: pct(r, 99))
                    calls = "/".join(str(len(r)) for r in rounds)
                    note = (f"p50 {ms(pct(best, 50)):.2f} ms; {what} for the referrer with {ledger.referees:,} "
                            f"referees and {ENTRIES:,} entries; {calls} calls in {ROUNDS} rounds (up to {n} or "
                            f"{budget:g} s each), best round (worst p99 {p99s[-1]:.1f} ms)")
                    label = f"{name} p99, {phase}"
                    if phase.startswith("before"):
                        suite.add(info("earnings", label, backend, p99s[0], "ms", note))
                        continue
                    figure = at_most("earnings", label, backend, p99s[0], limit, "ms", note)
                    if backend != "postgresql":
                        figure.target += " (stated for PG)"
                    suite.add(figure)

                report = await view.earnings(REFERRER, now)
                got_balance = await balances.balance(REFERRER, now)
                wrong = _check(ledger, report, got_balance, tz)
                if wrong:
                    suite.add(info("earnings", f"CONSISTENCY, {phase}", backend, None, "", "; ".join(wrong)))
                if phase.startswith("with"):
                    summary = await _plans(app, uow, backend, lambda: view.earnings(REFERRER, now), plans)
        suite.add(info("earnings", "slowest statement of /earnings", backend, summary[0], "ms", summary[1]))
    finally:
        await app.close()


def _check(ledger: Ledger, report, balance, tz) -> list[str]:  # noqa: ANN001
    """The product's sums against the same rules applied in Python to the generated rows."""
    from bot.services.rewards.balances import entry_state, fold
    from bot.services.rewards.overview import month_start

    since = month_start(ledger.now, tz)
    mine = ledger.of(REFERRER)
    reversed_ids = {e[9] for e in mine if e[9] is not None}
    problems = []
    for label, cutoff in (("all time", None), ("month", since)):
        sums: dict = defaultdict(int)
        for (entry_id, _, _, level, rule, kind, amount, _, _, _, available, held, lapse, created) in mine:
            if cutoff is not None and created < cutoff:
                continue
            if kind in ("reward", "tier_bonus"):
                row = SimpleNamespace(requires_check=held, lapse_at=lapse, available_at=available, hold_flag_id=None)
                state = entry_state(row, ledger.approved_at, ledger.now, entry_id in reversed_ids)
                sums[(state, level, rule, False)] += amount
            elif kind == "payout":
                sums[("paid", 0, "payout", False)] -= amount
        expected_balance, expected = fold(dict(sums))
        got = report.all_time if cutoff is None else report.month
        if (got.by_level, got.by_rule) != (expected.by_level, expected.by_rule):
            problems.append(f"{label}: earnings {got.by_level} / {got.by_rule}, expected {expected.by_level} / "
                            f"{expected.by_rule}")
        if cutoff is None and balance != expected_balance:
            problems.append(f"balance {balance}, expected {expected_balance}")
    return problems


async def _plans(app, uow, backend: str, call, plans: list[str]) -> tuple[float | None, str]:  # noqa: ANN001
    """Captures the statements `call()` runs, writes their plans, returns the slowest one's summary."""
    from sqlalchemy import event

    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        if not statement.lstrip().upper().startswith("SET "):  # a setting has no plan to explain
            # A statement db.direct ran reports its positional arguments as a list; the driver
            # call below takes them as a tuple.
            captured.append((statement, tuple(parameters) if isinstance(parameters, list) else parameters))

    engine = app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        await call()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    conn = await uow.session.connection()
    plans += [f"## {backend}", ""]
    slowest: tuple[float | None, str] = (None, "")
    for number, (statement, parameters) in enumerate(captured, start=1):
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if backend == "postgresql" else "EXPLAIN QUERY PLAN "
        rows = (await conn.exec_driver_sql(prefix + statement, parameters)).all()
        if backend == "postgresql":
            lines = [r[0] for r in rows]
        else:
            lines = [f"{'  ' * _depth(rows, r)}{r[-1]}" for r in rows]
        plans += [f"### statement {number}", "", "```sql", statement.strip(), "```", f"parameters: {parameters!r}",
                  "", "```", *lines, "```", ""]
        if backend == "postgresql":
            took = next((float(m.group(1)) for line in lines
                         if (m := re.search(r"Execution Time: ([0-9.]+) ms", line))), 0.0)
            if slowest[0] is None or took > slowest[0]:
                nodes = [re.sub(r"\s+\(cost=.*", "", line).strip().lstrip("-> ").strip() for line in lines
                         if "cost=" in line]
                slowest = (took, f"statement {number} of {len(captured)} (EXPLAIN ANALYZE): " + " ← ".join(nodes[:6]))
    if backend != "postgresql":
        where = PLANS.relative_to(RESULTS.parent.parent)
        slowest = (None, f"{len(captured)} statements; EXPLAIN QUERY PLAN in {where}")
    else:
        slowest = (slowest[0], slowest[1] + f"; all plans in {PLANS.relative_to(RESULTS.parent.parent)}")
    return slowest


def _depth(rows, row) -> int:  # noqa: ANN001
    """Nesting depth of an EXPLAIN QUERY PLAN row (id, parent, notused, detail)."""
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth
