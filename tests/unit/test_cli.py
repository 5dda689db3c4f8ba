"""The operator command line: migrate, demo, user; config errors; no Telegram
library imported. (Their start-up time is a benchmark: bench/startup.py.)

Commands run as the operator runs them (a subprocess, `python -m
bot.cli.main`, in an empty directory so no stray .env is read), except where a
check loops over every demo user: that uses Typer's CliRunner in-process.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from bot.cli.demo import DEMO_BASE, demo_user
from bot.cli.main import app
from bot.config import Settings
from db.migrate import head
from tests.support import BACKENDS, PG_URL, pg_admin

ROOT = Path(__file__).resolve().parents[2]
SETTING_NAMES = {name.upper() for name in Settings.model_fields}
USER_KEYS = {"telegram_id", "language", "status", "codes", "referrer_id", "upline", "referrals_by_level",
             # issue "Rewards": money in fen, and what the platform reads about a referrer
             "balance", "earnings_by_level", "eligibility", "referee_perk", "quality_score", "program_version"}


def cli_env(database_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES and not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(ROOT)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def run_cli(cwd: Path, database_url: str | None, *args: str, python_flags: tuple[str, ...] = (),
            **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "bot.cli.main", *args],
        cwd=cwd, env=cli_env(database_url, **extra), capture_output=True, text=True, timeout=120,
    )


async def _pg_admin(statement: str) -> None:
    await pg_admin(PG_URL, statement)


@contextmanager
def scratch_database(backend: str, folder: Path, prefix: str) -> Iterator[str]:
    """A fresh, empty database for commands run as subprocesses: a SQLite file in `folder`, or a
    PostgreSQL database of its own, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'{prefix}.db'}"
        return
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _execute(url: str, statements: tuple[str, ...]) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


def execute(url: str, *statements: str) -> None:
    """Statements committed at once, in one transaction (`query` only reads)."""
    asyncio.run(_execute(url, statements))


async def _query(url: str, sql: str) -> list[tuple]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


def query(url: str, sql: str) -> list[tuple]:
    return asyncio.run(_query(url, sql))


@pytest.fixture(scope="module", params=BACKENDS)
def demo_db(request, tmp_path_factory):  # noqa: ANN001, ANN201
    """A database seeded once by `referral-bot demo` (default size, REFERRAL_LEVELS=2)."""
    work = tmp_path_factory.mktemp("demo")
    with scratch_database(request.param, work, "rb_cli") as url:
        done = run_cli(work, url, "demo")
        assert done.returncode == 0, done.stderr
        yield url, work, done.stdout


class Forest:
    """What `user` should say, recomputed from the stored bindings, codes and users."""

    def __init__(self, url: str) -> None:
        self.parent = dict(query(url, "SELECT referee_id, referrer_id FROM bindings"))
        self.users = {r[0]: r[1:] for r in query(url, "SELECT id, language, tg_language, status FROM users")}
        self.codes: dict[int, list[tuple[bool, int, str]]] = {}
        for owner, code_id, code, kind in query(url, "SELECT owner_id, id, code, kind FROM codes"):
            self.codes.setdefault(owner, []).append((kind != "personal", code_id, code))

    def chain(self, uid: int) -> list[int]:
        out = []
        while uid in self.parent:
            uid = self.parent[uid]
            out.append(uid)
        return out

    def expected(self, uid: int, levels: int) -> dict:
        language, tg_language, status = self.users[uid]
        if language is None:
            language = "en" if (tg_language or "").startswith("en") else "zh-CN"
        counts = {str(k): 0 for k in range(1, levels + 1)}
        for other in self.users:
            for distance, ancestor in enumerate(self.chain(other)[:levels], start=1):
                if ancestor == uid:
                    counts[str(distance)] += 1
        return {
            "telegram_id": uid,
            "language": language,
            "status": status,
            "codes": [c for _, _, c in sorted(self.codes.get(uid, []))],
            "referrer_id": self.parent.get(uid),
            "upline": self.chain(uid)[:levels],
            "referrals_by_level": counts,
        }


def test_demo_seeds_a_three_level_forest(demo_db) -> None:  # noqa: ANN001
    url, _, stdout = demo_db
    forest = Forest(url)
    assert len(forest.users) == 40
    assert all(DEMO_BASE <= uid < DEMO_BASE + 1_000_000 for uid in forest.users)
    depths = {uid: len(forest.chain(uid)) for uid in forest.users}
    assert {depths[u] for u in forest.users} == {0, 1, 2}  # roots, their referees, and theirs
    assert all(len(forest.codes[u]) >= 1 and not forest.codes[u][0][0] for u in forest.users)  # a personal code each
    assert query(url, "SELECT DISTINCT source FROM bindings") == [("seed",)]
    # the agent has station codes, and some referees came through them
    agent = DEMO_BASE
    assert query(url, f"SELECT role FROM users WHERE id = {agent}") == [("agent",)]
    stations = {cid for kind, cid, _ in forest.codes[agent] if kind}
    assert len(stations) == 2
    via = {r[0] for r in query(url, "SELECT code_id FROM bindings WHERE code_id IS NOT NULL")}
    assert via & stations
    # no join notice is left to go to an id that doesn't exist
    assert query(url, "SELECT count(*) FROM outbox") == [(0,)]
    # the closure and kept counts agree with the edges
    closure = query(url, "SELECT descendant_id, depth, ancestor_id FROM referral_closure")
    assert sorted(closure) == sorted((u, k, a) for u in forest.users
                                     for k, a in enumerate(forest.chain(u)[:2], start=1))
    assert "new users: 40" in stdout and "referral-bot user" in stdout


def test_user_json_matches_the_bindings_for_every_demo_user(demo_db, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    url, _, _ = demo_db
    monkeypatch.chdir(tmp_path)  # no .env from the repository
    forest = Forest(url)
    runner = CliRunner()
    for levels in (1, 2, 3):
        for uid in sorted(forest.users):
            result = runner.invoke(app, ["user", str(uid), "--json"],
                                   env={"DATABASE_URL": url, "REFERRAL_LEVELS": str(levels)})
            assert result.exit_code == 0, result.output
            got = json.loads(result.stdout)
            expected = forest.expected(uid, levels)
            assert {k: got[k] for k in expected} == expected, (uid, levels)
            # the demo has no platform events: every balance and earning is zero, in fen, per level
            assert got["balance"] == {"pending": 0, "available": 0, "paid": 0, "reversed": 0, "lapsed": 0, "owed": 0}
            assert got["earnings_by_level"] == {str(k): 0 for k in range(1, levels + 1)}


def test_user_json_of_a_level_three_user(demo_db) -> None:  # noqa: ANN001
    url, work, _ = demo_db
    leaf = next(u for u in map(demo_user, range(40)) if u.level == 3)
    parent = demo_user(leaf.parent)  # type: ignore[arg-type]
    done = run_cli(work, url, "user", str(leaf.id), "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    got = json.loads(lines[0])
    assert set(got) == USER_KEYS
    assert got["telegram_id"] == leaf.id
    assert got["referrer_id"] == parent.id
    assert got["upline"] == [parent.id, DEMO_BASE + parent.parent]  # type: ignore[operator]
    assert got["referrals_by_level"] == {"1": 0, "2": 0}
    assert got["status"] == "active" and got["language"] in ("zh-CN", "en")
    assert len(got["codes"]) == 1 and isinstance(got["codes"][0], str)

    root = run_cli(work, url, "user", str(DEMO_BASE), "--json")
    info = json.loads(root.stdout)
    assert info["upline"] == [] and info["referrer_id"] is None and len(info["codes"]) == 3
    assert info["referrals_by_level"]["1"] >= 1 and info["referrals_by_level"]["2"] >= 1

    table = run_cli(work, url, "user", str(leaf.id))
    assert table.returncode == 0 and str(parent.id) in table.stdout and "level-2 referrals" in table.stdout


def test_demo_twice_adds_nothing(demo_db) -> None:  # noqa: ANN001
    url, work, _ = demo_db
    tables = ("users", "codes", "bindings", "referral_closure", "referral_counts", "outbox")
    before = {t: query(url, f"SELECT count(*) FROM {t}") for t in tables}
    counts_before = sorted(query(url, "SELECT user_id, depth, count FROM referral_counts"))
    again = run_cli(work, url, "demo")
    assert again.returncode == 0, again.stderr
    assert "new users: 0, new bindings: 0" in again.stdout
    assert {t: query(url, f"SELECT count(*) FROM {t}") for t in tables} == before
    assert sorted(query(url, "SELECT user_id, depth, count FROM referral_counts")) == counts_before


def test_demo_grows_and_leaves_real_notices_alone(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'grow.db'}"
    assert run_cli(tmp_path, url, "migrate").returncode == 0
    query_sql = [
        "INSERT INTO users (id, first_name, is_bot, first_seen_at) VALUES (4242, 'Real', 0, '2026-01-01 00:00:00')",
        "INSERT INTO outbox (chat_id, kind, priority, text_key, args, state, attempts, not_before, created_at) "
        "VALUES (4242, 'join', 0, 'notice-joined', '{}', 'pending', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    ]

    async def prepare() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.begin() as conn:
            for sql in query_sql:
                await conn.execute(text(sql))
        await engine.dispose()

    asyncio.run(prepare())
    small = run_cli(tmp_path, url, "demo", "--users", "9")
    assert small.returncode == 0, small.stderr
    assert "new users: 9, new bindings: 7" in small.stdout  # 0 and 8 are roots
    bigger = run_cli(tmp_path, url, "demo", "--users", "20")
    assert bigger.returncode == 0, bigger.stderr
    assert "new users: 11" in bigger.stdout
    assert query(url, "SELECT count(*) FROM users WHERE id >= 9000000000000") == [(20,)]
    assert query(url, "SELECT chat_id, state FROM outbox") == [(4242, "pending")]


def test_migrate_reports_the_revision(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    first = run_cli(tmp_path, url, "migrate")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"migrated (empty) -> {head()} (head)"
    second = run_cli(tmp_path, url, "migrate", python_flags=("-X", "importtime"))
    assert second.stdout.strip() == f"up to date at {head()} (head)"
    # At head one SELECT says so: Alembic (and Mako, Pygments) stay out of a routine start.
    assert not {m for m in _imported_modules(second.stderr) if m.split(".")[0] in ("alembic", "mako")}


def test_unknown_user_exits_1_with_a_message(demo_db) -> None:  # noqa: ANN001
    url, work, _ = demo_db
    done = run_cli(work, url, "user", "12345", "--json")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip() == "no user with Telegram id 12345"


def test_user_without_a_database_says_so_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.db"
    done = run_cli(tmp_path, f"sqlite+aiosqlite:///{missing}", "user", "1")
    assert done.returncode == 1
    assert "referral-bot migrate" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not missing.exists()


@pytest.mark.parametrize(
    ("args", "env", "starts"),
    [
        (("user", "1", "--json"), {"REFERRAL_LEVELS": "9"}, "configuration error: REFERRAL_LEVELS"),
        (("migrate",), {"REFERRAL_LEVELS": "9"}, "configuration error: REFERRAL_LEVELS"),
        (("demo",), {"DEFAULT_LOCALE": "fr"}, "configuration error: DEFAULT_LOCALE"),
        (("migrate",), {"DATABASE_URL": "mysql://x"}, "configuration error: DATABASE_URL"),
        (("run",), {}, "configuration error: BOT_TOKEN"),
        (("run",), {"BOT_TOKEN": "not-a-token"}, "configuration error: BOT_TOKEN"),
    ],
)
def test_bad_configuration_is_one_line_and_exit_2(tmp_path: Path, args, env, starts) -> None:  # noqa: ANN001
    done = run_cli(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", *args, **env)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(starts), done.stderr


def _imported_modules(importtime_stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[1].strip() for line in importtime_stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


@pytest.mark.parametrize("args", [("user", str(DEMO_BASE), "--json"), ("migrate",), ("--help",)])
def test_operator_commands_import_no_telegram_library(demo_db, args) -> None:  # noqa: ANN001
    url, work, _ = demo_db
    done = run_cli(work, url, *args, python_flags=("-X", "importtime"))
    assert done.returncode == 0, done.stderr[-2000:]
    modules = _imported_modules(done.stderr)
    assert "sqlalchemy" in modules or args == ("--help",)  # the probe sees imports at all
    assert not {m for m in modules if m.split(".")[0] in ("aiogram", "telegram")}


def test_in_process_commands_leave_aiogram_unimported(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    probe = (
        "import sys\n"
        "from bot.cli.main import main\n"
        "for argv in (['migrate'], ['demo', '--users', '5'], ['user', '9000000000001', '--json']):\n"
        "    sys.argv = ['referral-bot', *argv]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, exc.code\n"
        "assert 'aiogram' not in sys.modules and 'telegram' not in sys.modules\n"
        "print('clean')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=cli_env(url),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("clean")
