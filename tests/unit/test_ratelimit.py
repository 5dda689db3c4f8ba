"""The rate limiter in virtual time: no real sleeps, exact and deterministic."""
from __future__ import annotations

import asyncio
import heapq
import itertools

import pytest

from bot.outbox.ratelimit import InProcessRateLimiter, Limit


class VirtualTime:
    """A clock and sleep whose time moves only when every task is waiting on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._seq), future))
        await future

    async def run(self, *coros):  # noqa: ANN002, ANN201
        tasks = [asyncio.ensure_future(c) for c in coros]
        while True:
            for _ in range(20):  # let everything that can run, run
                await asyncio.sleep(0)
            if all(t.done() for t in tasks):
                return [t.result() for t in tasks]
            assert self._sleepers, "deadlock: tasks wait on something other than virtual time"
            when, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            future.set_result(None)


def limiter(vt: VirtualTime, **kw) -> InProcessRateLimiter:  # noqa: ANN003
    return InProcessRateLimiter(clock=vt.time, sleep=vt.sleep, **kw)


async def send_times(vt: VirtualTime, lim: InProcessRateLimiter, chats: list[int], start: float = 0.0) -> list[float]:
    async def one(chat: int) -> float:
        if start:
            await vt.sleep(start)
        await lim.acquire(chat)
        return vt.now

    return await vt.run(*(one(c) for c in chats))


async def test_global_limit_spreads_100_chats_over_seconds():
    vt = VirtualTime()
    times = await send_times(vt, limiter(vt), list(range(1, 101)))
    assert max(times) >= 100 / 30 - 1
    assert max(times) <= 100 / 30 + 1  # throttled, not starved
    for t in times:  # never more than 30 inside any one-second window
        assert sum(1 for u in times if t <= u < t + 1) <= 30


async def test_one_private_chat_gets_one_message_per_second():
    vt = VirtualTime()
    times = await send_times(vt, limiter(vt), [7] * 5)
    assert sorted(times) == pytest.approx([0, 1, 2, 3, 4])


async def test_one_group_gets_twenty_messages_per_minute():
    vt = VirtualTime()
    times = sorted(await send_times(vt, limiter(vt), [-1001] * 25))
    assert times[-1] >= 60
    assert times[:20] == [0.0] * 20
    assert times[20:] == pytest.approx([60.0] * 5)


async def test_different_chats_do_not_wait_for_each_other():
    vt = VirtualTime()
    times = await send_times(vt, limiter(vt), [1, 2, 3, -5, -6])
    assert times == [0.0] * 5


async def test_pause_blocks_every_chat_including_waiters_already_sleeping():
    vt = VirtualTime()
    lim = limiter(vt)

    async def scenario() -> list[float]:
        await lim.acquire(1)  # t=0; chat 1 next allowed at t=1

        async def later(chat: int) -> float:
            await lim.acquire(chat)
            return vt.now

        waiter = asyncio.ensure_future(later(1))  # sleeping until t=1
        await vt.sleep(0.5)
        await lim.pause(10)  # the 429 arrives at t=0.5
        await lim.pause(2)  # a shorter pause never shortens a longer one
        others = [asyncio.ensure_future(later(c)) for c in (2, 3, -4)]
        return [await waiter] + [await o for o in others]

    (times,) = await vt.run(scenario())
    assert min(times) >= 10.5
    assert times == pytest.approx([10.5] * 4)


async def test_limits_are_configurable():
    vt = VirtualTime()
    lim = limiter(vt, global_limit=Limit(2, 1.0), private_limit=Limit(3, 1.0))
    times = sorted(await send_times(vt, lim, [1, 1, 1, 2]))
    assert times == pytest.approx([0, 0, 1, 1])


async def test_idle_chats_are_forgotten():
    vt = VirtualTime()
    lim = limiter(vt, prune_every=10)
    await send_times(vt, lim, list(range(1, 11)))
    vt.now = 100.0
    await send_times(vt, lim, list(range(11, 21)))
    assert set(lim._chats) <= set(range(11, 21))


async def test_the_bot_stays_just_under_telegram_and_evenly_spaced():
    vt = VirtualTime()
    lim = InProcessRateLimiter.just_under_telegram(clock=vt.time, sleep=vt.sleep)
    times = sorted(await send_times(vt, lim, list(range(1, 301))))
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) == pytest.approx(1.05 / 30)  # one at a time, not bursts of 30
    assert times[-1] == pytest.approx(299 * 1.05 / 30)  # 28.6 a second: 5% under 30
    for t in times:
        assert sum(1 for u in times if t <= u < t + 1) <= 29


async def test_paid_sends_have_their_own_budget_of_a_thousand_a_second():
    vt = VirtualTime()
    lim = limiter(vt)

    async def one(chat: int, paid: bool) -> float:
        await lim.acquire(chat, paid=paid)
        return vt.now

    paid = await vt.run(*(one(c, True) for c in range(1, 1001)))
    assert max(paid) == 0.0  # a thousand at once
    more = await vt.run(one(5000, True), one(5001, False))
    assert more == pytest.approx([1.0, 1.0])  # the 1,001st waits, and free sends count toward the 1,000 too
    vt2 = VirtualTime()
    lim = limiter(vt2)
    times = await send_times(vt2, lim, list(range(1, 61)))
    assert max(times) >= 1.0  # free sends alone stay at 30 a second


async def test_a_noted_reply_is_never_held_but_the_outbox_waits_for_it():
    vt = VirtualTime()
    lim = InProcessRateLimiter.just_under_telegram(clock=vt.time, sleep=vt.sleep)
    for chat in range(1, 31):  # 30 direct replies in one instant: all counted, none waited for
        lim.note(chat)
    assert lim.try_acquire(1) > 0.9  # that chat had its message this second
    assert lim.try_acquire(99) > 0.9  # and the whole budget for this second is spent
    (at,) = await send_times(vt, lim, [99])
    assert at >= 1.0
