"""/invites: counts by level, masked names, local dates, pages."""
from __future__ import annotations

import re

from tests.support import callback, message, person


async def test_invites_counts_and_pages(app, pipeline, transport):
    await pipeline.handle(message(person(500, "Root"), "/code"))
    code = re.search(r"start=(\w+)", transport.last(500).text).group(1)
    for i in range(23):
        await pipeline.handle(message(person(600 + i, f"Friend{i:02d}", lang="en"), f"/start {code}"))
        app.clock.advance(minutes=1)
    await pipeline.handle(message(person(600), "/code"))
    code_child = re.search(r"start=(\w+)", transport.last(600).text).group(1)
    await pipeline.handle(message(person(700, "Grandchild"), f"/start {code_child}"))

    await pipeline.handle(message(person(500, "Root", lang="en"), "/invites"))
    page = transport.last(500)
    assert "Level 1: 23 people" in page.text and "Level 2: 1 person" in page.text
    assert "Fri***" in page.text and "Friend" not in page.text
    # newest first, dates shown in Asia/Shanghai (T0 is 02:00 UTC = 10:00 in Shanghai, same day)
    assert page.text.index("1. ") < page.text.index("10. ")
    assert "2026-11-26" in page.text
    assert page.text.count(" · ") == 10
    [nxt] = page.buttons()
    await pipeline.handle(callback(person(500, "Root", lang="en"), nxt.callback_data))
    second = transport.last(500)
    assert second.method == "edit_message" and "11. " in second.text and second.text.count(" · ") == 10
    prev, nxt = second.buttons()
    await pipeline.handle(callback(person(500, "Root", lang="en"), nxt.callback_data))
    third = transport.last(500)
    assert third.text.count(" · ") == 3 and len(third.buttons()) == 1


async def test_invites_empty(pipeline, transport):
    await pipeline.handle(message(person(510, lang="en"), "/invites"))
    assert "Nobody" in transport.last(510).text and transport.last(510).keyboard is None
