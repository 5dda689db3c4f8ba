"""QR rendering: the time of one render_qr_png, and that a repeated /code renders nothing.

The second part runs two /code updates for one new user through the real path
(aiogram Dispatcher → pipeline → handler → AiogramTransport → stub session,
which answers sendPhoto with a photo file_id like Telegram does) and counts
calls to render_qr_png by wrapping the name the handler calls.
"""
from __future__ import annotations

import time

from bench.common import at_most, create_schema, make_app, ms, pct
from bench.stub import BOT_USERNAME, command_update, stub_bot
from bench.suite import Suite
from bot.runtime.aiogram.adapter import AiogramTransport
from bot.runtime.aiogram.runtime import make_dispatcher
from bot.runtime.pipeline import Pipeline
from bot.services.codes import deep_link, new_code
from bot.services.qr import render_qr_png

TARGET_MS = 6.0


async def run(suite: Suite) -> None:
    _render_time(suite)
    await _repeated_code(suite)


def _render_time(suite: Suite) -> None:
    links = [deep_link(BOT_USERNAME, new_code()) for _ in range(suite.sizes.qr_renders)]
    for link in links[:20]:
        render_qr_png(link)
    samples, size = [], 0
    for link in links:
        t = time.perf_counter()
        size = len(render_qr_png(link))
        samples.append(time.perf_counter() - t)
    p50, p99 = ms(pct(samples, 50)), ms(pct(samples, 99))
    note = f"{len(samples):,} deep links; PNG {size:,} bytes"
    suite.add(at_most("qr", "render_qr_png p50", "-", p50, TARGET_MS, "ms", note))
    suite.add(at_most("qr", "render_qr_png p99", "-", p99, TARGET_MS, "ms", note))


async def _repeated_code(suite: Suite) -> None:
    import handlers.code as code_handler

    url = f"sqlite+aiosqlite:///{suite.tmp / 'qr.db'}"
    await create_schema(url)
    app = make_app(url)
    bot = stub_bot(product=True)
    dp = make_dispatcher(Pipeline(app, AiogramTransport(bot)))
    renders: list[str] = []
    original = code_handler.render_qr_png

    def counting(data: str, *args, **kwargs) -> bytes:  # noqa: ANN002, ANN003
        renders.append(data)
        return original(data, *args, **kwargs)

    code_handler.render_qr_png = counting
    try:
        await dp.feed_update(bot, command_update(bot, 5_000_000_001, "/code"))
        first = len(renders)
        await dp.feed_update(bot, command_update(bot, 5_000_000_001, "/code"))
        second = len(renders) - first
    finally:
        code_handler.render_qr_png = original
        await app.close()
    photos = bot.session.calls["sendPhoto"]
    note = f"first /code rendered {first}, {photos} photos sent"
    figure = at_most("qr", "renders on a repeated /code", "sqlite", second, 0, "", note)
    if first != 1 or photos != 2:
        figure.ok = False
        figure.note += " — expected 1 render and 2 photos"
    suite.add(figure)
