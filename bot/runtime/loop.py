"""The event loop `referral-bot run` (and the benchmarks, to measure the same thing) runs on.

uvloop, where EVENT_LOOP allows it and it is installed: every update and every platform event is
a handful of socket round trips (Telegram, PostgreSQL, the HTTP API), and uvloop's libuv loop
spends about a third less CPU on each than asyncio's own. EVENT_LOOP=asyncio keeps asyncio's loop
(a platform without uvloop gets it anyway).
"""
from __future__ import annotations

import asyncio
import os
from typing import Any, Callable, Coroutine, TypeVar

T = TypeVar("T")

LOOPS = ("auto", "uvloop", "asyncio")


def loop_factory(choice: str = "auto") -> Callable[[], asyncio.AbstractEventLoop] | None:
    """None for asyncio's default loop. "uvloop" insists on it; "auto" takes it when installed."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise
        return None
    return uvloop.new_event_loop


def new_runner(choice: str = "auto") -> asyncio.Runner:
    return asyncio.Runner(loop_factory=loop_factory(choice))


def run(main: Coroutine[Any, Any, T], choice: str | None = None) -> T:
    """asyncio.run(main) on the chosen loop; `choice` None reads EVENT_LOOP (the benchmarks' way)."""
    with new_runner(choice if choice is not None else os.environ.get("EVENT_LOOP", "auto")) as runner:
        return runner.run(main)
