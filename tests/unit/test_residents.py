"""/residents: the per-station funnel by today / this week / all time, each step by its own time,
in a constant number of statements; and the CSV export (header, masked names, no ids, BOM)."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import event

from bot.services.residents import period_starts
from tests.conftest import T0
from tests.support import callback, message, person
from tests.unit.test_stations import AGENT, OTHER_AGENT, STRANGER, add_station, agent, make_agent, say

SHANGHAI = ZoneInfo("Asia/Shanghai")
R1, R2, R3, R4, R5, R6, R7 = 5101, 5102, 5103, 5104, 5105, 5106, 5107


def at(clock, moment: datetime) -> None:  # noqa: ANN001
    clock.at = moment


async def submit(intake, kind: str, uid: int, occurred: datetime, **fields: object) -> None:  # noqa: ANN001
    raw = json.dumps({"id": f"{kind}-{uid}-{occurred.timestamp()}", "type": kind, "occurred_at": occurred.isoformat(),
                      "user": {"telegram_id": uid}, **fields}).encode()
    result = await intake.submit(raw, received_at=T0)
    assert result.http_status == 202, result


async def scene(app, pipeline, transport, intake) -> tuple[str, str]:  # noqa: ANN001
    """Two stations of AGENT; residents bound last week, this week and today; their conversions.

    T0 is Thursday 2026-11-26 10:00 in Shanghai: today starts 11-26 00:00, the week on Monday 11-23.
    """
    clock = app.clock
    last_week, tuesday, monday = T0 - timedelta(days=10), T0 - timedelta(days=2), T0 - timedelta(days=3)
    at(clock, last_week)
    await make_agent(app, pipeline)
    await make_agent(app, pipeline, OTHER_AGENT)
    s1 = await add_station(pipeline, transport, "=Happy Lane")
    s2 = await add_station(pipeline, transport, "幸福里社区站")
    theirs = await add_station(pipeline, transport, "Theirs", uid=OTHER_AGENT)
    await say(pipeline, transport, person(R1, "Barbara"), f"/start {s1}")
    at(clock, tuesday)
    await say(pipeline, transport, person(R2, "王小明"), f"/start {s1}")
    await say(pipeline, transport, person(STRANGER, "Sam"), "/start")  # knows the bot already
    at(clock, T0)
    await say(pipeline, transport, person(R3, "Al"), f"/start {s1}")
    await say(pipeline, transport, person(STRANGER, "Sam"), f"/start {s1}")  # opened, not bound
    await say(pipeline, transport, person(R5, "Eve"), f"/start {s2}")
    await say(pipeline, transport, person(R6, "Other"), f"/start {theirs}")  # another agent's resident
    await pipeline.handle(message(agent(), "/code"))
    personal = transport.last(AGENT).text.split("start=")[1].split()[0]
    await say(pipeline, transport, person(R7, "Pers"), f"/start {personal}")  # the agent's, but no station
    await say(pipeline, transport, agent(), f"/station rename {s1} Happy Lane North")  # R1..R3 keep the old label

    await submit(intake, "credit_approved", R1, last_week + timedelta(hours=1))
    await submit(intake, "credit_approved", R2, T0)
    await submit(intake, "credit_approved", R7, T0)
    await submit(intake, "credit_approved", R6, T0)
    await submit(intake, "first_loan", R1, monday, amount_fen=100_000)
    await submit(intake, "first_loan", R2, T0, amount_fen=100_000)
    await submit(intake, "first_loan", R7, T0, amount_fen=100_000)
    await submit(intake, "repayment_on_time", R1, tuesday, loan_id="L1-1")
    await submit(intake, "repayment_on_time", R1, T0, loan_id="L1-2")
    await submit(intake, "repayment_on_time", R2, T0, loan_id="L2-1")
    await submit(intake, "repayment_on_time", R6, T0, loan_id="L6-1")
    return s1, s2


def test_today_and_this_week_start_at_local_midnight_and_monday():
    day, week = period_starts(T0, SHANGHAI)
    assert day == datetime(2026, 11, 25, 16, tzinfo=timezone.utc)  # 11-26 00:00 +08:00
    assert week == datetime(2026, 11, 22, 16, tzinfo=timezone.utc)  # Monday 11-23 00:00 +08:00
    sunday_night = datetime(2026, 11, 29, 15, 59, tzinfo=timezone.utc)  # Sunday 23:59 local
    assert period_starts(sunday_night, SHANGHAI)[1] == week
    assert period_starts(sunday_night + timedelta(minutes=1), SHANGHAI)[1] == week + timedelta(days=7)


async def test_the_funnel_counts_each_step_by_its_own_time(app, pipeline, transport, intake):
    s1, s2 = await scene(app, pipeline, transport, intake)
    before = len(transport.to(AGENT))
    await pipeline.handle(message(agent(), "/residents"))
    [answer] = transport.to(AGENT)[before:]
    text = answer.text
    assert "today (2026-11-26) · this week (from Monday 2026-11-23) · all time" in text
    station1 = text.split(f"<code>{s1}</code>")[1].split("\n\n")[0]
    assert station1.splitlines()[1:] == [
        "Opened the link: 2 · 3 · 4",  # R3 and Sam today, R2 on Tuesday, R1 last week
        "Bound: 1 · 2 · 3",
        "Credit approved: 1 · 1 · 2",  # R2 today; R1 last week
        "First loan: 1 · 2 · 2",  # R2 today; R1 on Monday
        "On-time repayments: 2 · 3 · 3",  # repayments, not people
    ]
    assert text.split(f"<code>{s1}</code>")[0].endswith("<b>Happy Lane North</b> · ")  # today's label
    station2 = text.split(f"<code>{s2}</code>")[1].split("\n\n")[0]
    assert station2.splitlines()[1:] == ["Opened the link: 1 · 1 · 1", "Bound: 1 · 1 · 1",
                                         "Credit approved: 0 · 0 · 0", "First loan: 0 · 0 · 0",
                                         "On-time repayments: 0 · 0 · 0"]
    everything = text.split("<b>All 2 stations</b>")[1].split("\n\n")[0]
    assert everything.splitlines()[1:3] == ["Opened the link: 3 · 4 · 5", "Bound: 2 · 3 · 4"]
    assert [b.callback_data for b in answer.buttons()] == ["res:csv"]


async def test_the_funnel_costs_the_same_statements_for_2_or_20_residents(app, pipeline, transport):
    await make_agent(app, pipeline)
    code = await add_station(pipeline, transport, "Happy Lane")
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    async def measured() -> int:
        statements.clear()
        event.listen(app.engine.sync_engine, "before_cursor_execute", count)
        try:
            await pipeline.handle(message(agent(), "/residents"))
        finally:
            event.remove(app.engine.sync_engine, "before_cursor_execute", count)
        return len(statements)

    for uid in range(6000, 6002):
        await say(pipeline, transport, person(uid, "R"), f"/start {code}")
    few = await measured()
    for uid in range(6002, 6020):
        await say(pipeline, transport, person(uid, "R"), f"/start {code}")
    assert await measured() == few
    assert few <= 12


async def test_no_stations_and_no_residents_yet(app, pipeline, transport):
    await make_agent(app, pipeline)
    assert "no stations yet" in await say(pipeline, transport, agent(), "/residents")
    await add_station(pipeline, transport, "Happy Lane")
    await pipeline.handle(message(agent(), "/residents"))
    last = transport.last(AGENT)
    assert "No residents are bound through your stations yet." in last.text and not last.buttons()
    await pipeline.handle(callback(agent(), "res:csv"))  # an old button: nothing to export
    answer = transport.sent[-1]
    assert answer.method == "answer_callback" and answer.extra["alert"] and "No residents" in answer.text


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())  # UTF-8 BOM: Excel opens Chinese correctly
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def test_the_export_button_sends_a_csv_with_masked_names_and_no_ids(app, pipeline, transport, intake):
    s1, s2 = await scene(app, pipeline, transport, intake)
    await pipeline.handle(callback(agent(), "res:csv"))
    answered, document = transport.sent[-2:]
    assert answered.method == "answer_callback" and not answered.extra["alert"]
    assert document.method == "send_document" and document.extra["filename"] == "residents-20261126.csv"
    assert "Residents bound through your stations: 4" in document.text
    data = document.extra["data"]
    rows = read_csv(data)
    assert rows == [
        ["Station", "Code", "Resident", "Bound at", "Credit approved", "First loan", "On-time repayments"],
        # the label each was bound under (since renamed); one starting with = is not a formula
        ["'=Happy Lane", s1, "Bar***", "2026-11-16 10:00", "2026-11-16", "2026-11-23", "2"],
        ["'=Happy Lane", s1, "王***", "2026-11-24 10:00", "2026-11-26", "2026-11-26", "1"],
        ["'=Happy Lane", s1, "A***", "2026-11-26 10:00", "", "", "0"],
        ["幸福里社区站", s2, "E***", "2026-11-26 10:00", "", "", "0"],
    ]
    text = data.decode("utf-8-sig")
    for secret in (R1, R2, R3, R5, R6, R7, STRANGER, AGENT, "Barbara", "王小明", "Eve"):
        assert str(secret) not in text


async def test_the_csv_headings_follow_the_agents_language(app, pipeline, transport):
    await make_agent(app, pipeline, lang="zh-hans")
    code = await add_station(pipeline, transport, "幸福里")
    await say(pipeline, transport, person(R1, "Barbara"), f"/start {code}")
    await pipeline.handle(callback(agent(lang="zh-hans"), "res:csv"))
    rows = read_csv(transport.sent[-1].extra["data"])
    assert rows[0] == ["站点", "邀请码", "居民", "绑定时间", "授信通过", "首笔借款", "按时还款次数"]
    assert rows[1][:3] == ["幸福里", code, "Bar***"]
