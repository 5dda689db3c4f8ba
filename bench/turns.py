"""Whole turns through the real runtime path, against the bare library answering the same update.

For each runtime (aiogram 3 and python-telegram-bot 22; bench/feeders.py says how each is fed):
ours runs Update → the library's dispatch → our entry point (aiogram: make_dispatcher's outer
middleware; PTB: PtbRuntime's TypeHandler) → Pipeline (claim, touch, route, handler, services,
commit) → the runtime's transport → the library's Bot → the stub. Bare: the same library, one
handler for the same command answering with the library's own reply call. Both use the same stub
(aiogram: StubSession; PTB: StubRequest), so the difference is what our code costs. 16 tasks feed
updates concurrently; throughput is counted after a warm-up, and each figure is ours ÷ bare, the
two measured back to back.

* /start <code>: a new user each time, the code one of the forest's
  linkers' (up to 50,000 existing referrers, see bench/dataset.py): user row, claim, binding,
  closure rows, counts, outbox notice, all in one transaction;
* /help and /code: existing users whose code already has a QR file_id; the
  only write is the handled_updates claim.
"""
from __future__ import annotations

import itertools
import random

from sqlalchemy import func, select

from bench import feeders
from bench.common import ProblemCounter, Throughput, at_least, make_app, run_for
from bench.cpu import CpuSample, CpuSpent
from bench.dataset import Forest
from bench.stub import command_update_data
from bot.heap import settle
from bench.suite import Suite
from db.models import Binding

NEW_USERS = 6_000_000_000  # ids of the users who arrive through a link
KINDS = ("start", "help", "code")
TARGETS = {"start": 25.0, "help": 70.0, "code": 70.0}
LABELS = {"start": "/start <code>", "help": "/help", "code": "/code (cached file_id)"}


async def run(suite: Suite) -> None:
    new_ids = itertools.count(NEW_USERS)
    for backend in suite.backends:
        url = await suite.database(backend)
        for kind in KINDS:
            for runtime in suite.runtimes:  # side by side: aiogram, then PTB, for each command
                name = feeders.NAMES[runtime]
                bare_feeder = await feeders.bare(runtime, kind)
                try:
                    bare = await _drive(suite, bare_feeder, kind, new_ids)
                finally:
                    await bare_feeder.close()
                ours, cpu, problems = await _ours(suite, url, runtime, kind, new_ids)
                note = f"ours {ours.describe()}; bare {name} {bare.describe()}; ours: {cpu}"
                if bare.errors:
                    problems.append(f"{bare.errors} exceptions in bare {name}")
                if problems:
                    note += "; " + "; ".join(problems) + " — figure not trustworthy"
                ratio = 100 * ours.rate / bare.rate if bare.rate else None
                figure = at_least("turns", f"{LABELS[kind]} vs bare {name}", backend, ratio, TARGETS[kind], "%", note)
                if backend != "postgresql":
                    figure.target += " (stated for PG)"
                if problems:
                    figure.ok = False
                suite.add(figure)


async def _ours(suite: Suite, url: str, runtime: str, kind: str,
                new_ids: itertools.count) -> tuple[Throughput, list[str]]:
    """The product's runtime path on `url`; also returns anything that went wrong on the way."""
    app = make_app(url)
    watcher = ProblemCounter()
    feeder = None
    try:
        feeder = await feeders.ours(runtime, app)
        settle()  # as `referral-bot run` does once it is up (bot/heap.py)
        first = next(new_ids)
        fed: list[int] = []
        start = CpuSample.now()
        ours = await _drive(suite, feeder, kind, new_ids, fed)
        spent = CpuSpent.between(start, CpuSample.now())
        problems = [f"{n} {what}" for n, what in ((watcher.count, "warnings/errors logged"),
                                                   (ours.errors, "exceptions")) if n]
        answer = "sendPhoto" if kind == "code" else "sendMessage"
        if feeder.calls[answer] != len(fed):
            problems.append(f"{feeder.calls[answer]} {answer} for {len(fed)} updates")
        if kind == "start":
            bound = await _bound_since(app, first, next(new_ids))
            sent = feeder.calls["sendMessage"]
            if bound != sent:
                problems.append(f"{bound} bindings written for {sent} answers")
    finally:
        if feeder is not None:
            await feeder.close()
        watcher.close()
        await app.close()
    return ours, spent.per(len(fed), "turn", "bot and feeder"), problems


async def _drive(suite: Suite, feeder: feeders.Feeder, kind: str, new_ids: itertools.count,
                 fed: list[int] | None = None) -> Throughput:
    rng = random.Random(11)
    pool = suite.forest.pool
    linkers = suite.forest.linkers

    def next_update() -> dict:
        if kind == "start":
            return command_update_data(next(new_ids), f"/start {Forest.code_of(rng.choice(linkers))}")
        return command_update_data(rng.choice(pool), f"/{kind}")

    async def step() -> None:
        data = next_update()
        await feeder.feed(data)
        if fed is not None:
            fed.append(data["update_id"])

    s = suite.sizes
    return await run_for(step, concurrency=s.concurrency, seconds=s.seconds, warmup=s.warmup)


async def _bound_since(app, first: int, end: int) -> int:  # noqa: ANN001
    async with app.uow() as uow:
        stmt = select(func.count()).select_from(Binding).where(Binding.referee_id >= first, Binding.referee_id < end)
        return int((await uow.session.execute(stmt)).scalar_one())
