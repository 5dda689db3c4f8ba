"""The real bot, run as a subprocess against FakeTelegram, for end-to-end tests.

`running_bot()` starts a fake Bot API server and `python -m bot.cli.main run`
configured only through environment variables, waits until the bot polls (or
has set its webhook), and yields a `BotHarness` to drive it. How a test module
uses it is described at the top of tests/e2e/conftest.py.

Set E2E_BOT_COMMAND (a shell-style command line) to run something else in place
of the bot, e.g. the ptb runtime under coverage or a stand-in script.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.fakes.telegram_server import Call, FakeTelegram, TgUser  # noqa: E402

__all__ = [
    "ADMIN", "BOT_TOKEN", "E2E", "REPO_ROOT", "BotHarness", "Call", "FakeTelegram", "TgUser",
    "make_user", "prepare_database", "running_bot",
]

# `pytestmark = E2E` in an e2e module: its tests share the module's event loop with bot_proc.
E2E = pytest.mark.asyncio(loop_scope="module")

BOT_TOKEN = "123456:TEST-token"
ADMIN = TgUser(900_001, "Admin", username="admin_user", language_code="en")
BOT_COMMAND_ENV = "E2E_BOT_COMMAND"
LOG_PROBLEM = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b")
# Where a new log record (or a harness marker) begins: "2026-01-31 12:00:00,123 ..." by default.
_RECORD_START = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|----- e2e harness")

# Passed through from the test run; everything else the bot sees is set here, so a developer's
# shell (or a .env file: the bot runs in a temporary directory) cannot change what a test means.
_INHERITED_ENV = (
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV",
    "SSL_CERT_FILE", "COVERAGE_PROCESS_START",
)

_user_ids = itertools.count(10_000_001)


def make_user(**fields: Any) -> TgUser:
    """A Telegram user no other test in this run has used (ids from 10_000_001 up)."""
    user_id = fields.pop("id", None) or next(_user_ids)
    fields.setdefault("first_name", f"User{user_id}")
    return TgUser(id=user_id, **fields)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def prepare_database(workdir: Path) -> str:
    """A fresh database for one module: a new SQLite file, or TEST_DATABASE_URL with an empty public schema."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not url:
        return f"sqlite+aiosqlite:///{workdir / 'bot.db'}"
    import asyncpg

    dsn = re.sub(r"^(postgres(?:ql)?)\+\w+://", r"\1://", url)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()
    return url


def _load_prctl() -> Any:
    with contextlib.suppress(OSError, AttributeError):
        return ctypes.CDLL(None).prctl
    return None


# Looked up now: between fork and exec the child may only make plain C calls (no imports, no locks).
_PRCTL = _load_prctl() if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1
_SIGTERM = int(signal.SIGTERM)


def _die_with_parent() -> None:
    # The bot gets SIGTERM if the test run dies without tearing down, instead of polling on as an orphan.
    _PRCTL(_PR_SET_PDEATHSIG, _SIGTERM)


class BotHarness:
    """One bot process (restartable) against one fake Bot API server and one database."""

    def __init__(
        self,
        fake: FakeTelegram,
        workdir: Path,
        db_url: str,
        *,
        extra_env: Mapping[str, str] | None = None,
        webhook: bool = False,
        command: list[str] | None = None,
        ready_timeout: float = 60.0,
        stop_timeout: float = 20.0,
    ) -> None:
        self.fake = fake
        self.workdir = workdir
        self.db_url = db_url
        self.log_path = workdir / "bot.log"
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.webhook = webhook
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.command = command or self._default_command()
        self.env = self._environment(extra_env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.ready_call: Call | None = None  # the getUpdates/setWebhook call that showed the last start was ready
        self._exit: asyncio.Future[int] | None = None
        self._log_checked = 0  # byte offset up to which the log was checked for problems

    @staticmethod
    def _default_command() -> list[str]:
        override = os.environ.get(BOT_COMMAND_ENV, "").strip()
        return shlex.split(override) if override else [sys.executable, "-m", "bot.cli.main", "run"]

    def _environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        env = {key: os.environ[key] for key in _INHERITED_ENV if key in os.environ}
        env.update(
            PYTHONPATH=str(REPO_ROOT),
            PYTHONUNBUFFERED="1",  # log lines reach the file as they are written
            BOT_TOKEN=self.fake.token,
            TELEGRAM_API_URL=self.fake.base_url,
            DATABASE_URL=self.db_url,
            ADMIN_IDS=str(ADMIN.id),
            BIND_WINDOW_HOURS="72",
            REFERRAL_LEVELS="2",
            API_HOST="127.0.0.1",
            # Chosen here rather than 0 so tests know where the bot's HTTP API (and webhook) listens.
            API_PORT=str(self.api_port),
            LOG_LEVEL="INFO",
        )
        if self.webhook:
            env.update(WEBHOOK_URL=f"{self.api_url}/telegram/webhook", WEBHOOK_SECRET=secrets.token_urlsafe(24))
        env.update({key: str(value) for key, value in extra.items()})
        return env

    # ------------------------------------------------------------------ process

    @property
    def running(self) -> bool:
        return self._exit is not None and not self._exit.done()

    @property
    def webhook_url(self) -> str | None:
        return self.env.get("WEBHOOK_URL")

    @property
    def webhook_secret(self) -> str | None:
        return self.env.get("WEBHOOK_SECRET")

    async def start(self) -> None:
        """Launch the bot and wait until it polls Telegram (or, in webhook mode, has set its webhook)."""
        if self.running:
            raise RuntimeError("the bot is already running")
        since = self.fake.mark()
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"----- e2e harness: start #{self.starts}: {shlex.join(self.command)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.command, cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent if _PRCTL is not None else None,
            )
        self._exit = asyncio.ensure_future(asyncio.to_thread(self.proc.wait))
        method = "setWebhook" if self.webhook else "getUpdates"
        ready = asyncio.ensure_future(
            self.fake.wait_for(lambda c: c.method == method, timeout=self.ready_timeout, since=since)
        )
        await asyncio.wait({ready, self._exit}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done() and not ready.exception():
            self.ready_call = ready.result()
            return
        ready.cancel()
        if self._exit.done():
            raise RuntimeError(
                f"the bot exited with status {self._exit.result()} before it was ready; log:\n{self.log_tail()}"
            )
        await self.kill()
        raise RuntimeError(f"the bot did not call {method} within {self.ready_timeout}s; log:\n{self.log_tail()}")

    async def stop(self) -> int | None:
        """Stop gracefully (SIGINT, as Ctrl-C would); SIGKILL and fail if it takes over stop_timeout."""
        if self.proc is None or self._exit is None:
            return None
        if not self._exit.done():
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(asyncio.shield(self._exit), self.stop_timeout)
            except TimeoutError:
                await self.kill()
                raise AssertionError(
                    f"the bot did not stop within {self.stop_timeout}s of SIGINT; log:\n{self.log_tail()}"
                ) from None
        return await self._exit

    async def kill(self) -> int | None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        if self.proc is None or self._exit is None:
            return None
        if not self._exit.done():
            self.proc.kill()
        return await self._exit

    async def restart(self) -> None:
        """Stop gracefully and start again on the same database and fake server."""
        await self.stop()
        await self.start()

    # ------------------------------------------------------------------ log

    def log_text(self) -> str:
        """Everything the bot process wrote to stdout and stderr, across restarts."""
        return self.log_path.read_text("utf-8", errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def take_log_problems(self, allow: Iterable[str] = ()) -> list[str]:
        """Traceback/ERROR/CRITICAL lines written since the last call, minus those matching `allow`.

        A multi-line record (a logged traceback) is reported whole, up to the next record.
        """
        if not self.log_path.exists():
            return []
        with open(self.log_path, "rb") as log:
            log.seek(self._log_checked)
            chunk = log.read()
        # Only whole lines: a record still being written is checked next time.
        end = chunk.rfind(b"\n") + 1
        self._log_checked += end
        allowed = [re.compile(pattern) for pattern in allow]
        problems: list[str] = []
        lines = chunk[:end].decode("utf-8", errors="replace").splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            index += 1
            if not LOG_PROBLEM.search(line) or any(p.search(line) for p in allowed):
                continue
            record = [line]
            while index < len(lines) and len(record) < 60 and not _RECORD_START.match(lines[index]):
                record.append(lines[index])  # the rest of a multi-line record: its traceback
                index += 1
            problems.append("\n".join(record))
        return problems

    # ------------------------------------------------------------------ talking to the bot

    def deliver(self, update: dict[str, Any]) -> dict[str, Any]:
        """Hand an update to the bot: the fake queues it for polling or posts it to the webhook."""
        return self.fake.push_update(update)

    async def replies(self, chat_id: int, since: int, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """The first `count` messages sent, copied or edited in this chat at call index >= since."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        found: list[Call] = []
        index = since
        while len(found) < count:
            try:
                call = await self.fake.wait_for(
                    lambda c: self.fake.is_message_to(c, chat_id), timeout=max(0.0, deadline - loop.time()), since=index
                )
            except TimeoutError:
                raise AssertionError(
                    f"the bot sent {len(found)} of {count} expected messages to chat {chat_id} within {timeout}s: "
                    f"{found}\nbot log:\n{self.log_tail()}"
                ) from None
            found.append(call)
            index = call.index + 1
        return found

    async def send(
        self, user: TgUser, text: str, *, chat: dict[str, Any] | int | None = None, count: int = 1,
        timeout: float = 10.0,
    ) -> list[Call]:
        """The user sends `text` (privately unless `chat`); returns the bot's first `count` replies in that chat."""
        since = self.fake.mark()
        update = self.deliver(self.fake.message(user, text, chat))
        return await self.replies(update["message"]["chat"]["id"], since, count, timeout)

    async def press(
        self, user: TgUser, message: dict[str, Any] | Call, button: str, *, count: int = 0, timeout: float = 10.0
    ) -> tuple[Call, list[Call]]:
        """The user presses the inline button labelled `button` on `message`.

        Waits for the bot's answerCallbackQuery and for `count` messages (edits included) in that chat;
        returns (the answerCallbackQuery call, the messages).
        """
        since = self.fake.mark()
        update = self.deliver(self.fake.click(user, message, button))
        query = update["callback_query"]
        answer = await self.fake.wait_for(
            lambda c: c.method == "answerCallbackQuery" and str(c.params.get("callback_query_id")) == query["id"],
            timeout=timeout, since=since,
        )
        messages = await self.replies(query["message"]["chat"]["id"], since, count, timeout) if count else []
        return answer, messages


@contextlib.asynccontextmanager
async def running_bot(
    workdir: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
    webhook: bool = False,
    fake_options: Mapping[str, Any] | None = None,
    command: list[str] | None = None,
) -> AsyncIterator[BotHarness]:
    """A started fake server and bot process; on exit both stop and the rest of the log is checked."""
    workdir.mkdir(parents=True, exist_ok=True)
    fake = FakeTelegram(BOT_TOKEN, **dict(fake_options or {}))
    await fake.start()
    harness: BotHarness | None = None
    try:
        db_url = await prepare_database(workdir)
        harness = BotHarness(fake, workdir, db_url, extra_env=extra_env, webhook=webhook, command=command)
        await harness.start()
        yield harness
    finally:
        try:
            if harness is not None:
                await harness.stop()
        finally:
            await fake.stop()
    problems = harness.take_log_problems()
    if problems:
        raise AssertionError("the bot logged errors after the last test (at shutdown?):\n" + "\n".join(problems))
    if fake.internal_errors:
        raise AssertionError(f"the fake Bot API server failed internally: {fake.internal_errors!r}")
