"""The real process: start-up time and idle memory of `referral-bot run`, speed of operator commands.

`run` is started as `python -m bot.cli.main run` against a tiny Bot API stub
served from this process (getMe, setMyCommands, deleteWebhook → ok; getUpdates
long-polls and returns []), with a temporary SQLite database. Start-up is the
time from spawning the process to its first getUpdates; RSS is VmRSS from
/proc/<pid>/status after 2 s idle. Twice: on an empty database (migrates from
scratch) and again on the now-migrated one.

`user <id> --json` and `migrate` must not import aiogram (checked with
`-X importtime`) and finish within 0.5 s (median of 5 runs; 3 with --quick). The import cost of
aiogram alone is recorded for reference.
"""
from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path

from aiohttp import web

from bench.common import ROOT, at_most, info, median
from bench.suite import Suite

IDLE_SECONDS = 2.0
CLI = [sys.executable, "-m", "bot.cli.main"]


class FakeBotApi:
    """Just enough Bot API for the bot to start and poll."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.first_poll = asyncio.Event()
        self.first_poll_at = 0.0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def reset(self) -> None:
        self.calls.clear()
        self.first_poll = asyncio.Event()
        self.first_poll_at = 0.0

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        self.calls[method] += 1
        if method == "getupdates":
            if not self.first_poll.is_set():
                self.first_poll_at = time.perf_counter()
                self.first_poll.set()
            form = await request.post()
            await asyncio.sleep(min(float(form.get("timeout") or 0), 1.0))  # a short long-poll
            return web.json_response({"ok": True, "result": []})
        if method == "getme":
            return web.json_response({"ok": True, "result": {
                "id": 123, "is_bot": True, "first_name": "Bench", "username": "ReferralBenchBot",
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}})
        return web.json_response({"ok": True, "result": True})


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


async def run(suite: Suite) -> None:
    if not (ROOT / "bot" / "cli" / "main.py").exists():
        suite.add(info("startup", "referral-bot", "-", None, "", "bot/cli/main.py is missing: not measured"))
    else:
        db = suite.tmp / "startup.db"
        env = _env(BOT_TOKEN="123:abc", DATABASE_URL=f"sqlite+aiosqlite:///{db}", LOG_LEVEL="WARNING")
        api = FakeBotApi()
        await api.start()
        try:
            env["TELEGRAM_API_URL"] = api.url
            for label in ("empty database", "migrated database"):
                await _run_once(suite, api, env, label)
        finally:
            await api.stop()
        _seed_user(db, 42)
        runs = 3 if suite.quick else 5
        await _operator(suite, env, ["user", "42", "--json"], runs)
        await _operator(suite, env, ["migrate"], runs)
    await _aiogram_alone(suite, 3 if suite.quick else 5)


async def _run_once(suite: Suite, api: FakeBotApi, env: dict[str, str], label: str) -> None:
    api.reset()
    log = open(suite.tmp / "run.log", "ab")  # noqa: SIM115
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(*CLI, "run", env=env, cwd=suite.tmp, stdout=log, stderr=log)
    try:
        waiter = asyncio.ensure_future(api.first_poll.wait())
        exited = asyncio.ensure_future(proc.wait())
        await asyncio.wait({waiter, exited}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if not api.first_poll.is_set():
            waiter.cancel()
            tail = (suite.tmp / "run.log").read_text(errors="replace")[-300:].replace("\n", " ")
            suite.add(at_most("startup", f"`run` start-up, {label}", "sqlite", None, 3, "s",
                              f"never polled (exit {proc.returncode}): {tail}"))
            return
        startup = api.first_poll_at - started
        await asyncio.sleep(IDLE_SECONDS)
        rss, peak = _memory(proc.pid)
        calls = ", ".join(f"{k} {v}" for k, v in sorted(api.calls.items()))
        suite.add(at_most("startup", f"`run` start-up, {label}", "sqlite", startup, 3, "s",
                          f"spawn → first getUpdates; calls: {calls}"))
        suite.add(at_most("startup", f"`run` idle RSS, {label}", "sqlite", rss, 200, "MiB",
                          f"VmRSS after {IDLE_SECONDS:g} s idle; peak VmHWM {peak:.0f} MiB"))
    finally:
        if proc.returncode is None:
            stop = time.perf_counter()
            proc.send_signal(signal.SIGINT)
            try:
                code = await asyncio.wait_for(proc.wait(), 15)
                suite.add(info("startup", f"`run` stop on SIGINT, {label}", "sqlite", time.perf_counter() - stop, "s",
                               f"exit status {code}"))
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
                suite.add(info("startup", f"`run` stop on SIGINT, {label}", "sqlite", None, "s",
                               "did not stop within 15 s; killed"))
        log.close()


def _memory(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", float("nan")), fields.get("VmHWM", float("nan"))


def _seed_user(db: Path, user_id: int) -> None:
    con = sqlite3.connect(db)
    with con:
        con.execute("INSERT OR IGNORE INTO users (id, first_name, is_bot, role, status, first_seen_at) "
                    "VALUES (?, 'Bench', 0, 'user', 'active', '2026-01-01 00:00:00.000000')", (user_id,))
    con.close()


async def _timed(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(*args, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return time.perf_counter() - started, proc.returncode or 0, err if proc.returncode else out


async def _operator(suite: Suite, env: dict[str, str], argv: list[str], runs: int) -> None:
    name = " ".join(["referral-bot", *argv])
    times, codes = [], set()
    for _ in range(runs):
        seconds, code, _ = await _timed([*CLI, *argv], env, suite.tmp)
        times.append(seconds)
        codes.add(code)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-X", "importtime", "-m", "bot.cli.main", *argv,
                                                env=env, cwd=suite.tmp, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    modules = [line.rsplit("|", 1)[-1].strip() for line in err.decode(errors="replace").splitlines()
               if line.startswith("import time:") and "|" in line]
    telegram = [m for m in modules if m.split(".")[0] in ("aiogram", "telegram")]
    aiogram = [m for m in telegram if m.startswith("aiogram")]
    note = f"median of {runs}, min {min(times):.2f} s; exit status {sorted(codes)}; {len(modules)} modules imported"
    figure = at_most("startup", f"`{name}` wall time", "sqlite", median(times), 0.5, "s", note)
    if codes != {0}:
        figure.ok = False
    suite.add(figure)
    suite.add(at_most("startup", f"`{name}` aiogram modules imported", "-", len(aiogram), 0, "",
                      "-X importtime" + (f"; Telegram modules: {', '.join(telegram[:3])}…" if telegram else "")))


async def _aiogram_alone(suite: Suite, runs: int) -> None:
    probe = "import pathlib; {}; print([l for l in pathlib.Path('/proc/self/status').read_text().splitlines() " \
            "if l.startswith('VmRSS')][0].split()[1])"
    results = {}
    for label, statement in (("python", "pass"), ("aiogram", "import aiogram")):
        times, rss = [], 0.0
        for _ in range(runs):
            seconds, _, out = await _timed([sys.executable, "-c", probe.format(statement)], _env(), ROOT)
            times.append(seconds)
            rss = int(out.decode().strip()) / 1024
        results[label] = (median(times), rss)
    (t_py, rss_py), (t_ag, rss_ag) = results["python"], results["aiogram"]
    suite.add(info("startup", "`python -c 'import aiogram'` wall time", "-", t_ag, "s",
                   f"median of {runs}; bare interpreter {t_py:.3f} s, so aiogram ≈ {t_ag - t_py:.2f} s"))
    suite.add(info("startup", "`python -c 'import aiogram'` RSS", "-", rss_ag, "MiB",
                   f"bare interpreter {rss_py:.1f} MiB, so aiogram ≈ {rss_ag - rss_py:.0f} MiB"))
