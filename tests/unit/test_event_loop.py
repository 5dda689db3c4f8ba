"""EVENT_LOOP: which event loop `referral-bot run` and the benchmarks run on."""
from __future__ import annotations

import asyncio

import pytest
import uvloop

from bot.config import ConfigError, load_settings
from bot.runtime.loop import new_runner, run


@pytest.mark.parametrize(("choice", "loop_class"), [("auto", uvloop.Loop), ("uvloop", uvloop.Loop),
                                                     ("asyncio", asyncio.BaseEventLoop)])
def test_each_choice_runs_its_loop(choice, loop_class):  # noqa: ANN001
    async def running() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    with new_runner(choice) as runner:
        loop = runner.run(running())
    assert isinstance(loop, loop_class)
    assert choice != "asyncio" or not isinstance(loop, uvloop.Loop)


def test_the_setting_is_read_and_checked(monkeypatch):  # noqa: ANN001
    monkeypatch.setenv("EVENT_LOOP", " AsyncIO ")
    assert load_settings(bot_token="1:x").event_loop == "asyncio"
    monkeypatch.setenv("EVENT_LOOP", "trio")
    with pytest.raises(ConfigError, match="EVENT_LOOP"):
        load_settings(bot_token="1:x")


def test_run_takes_the_loop_event_loop_names(monkeypatch):  # noqa: ANN001
    """The benchmarks' entry points: run(main) reads EVENT_LOOP, as `referral-bot run` reads its setting."""
    async def running() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    monkeypatch.setenv("EVENT_LOOP", "asyncio")
    assert not isinstance(run(running()), uvloop.Loop)
    monkeypatch.delenv("EVENT_LOOP")
    assert isinstance(run(running()), uvloop.Loop)
    assert not isinstance(run(running(), "asyncio"), uvloop.Loop)
