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


async def _referrer_with(app, pipeline, transport, n: int, base: int = 800) -> str:  # noqa: ANN001
    await pipeline.handle(message(person(base, "Root"), "/code"))
    code = re.search(r"start=(\w+)", transport.last(base).text).group(1)
    for i in range(n):
        # Masked as N00***, N01***, ...: the rows tell who is who.
        await pipeline.handle(message(person(base + 1 + i, f"N{i:02d}Kim", lang="en"), f"/start {code}"))
        app.clock.advance(minutes=1)
    return code


def _rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if " · " in line]


async def test_pages_carry_where_they_continue_so_a_newcomer_does_not_repeat_a_row(app, pipeline, transport):
    """The next page starts after the last row shown (a keyset in the button), so someone joining
    between two pages neither repeats a row nor hides one; back goes to the rows shown before."""
    code = await _referrer_with(app, pipeline, transport, 25)
    root = person(800, "Root", lang="en")
    await pipeline.handle(message(root, "/invites"))
    first = transport.last(800)
    [nxt] = first.buttons()
    assert nxt.callback_data.startswith("inv:1:n:") and len(nxt.callback_data.encode()) <= 64
    await pipeline.handle(message(person(900, "Late", lang="en"), f"/start {code}"))  # newest of all now
    await pipeline.handle(callback(root, nxt.callback_data))
    second = transport.last(800)

    def names(text: str) -> list[str]:
        return [row.split(". ", 1)[1].split(" · ")[0] for row in _rows(text)]

    # N24 is the newest of the 25 and N15 the tenth: page two goes on with N14, whoever came since.
    assert names(first.text) == [f"N{i:02d}***" for i in range(24, 14, -1)]
    assert names(second.text) == [f"N{i:02d}***" for i in range(14, 4, -1)]
    prev, _ = second.buttons()
    assert prev.callback_data.startswith("inv:0:p:")
    await pipeline.handle(callback(root, prev.callback_data))
    assert _rows(transport.last(800).text) == _rows(first.text)


async def test_old_and_malformed_page_buttons_still_get_a_page(app, pipeline, transport):
    await _referrer_with(app, pipeline, transport, 12)
    root = person(800, "Root", lang="en")
    await pipeline.handle(callback(root, "inv:1"))  # a button sent before pages carried their start
    assert len(_rows(transport.last(800).text)) == 2
    for data in ("inv:1:x:12:5", "inv:1:n:abc:5", "inv:1:n:1:2:3", "inv:-1:n:1:1", "inv:1:n:" + "9" * 30 + ":1",
                 "inv:", "inv:1:p"):
        await pipeline.handle(callback(root, data))
        shown = transport.last(800)
        assert shown.method == "edit_message" and len(_rows(shown.text)) == 10, data  # page one
