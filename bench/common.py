"""What every benchmark shares: figures and targets, timing, databases, the machine."""
from __future__ import annotations

import asyncio
import logging
import os
import platform
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("postgresql", "sqlite")


# -- figures ------------------------------------------------------------------------


@dataclass
class Figure:
    """One reported number, next to its target (if it has one)."""

    group: str
    name: str
    backend: str  # postgresql | sqlite | - (not about a database)
    value: float | None  # None: could not be measured (see note)
    unit: str
    target: str = ""  # e.g. "≥ 25 %"; empty for information-only figures
    ok: bool | None = None  # None: no target
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.value is None and self.target:
            return "n/a"
        return {True: "PASS", False: "MISS", None: ""}[self.ok]

    def shown(self) -> str:
        return self._shown().rstrip()

    def _shown(self) -> str:
        if self.value is None:
            return "—"
        v = self.value
        if self.unit == "%":
            return f"{v:.1f} %"
        if abs(v) >= 1000:
            return f"{v:,.0f} {self.unit}"
        if abs(v) >= 100:
            return f"{v:.0f} {self.unit}"
        if abs(v) >= 10:
            return f"{v:.1f} {self.unit}"
        return f"{v:.3g} {self.unit}" if abs(v) < 1 else f"{v:.2f} {self.unit}"


def at_least(group: str, name: str, backend: str, value: float | None, limit: float, unit: str,
             note: str = "") -> Figure:
    shown_limit = f"{limit:,.0f}" if limit >= 100 else f"{limit:g}"
    ok = None if value is None else value >= limit
    return Figure(group, name, backend, value, unit, f"≥ {shown_limit} {unit}".rstrip(), ok, note)


def at_most(group: str, name: str, backend: str, value: float | None, limit: float, unit: str,
            note: str = "") -> Figure:
    ok = None if value is None else value <= limit
    return Figure(group, name, backend, value, unit, f"≤ {limit:g} {unit}".rstrip(), ok, note)


def info(group: str, name: str, backend: str, value: float | None, unit: str, note: str = "") -> Figure:
    return Figure(group, name, backend, value, unit, "", None, note)


def table(figures: list[Figure]) -> str:
    lines = ["| Benchmark | Figure | Backend | Value | Target | Result | Notes |",
             "|---|---|---|---:|---|---|---|"]
    for f in figures:
        note = f.note.replace("|", "\\|")
        lines.append(f"| {f.group} | {f.name} | {f.backend} | {f.shown()} | {f.target} | {f.verdict} | {note} |")
    return "\n".join(lines)


class ProblemCounter(logging.Handler):
    """Counts warnings and errors the product (`bot`) or a Telegram library logs during a run: a
    failed turn or request must not pass as a fast one. PTB hands handler exceptions to PtbRuntime's
    error handler, which logs them under `bot`; they never reach a benchmark's loop as exceptions."""

    LOGGERS = ("bot", "telegram", "aiogram")

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first: str = ""
        for name in self.LOGGERS:
            logging.getLogger(name).addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if not self.first:
            self.first = f"{record.name}: {record.getMessage()[:160]}"

    def close(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)
        super().close()


# -- timing ---------------------------------------------------------------------------


def pct(samples: list[float], p: float) -> float:
    """The p-th percentile (0..100), linear between closest ranks."""
    if not samples:
        return float("nan")
    s = sorted(samples)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def ms(seconds: float) -> float:
    return seconds * 1000


async def time_calls(fn: Callable[[object], Awaitable[object]], args: list, *, warmup: int = 20) -> list[float]:
    """Latency of fn(arg) for each arg, in seconds, after a few untimed warm-up calls."""
    for a in args[:warmup]:
        await fn(a)
    out = []
    clock = time.perf_counter
    for a in args:
        t = clock()
        await fn(a)
        out.append(clock() - t)
    return out


@dataclass
class Throughput:
    """Result of running `workers` coroutines in a loop for a fixed time."""

    done: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    exhausted: bool = False  # the work supply ran out before the time did

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        lat = self.latencies
        text = f"{self.rate:,.0f}/s, p50 {ms(pct(lat, 50)):.2f} ms, p99 {ms(pct(lat, 99)):.2f} ms"
        if self.errors:
            text += f", {self.errors} ERRORS"
        if self.exhausted:
            text += " (work ran out early)"
        return text


async def run_for(step: Callable[[], Awaitable[bool | None]], *, concurrency: int, seconds: float,
                  warmup: float) -> Throughput:
    """Calls `step()` in a loop from `concurrency` tasks for warmup+seconds; counts the steps that
    finish inside the timed window, and takes latencies from every step that finishes after the
    warm-up, including those that overran the window.

    Workers read the clock themselves rather than wait for a timer: a step that never suspends
    (bare aiogram on a stub session) would otherwise starve the timer forever. `step` returns
    False when there is no more work; an exception counts as an error.
    """
    clock = time.perf_counter
    begin = clock()
    timed_from, until = begin + warmup, begin + warmup + seconds
    state = {"done": 0, "errors": 0, "exhausted": False, "last": timed_from}
    latencies: list[float] = []

    async def worker() -> None:
        while not state["exhausted"]:
            t = clock()
            if t >= until:
                return
            try:
                more = await step()
            except Exception:  # noqa: BLE001 - counted and reported, never hidden
                state["errors"] += 1
                more = True
            finished = clock()
            if more is False:
                state["exhausted"] = True
                return
            if finished >= timed_from:
                # Steps that overran the window count for latency (a starved one must show),
                # only those that finished inside it count for throughput.
                latencies.append(finished - t)
            if timed_from <= finished < until:
                state["done"] += 1
                state["last"] = finished

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = (state["last"] if state["exhausted"] else until) - timed_from
    return Throughput(state["done"], max(elapsed, 1e-9), latencies, state["errors"], state["exhausted"])


# -- databases ---------------------------------------------------------------------------


def pg_url(database: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


def pg_dsn(database: str) -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + database


async def pg_create(database: str) -> str:
    """A fresh, empty database (an old one of that name is dropped); returns its SQLAlchemy URL."""
    import asyncpg

    assert database.startswith("bench_"), "the bench only touches its own databases"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    return pg_url(database)


async def pg_drop(database: str) -> None:
    import asyncpg

    assert database.startswith("bench_")
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


async def pg_available() -> str | None:
    """The server version, or None when PostgreSQL can't be reached."""
    try:
        import asyncpg

        conn = await asyncio.wait_for(asyncpg.connect(PG_ADMIN_DSN), 5)
    except Exception:  # noqa: BLE001
        return None
    try:
        return await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()


WARNINGS: list[str] = []  # shown in the report: anything that makes the figures less comparable


async def create_schema(url: str) -> None:
    """The product's own migrations, so the bench sees the real tables and indexes.

    Should they fail (someone is half-way through writing one), the schema comes from the
    models instead, and the report says so.
    """
    from db.migrate import upgrade

    try:
        await upgrade(url)
    except Exception as exc:  # noqa: BLE001
        from db.engine import make_engine
        from db.models import Base

        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await engine.dispose()
        warning = f"migrations failed ({type(exc).__name__}: {exc}); schema made by Base.metadata.create_all"
        if warning not in WARNINGS:
            WARNINGS.append(warning)
            print(f"WARNING: {warning}", flush=True)


def make_app(url: str, bot_username: str = "ReferralBenchBot"):  # noqa: ANN201
    """An App the way the running bot builds one (App.create), with a known bot username."""
    from bot.app import App
    from bot.config import load_settings

    app = App.create(load_settings(database_url=url, bot_token="123:bench"))
    app.bot_username = bot_username
    return app


# -- the machine -----------------------------------------------------------------------------


def machine(pg_version: str | None) -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for pkg in ("aiogram", "python-telegram-bot", "aiohttp", "sqlalchemy", "asyncpg", "aiosqlite", "qrcode",
                "pillow"):
        try:
            from importlib.metadata import version

            versions[pkg] = version(pkg)
        except Exception:  # noqa: BLE001
            versions[pkg] = "?"
    return {
        "CPU": cpu,
        "Cores": str(os.cpu_count()),
        "Memory": _mem_total(),
        "Load average at start": loadavg(),
        "Python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "PostgreSQL": pg_version or "not reachable",
        "SQLite": sqlite3.sqlite_version,
        "Packages": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "OS": platform.platform(),
    }


def loadavg() -> str:
    """1, 5 and 15-minute load averages: other work on the machine skews every figure."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "?"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
