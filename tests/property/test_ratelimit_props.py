"""Property: whatever the requests, granted send times stay within every limit in every sliding window.

The limiter's decision (`try_acquire`, which `acquire` loops on) is driven by
a discrete-event simulation: each request arrives at its time and, when told
to wait, asks again exactly when told, as `acquire` would after sleeping.
"""
from __future__ import annotations

import asyncio
import heapq
from bisect import bisect_left
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.outbox.ratelimit import InProcessRateLimiter, Limit

TOLERANCE = 1e-6  # the limiter's float-rounding allowance

times = st.integers(0, 1500).map(lambda x: x / 25)  # 0..60 s, in steps that collide often
chats = st.sampled_from([1, 2, 3, 4, 5, -100, -200]) | st.integers(-10**12, 10**12).filter(bool)


def within_limit(grants: list[float], limit: Limit) -> bool:
    grants = sorted(grants)
    for i, start in enumerate(grants):
        end = bisect_left(grants, start + limit.per - TOLERANCE)
        if end - i > limit.count:
            return False
    return True


async def simulate(lim: InProcessRateLimiter, now: list[float], requests, pauses):  # noqa: ANN001, ANN201
    events = []
    for seq, (t, chat) in enumerate(requests):
        heapq.heappush(events, (t, 0, seq, "request", chat))
    for seq, (t, seconds) in enumerate(pauses):
        heapq.heappush(events, (t, 1, seq, "pause", seconds))
    grants: list[tuple[int, float, float, int]] = []  # (order, requested, granted, chat)
    pauses_seen: list[tuple[int, float, float]] = []  # (order, at, seconds)
    asked = {}
    order = 0
    steps = 0
    while events:
        steps += 1
        assert steps < 200_000, "the simulation does not converge"
        t, _, seq, kind, value = heapq.heappop(events)
        now[0] = t
        order += 1
        if kind == "pause":
            await lim.pause(value)
            pauses_seen.append((order, t, value))
            continue
        asked.setdefault(seq, t)
        wait = lim.try_acquire(value)
        if wait <= 0:
            grants.append((order, asked[seq], t, value))
        else:
            assert wait > 0
            heapq.heappush(events, (t + wait, 0, seq, "request", value))
    return grants, pauses_seen


@settings(max_examples=150, deadline=None)
@given(
    requests=st.lists(st.tuples(times, chats), max_size=120),
    pauses=st.lists(st.tuples(times, st.integers(1, 30).map(float)), max_size=3),
    global_count=st.integers(1, 30),
    group_count=st.integers(1, 20),
    group_per=st.sampled_from([3.0, 60.0]),
    prune_every=st.sampled_from([1, 5, 4096]),
    smooth=st.booleans(),
)
def test_granted_sends_never_exceed_any_limit(requests, pauses, global_count, group_count, group_per, prune_every,
                                              smooth):
    now = [0.0]
    global_limit, private_limit, group_limit = Limit(global_count, 1.0), Limit(1, 1.0), Limit(group_count, group_per)
    lim = InProcessRateLimiter(
        global_limit=global_limit, private_limit=private_limit, group_limit=group_limit,
        clock=lambda: now[0], prune_every=prune_every, smooth=smooth,
    )
    grants, pauses_seen = asyncio.run(simulate(lim, now, requests, pauses))

    assert len(grants) == len(requests)  # everyone is served eventually
    assert all(granted >= requested for _, requested, granted, _ in grants)
    assert within_limit([g for _, _, g, _ in grants], global_limit)
    if smooth:  # evenly spaced: never two grants within 1/count of a window
        assert within_limit([g for _, _, g, _ in grants], Limit(1, global_limit.per / global_limit.count))
    per_chat = defaultdict(list)
    for _, _, granted, chat in grants:
        per_chat[chat].append(granted)
    for chat, chat_grants in per_chat.items():
        assert within_limit(chat_grants, group_limit if chat < 0 else private_limit), chat
    for paused_order, at, seconds in pauses_seen:
        for order, _, granted, _ in grants:
            if order > paused_order:
                assert granted >= at + seconds - TOLERANCE
