"""One run of the suite: its sizes, the forest databases it shares between benchmarks, its figures."""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import Figure, create_schema, info, pg_create, pg_drop, pg_dsn
from bench.dataset import Forest, generate, load_postgresql, load_sqlite
from bench.feeders import RUNTIMES

PG_FOREST_DB = "bench_forest"


@dataclass
class Sizes:
    forest_users: int
    seconds: float  # timed part of each throughput run
    warmup: float
    concurrency: int
    samples: int  # latency samples per query benchmark
    qr_renders: int
    event_users: int  # the events benchmark's own forest
    earnings_samples: int  # /earnings calls per round


QUICK = Sizes(forest_users=20_000, seconds=2.0, warmup=0.5, concurrency=16, samples=1000, qr_renders=300,
              event_users=5_000, earnings_samples=60)
FULL = Sizes(forest_users=1_000_000, seconds=10.0, warmup=2.0, concurrency=16, samples=1000, qr_renders=2000,
             event_users=20_000, earnings_samples=200)


@dataclass
class Suite:
    sizes: Sizes
    backends: list[str]
    quick: bool
    runtimes: list[str] = field(default_factory=lambda: list(RUNTIMES))
    figures: list[Figure] = field(default_factory=list)
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="referral-bench-")))
    _forest: Forest | None = None
    _urls: dict[str, str] = field(default_factory=dict)
    _scratch: set[str] = field(default_factory=set)

    def add(self, *figures: Figure) -> None:
        for f in figures:
            self.figures.append(f)
            print(f"  {f.group:8} {f.name:48} {f.backend:10} {f.shown():>14} {f.target:>14} {f.verdict}  {f.note}",
                  flush=True)

    @property
    def forest(self) -> Forest:
        if self._forest is None:
            self._forest = generate(self.sizes.forest_users)
            f = self._forest
            self.add(info("forest", f"generate {f.n:,} users", "-", f.seconds, "s",
                          ", ".join(f"{k} {v:,}" for k, v in f.sizes.items())
                          + f"; largest referrer {f.descendants(f.largest):,} descendants"))
        return self._forest

    async def database(self, backend: str) -> str:
        """The forest, loaded into `backend` once per run and shared by the benchmarks that need it."""
        if backend in self._urls:
            return self._urls[backend]
        forest = self.forest
        if backend == "postgresql":
            url = await pg_create(PG_FOREST_DB)
            await create_schema(url)
            seconds = await load_postgresql(forest, pg_dsn(PG_FOREST_DB))
            how = "COPY (asyncpg copy_records_to_table), indexes rebuilt after, VACUUM ANALYZE"
        else:
            path = self.tmp / "forest.db"
            url = f"sqlite+aiosqlite:///{path}"
            await create_schema(url)
            seconds = load_sqlite(forest, str(path))
            how = f"executemany in one transaction, indexes rebuilt after; file {path.stat().st_size / 2**20:,.0f} MiB"
        self.add(info("forest", f"load {forest.n:,} users", backend, seconds, "s", how))
        self._urls[backend] = url
        return url

    async def scratch_database(self, backend: str, name: str) -> str:
        """A fresh, migrated database of a benchmark's own (`bench_<name>` on PostgreSQL), dropped at the end."""
        if backend == "postgresql":
            database = f"bench_{name}"
            self._scratch.add(database)
            url = await pg_create(database)
        else:
            path = self.tmp / f"{name}.db"
            path.unlink(missing_ok=True)
            url = f"sqlite+aiosqlite:///{path}"
        await create_schema(url)
        return url

    async def close(self) -> None:
        if "postgresql" in self._urls:
            await pg_drop(PG_FOREST_DB)
        for database in sorted(self._scratch):
            await pg_drop(database)
        shutil.rmtree(self.tmp, ignore_errors=True)
