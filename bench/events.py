"""Platform events applied per second through the real HTTP API, against a signed no-op route.

Server: the product's own start-up path in this process: `bot.runtime.launcher.prepare` (migrate,
App, publish the program) and `_start_web` (the aiohttp Application with `add_api_routes` over an
EventIntake, as `referral-bot run` serves it) on 127.0.0.1 with a port the OS picks. The database
is the benchmark's own: a generated forest (bench/dataset.py, `event_users` users) bulk-loaded
into a fresh database. Nothing drains the outbox (no Telegram here): the notices the events queue
stay pending, as they would for a moment before the sender takes them.

Client: `python -m bench.loadgen` in a separate process, 16 concurrent requests over keep-alive
connections, each body signed at send time. The events: distinct ids, 40 % first_loan (each for a
bound user who has had none yet, while there are any), 40 % repayment_on_time and 20 %
second_credit (for users who already had a first loan; at most 6 repayments each, the default
program's cap), occurred_at = now. Each one pays the user's upline at levels 1 and 2 (held for
the credit check, per the default program), queues a notice per entry, and a first loan checks
the referrer's tiers under a row lock. The notes give the SQL statements per event and the CPU
per event over the whole load run, by whom (this process, the load generator, the PostgreSQL
server's processes), with the share of the cores left idle: bench/cpu.py.

Baseline, same run: a second server built the same way (add_api_routes on a web.Application,
same middleware, same signature checks and body reading) whose intake answers 202 without
touching the body or the database: the ratio shows what the event path itself costs.
"""
from __future__ import annotations

import asyncio
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bench.common import ROOT, ProblemCounter, Throughput, at_least, info, pg_dsn
from bench.cpu import CpuSample, CpuSpent
from bench.dataset import SEED, Forest, generate, load_postgresql, load_sqlite
from bench.suite import Suite

TARGET = 500.0  # events/s, stated for PostgreSQL
SECRET = "bench-platform-secret"
MIX = (("first_loan", 0.4), ("repayment_on_time", 0.4), ("second_credit", 0.2))
# Bodies prepared per timed second (the no-op route reaches ~10,000/s); a faster run stops early and says so.
MAX_RATE = 15000
CST = timezone(timedelta(hours=8))
REPAYMENTS_CAP = 6  # max_per_referee of the default program


async def run(suite: Suite) -> None:
    forest = generate(suite.sizes.event_users, seed=SEED + 5)
    bodies = _bodies(forest, int(MAX_RATE * (suite.sizes.seconds + suite.sizes.warmup)))
    path = suite.tmp / "events.jsonl"
    path.write_bytes(b"\n".join(bodies))
    for backend in suite.backends:
        await _measure(suite, backend, forest, path)


async def _measure(suite: Suite, backend: str, forest: Forest, bodies_path) -> None:  # noqa: ANN001
    from aiohttp import web

    from bot.api.app import add_api_routes
    from bot.config import load_settings
    from bot.heap import settle
    from bot.runtime.launcher import _start_web, prepare

    url = await suite.scratch_database(backend, "events")
    if backend == "postgresql":
        seconds = await load_postgresql(forest, pg_dsn("bench_events"))
    else:
        seconds = load_sqlite(forest, url.split("///", 1)[1])
    settings = load_settings(database_url=url, bot_token="123:bench", api_secret=SECRET,
                             api_host="127.0.0.1", api_port=0)
    app = await prepare(settings)
    watcher = ProblemCounter()
    runners = []
    try:
        # The product's server, exactly as `referral-bot run` starts it (no webhook: no runtime needed).
        server = await _start_web(settings, None, app)
        runners.append(server)
        # The baseline: the same routes, middleware and checks, with an intake that does nothing.
        noop_app = web.Application(client_max_size=1 << 20)
        add_api_routes(noop_app, lambda: _NoopIntake(), settings, clock=app.clock)
        noop = web.AppRunner(noop_app, access_log=None)
        await noop.setup()
        await web.TCPSite(noop, "127.0.0.1", 0).start()
        runners.append(noop)
        settle()  # as `referral-bot run` does once it is up (bot/heap.py)

        base_run = await _load(suite, _url(noop), bodies_path)
        with _StatementCounter(app.engine) as statements:
            run = await _load(suite, _url(server), bodies_path)
        stored = await _stored(app)
    finally:
        for runner in runners:
            await runner.cleanup()
        watcher.close()
        await app.close()

    baseline, ours, statuses = base_run.result, run.result, run.statuses
    per_event = statements.count / max(run.answered, 1)
    problems = []
    if ours.errors:
        problems.append(f"{ours.errors} requests failed ({'; '.join(run.failures)})")
    if watcher.count:
        problems.append(f"{watcher.count} warnings/errors logged (first: {watcher.first})")
    answered = statuses.get("202", 0)
    if stored["events"] != answered:
        problems.append(f"{stored['events']} events stored for {answered} answered 202")
    workers = f"{suite.sizes.concurrency} concurrent clients"
    shown = ", ".join(f"{k} {v:,}" for k, v in sorted(run.outcomes.items()))
    note = (f"{ours.describe()}; {workers}; answers: {shown}; {stored['entries']:,} ledger entries, "
            f"{stored['notices']:,} notices queued; server CPU {run.cpu_ms:.2f} ms and {per_event:.0f} SQL statements "
            f"per event; {run.spent.per(run.answered, 'event', 'server', 'load generator')}; forest {forest.n:,} users loaded in {seconds:.1f} s")
    if problems:
        note += "; " + "; ".join(problems) + " — figure not trustworthy"
    figure = at_least("events", "events applied/s, signed HTTP API", backend, ours.rate, TARGET, "events/s", note)
    if backend != "postgresql":
        figure.target += " (stated for PG)"
    if problems:
        figure.ok = False
    suite.add(figure)
    suite.add(info("events", "signed no-op route, same server setup", backend, baseline.rate, "req/s",
                   f"{baseline.describe()}; {workers}; signature, body read, JSON answer, no intake; "
                   f"server CPU {base_run.cpu_ms:.2f} ms per request"))
    suite.add(info("events", "event path ÷ no-op route", backend,
                   100 * ours.rate / baseline.rate if baseline.rate else None, "%"))


class _StatementCounter:
    """Counts the SQL statements the App's engine sends while the block runs."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        self.engine = engine.sync_engine
        self.count = 0

    def _seen(self, *_args) -> None:  # noqa: ANN002
        self.count += 1

    def __enter__(self) -> "_StatementCounter":
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc) -> None:  # noqa: ANN002
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._seen)


@dataclass
class _LoadRun:
    result: Throughput
    statuses: Counter
    outcomes: Counter
    failures: list[str]
    spent: CpuSpent  # over the whole run of the load generator, warm-up included

    @property
    def cpu_seconds(self) -> float:
        """This (the server's) process."""
        return self.spent.own

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def cpu_ms(self) -> float:
        """Server CPU per answered request, in milliseconds."""
        return 1000 * self.cpu_seconds / max(self.answered, 1)


def _url(runner) -> str:  # noqa: ANN001
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}/api/v1/events"


class _NoopIntake:
    async def submit(self, raw: bytes, *, received_at: datetime):  # noqa: ANN201
        from bot.services.events.outcome import Submission

        return Submission.accepted(outcome="noop")

    async def user_view(self, telegram_id: int) -> dict | None:
        return None


async def _load(suite: Suite, url: str, bodies_path) -> _LoadRun:  # noqa: ANN001
    """Runs the load generator against `url` and waits for its figures (the server keeps serving meanwhile)."""
    s = suite.sizes
    config = suite.tmp / "loadgen.json"
    config.write_text(json.dumps({"url": url, "secret": SECRET, "bodies": str(bodies_path),
                                  "concurrency": s.concurrency, "seconds": s.seconds, "warmup": s.warmup}))
    start = CpuSample.now()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.loadgen", str(config), cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    spent = CpuSpent.between(start, CpuSample.now())
    if proc.returncode:
        raise RuntimeError(f"load generator failed: {err.decode(errors='replace')[-500:]}")
    r = json.loads(out)
    result = Throughput(r["done"], r["seconds"], r["latencies"], r["errors"], r["exhausted"])
    return _LoadRun(result, Counter(r["statuses"]), Counter(r["outcomes"]), r["failures"], spent)


async def _stored(app) -> dict[str, int]:  # noqa: ANN001
    from sqlalchemy import func, select

    from db.models import Event, LedgerEntry, OutboxMessage

    async with app.uow() as uow:
        count = lambda model: uow.session.execute(select(func.count()).select_from(model))  # noqa: E731
        return {"events": (await count(Event)).scalar_one(), "entries": (await count(LedgerEntry)).scalar_one(),
                "notices": (await count(OutboxMessage)).scalar_one()}


def _bodies(forest: Forest, count: int) -> list[bytes]:
    """`count` event bodies with distinct ids, in the mix above, about users with a referrer."""
    rng = random.Random(SEED + 6)
    bound = [u for u in range(1, forest.n + 1) if forest.parent[u]]
    rng.shuffle(bound)
    fresh = iter(bound)
    loaned: list[int] = []  # had a first loan: may repay and take a second credit
    repayable: list[int] = []  # had a first loan and fewer than REPAYMENTS_CAP repayments
    repaid: Counter[int] = Counter()
    occurred = datetime.now(CST).replace(microsecond=0).isoformat()
    kinds, weights = zip(*MIX)
    out = []
    for i, kind in enumerate(rng.choices(kinds, weights=weights, k=count)):
        if kind == "repayment_on_time" and not repayable or not loaned:
            kind = "first_loan"
        if kind == "first_loan":
            user = next(fresh, None)
            if user is None:  # everyone has had a first loan: this one is ignored (not the first)
                user = rng.choice(loaned)
            else:
                loaned.append(user)
                repayable.append(user)
        elif kind == "repayment_on_time":
            k = rng.randrange(len(repayable))
            user = repayable[k]
            repaid[user] += 1
            if repaid[user] == REPAYMENTS_CAP:  # the program pays at most 6 per referee
                repayable[k] = repayable[-1]
                repayable.pop()
        else:
            user = rng.choice(loaned)
        body: dict = {"id": f"bench-{i}", "type": kind, "occurred_at": occurred, "user": {"telegram_id": user}}
        if kind == "repayment_on_time":
            body["loan_id"] = f"L-{user}-{repaid[user]}"
        else:
            body["amount_fen"] = rng.randrange(50_000, 2_000_000, 100)
        out.append(json.dumps(body, separators=(",", ":")).encode())
    return out
