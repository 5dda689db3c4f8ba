"""End-to-end tests: the real bot process against the fake Telegram Bot API.

Every test here is marked `e2e` (deselect with `-m "not e2e"`). One bot process
serves a whole module, since starting one costs seconds; each module gets its
own fake server and its own fresh database (SQLite in a temporary directory, or
TEST_DATABASE_URL — PostgreSQL, whose public schema is dropped and recreated).

An e2e module declares:

    from harness import E2E, BotHarness, TgUser  # tests/e2e is on sys.path

    pytestmark = E2E  # = pytest.mark.asyncio(loop_scope="module"): tests share bot_proc's event loop

    # optional, read when the module's bot starts:
    BOT_ENV = {"REFERRAL_LEVELS": "3"}   # extra environment for the bot process
    BOT_WEBHOOK = True                   # webhook mode instead of long polling
    FAKE_OPTIONS = {"flood": True}       # keyword arguments for FakeTelegram

    async def test_start_answers(bot_proc: BotHarness, new_user):
        alice = new_user()
        [reply] = await bot_proc.send(alice, "/start")
        assert reply.text

(The module-scoped loop is also applied here to e2e tests that forget the
pytestmark, since a test on another loop than the fake server would hang.)

Fixtures: `bot_proc` (module: the BotHarness), `fake` (module: bot_proc.fake),
`new_user(**fields)` (a TgUser with an id no other test has used), `admin`
(the user in ADMIN_IDS).

A test fails if, while it ran, the bot's log gained a line with Traceback,
ERROR or CRITICAL (handlers log their exceptions). To tolerate an expected line,
mark the test `@pytest.mark.allow_log(r"regex", ...)`. Lines logged between
tests are reported by the next test; lines logged at shutdown by the module's
teardown.
"""
from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from harness import ADMIN, BotHarness, FakeTelegram, TgUser, make_user, running_bot

E2E_DIR = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_log(*patterns): bot log lines matching these regexes do not fail the test"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.e2e)
        marker = item.get_closest_marker("asyncio")
        if marker is not None and not (marker.kwargs.get("loop_scope") or marker.kwargs.get("scope")):
            item.add_marker(pytest.mark.asyncio(loop_scope="module"), append=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):  # noqa: ANN201
    harness = getattr(item, "funcargs", {}).get("bot_proc")
    if not isinstance(harness, BotHarness):
        return (yield)
    allow = [pattern for mark in item.iter_markers("allow_log") for pattern in mark.args]
    failed = True
    try:
        result = yield
        failed = False
        return result
    finally:
        problems = harness.take_log_problems(allow)
        if problems and not failed:
            pytest.fail("the bot logged errors during this test:\n" + "\n".join(problems), pytrace=False)
        if problems:  # the test failed anyway; show the bot's errors with its failure
            item.add_report_section("call", "bot errors", "\n".join(problems))


# Every scenario runs under each runtime: operators pick one, users must not notice which.
RUNTIMES = [name for name in os.environ.get("E2E_RUNTIMES", "aiogram,ptb").split(",") if name]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=RUNTIMES)
async def bot_proc(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotHarness]:
    module = request.module
    workdir = tmp_path_factory.mktemp(f"e2e-{module.__name__.rpartition('.')[2]}-{request.param}")
    async with running_bot(
        workdir,
        extra_env={"BOT_FRAMEWORK": request.param, **getattr(module, "BOT_ENV", {})},
        webhook=getattr(module, "BOT_WEBHOOK", False),
        fake_options=getattr(module, "FAKE_OPTIONS", None),
    ) as harness:
        yield harness


@pytest.fixture(scope="module")
def fake(bot_proc: BotHarness) -> FakeTelegram:
    return bot_proc.fake


@pytest.fixture
def new_user() -> Callable[..., TgUser]:
    return make_user


@pytest.fixture
def admin() -> TgUser:
    return ADMIN
