"""Agents' /station add|list|rename|off|on through the real pipeline: who may, labels, codes, links,
someone else's and unknown codes, an off code binding nobody, station visits, the audit log and /help."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from bot.services.codes import ALPHABET
from bot.services.stations import clean_label
from db.models import AuditEntry, Binding, Code, CodeVisit
from tests.support import callback, message, person

AGENT, OTHER_AGENT, RESIDENT, STRANGER = 4001, 4002, 4003, 4004
ADMIN = 777  # in ADMIN_IDS (tests/conftest.py)
LINK = re.compile(r"https://t\.me/ReferralTestBot\?start=([A-Z0-9]+)")


def agent(uid: int = AGENT, lang: str = "en") -> object:
    return person(uid, "Agnes", lang=lang)


async def say(pipeline, transport, who, text: str, **kw) -> str:  # noqa: ANN001
    incoming = message(who, text, **kw)
    await pipeline.handle(incoming)
    return transport.last(incoming.chat_id).text


async def make_agent(app, pipeline, uid: int = AGENT, lang: str = "en") -> None:  # noqa: ANN001
    await pipeline.handle(message(agent(uid, lang), "/start"))
    async with app.uow() as uow:
        await uow.users.set_role(uid, "agent")
        await uow.commit()


async def add_station(pipeline, transport, label: str, uid: int = AGENT) -> str:  # noqa: ANN001
    answer = await say(pipeline, transport, agent(uid), f"/station add {label}")
    match = LINK.search(answer)
    assert match, answer
    return match.group(1)


async def codes_of(app, uid: int) -> list[tuple]:  # noqa: ANN001
    async with app.uow() as uow:
        rows = await uow.session.execute(select(Code.code, Code.kind, Code.label, Code.active)
                                         .where(Code.owner_id == uid).order_by(Code.id))
        return [tuple(r) for r in rows]


async def audit(app) -> list[tuple]:  # noqa: ANN001
    async with app.uow() as uow:
        rows = await uow.session.execute(select(AuditEntry.actor_id, AuditEntry.via, AuditEntry.action,
                                                AuditEntry.target, AuditEntry.detail).order_by(AuditEntry.id))
        return [tuple(r) for r in rows]


async def binding(app, uid: int):  # noqa: ANN001, ANN201
    async with app.uow() as uow:
        return (await uow.session.execute(select(Binding.referrer_id, Binding.label, Binding.code_id)
                                          .where(Binding.referee_id == uid))).first()


async def visits(app) -> list[tuple]:  # noqa: ANN001
    async with app.uow() as uow:
        rows = await uow.session.execute(select(Code.code, CodeVisit.user_id).join(Code, Code.id == CodeVisit.code_id)
                                         .order_by(CodeVisit.user_id))
        return [tuple(r) for r in rows]


# -- who may -----------------------------------------------------------------------------------

AGENT_COMMANDS = ["/station list", "/station add Happy Lane", "/poster", "/residents"]


@pytest.mark.parametrize("command", AGENT_COMMANDS)
async def test_users_who_are_not_agents_are_refused(app, pipeline, transport, command):
    answer = await say(pipeline, transport, person(STRANGER, "Mallory", lang="en"), command)
    assert answer == "The station tools are for community-station agents. Ask an admin if you run a station."
    assert await codes_of(app, STRANGER) == []


async def test_the_export_button_refuses_a_non_agent_with_an_alert(pipeline, transport):
    await pipeline.handle(callback(person(STRANGER, lang="en"), "res:csv"))
    [answer] = transport.sent
    assert answer.method == "answer_callback" and answer.extra["alert"] and "community-station agents" in answer.text


@pytest.mark.parametrize("command", AGENT_COMMANDS)
async def test_in_a_group_agents_are_sent_to_the_private_chat(app, pipeline, transport, command):
    await make_agent(app, pipeline)
    answer = await say(pipeline, transport, agent(), command, chat_id=-100_42, chat_type="supergroup")
    assert "private chat" in answer
    assert await codes_of(app, AGENT) == []


async def test_a_frozen_agent_is_refused(app, pipeline, transport):
    await make_agent(app, pipeline)
    async with app.uow() as uow:
        await uow.users.set_status(AGENT, "frozen")
        await uow.commit()
    assert "account is frozen" in await say(pipeline, transport, agent(), "/station add Happy Lane")
    assert await codes_of(app, AGENT) == []


async def test_admins_may_run_stations_of_their_own(app, pipeline, transport):
    code = await add_station(pipeline, transport, "HQ lobby", uid=ADMIN)
    assert await codes_of(app, ADMIN) == [(code, "station", "HQ lobby", True)]


async def test_help_lists_the_station_tools_for_agents_only(app, pipeline, transport):
    plain = await say(pipeline, transport, person(STRANGER, lang="en"), "/help")
    assert "/station" not in plain
    await make_agent(app, pipeline)
    text = await say(pipeline, transport, agent(), "/help")
    assert "Station tools" in text
    assert "/station — Your stations" in text and "/poster — " in text and "/residents — " in text


# -- add, list ---------------------------------------------------------------------------------

async def test_add_makes_a_new_station_code_with_its_label_link_and_audit_entry(app, pipeline, transport):
    await make_agent(app, pipeline, lang="zh-hans")
    answer = await say(pipeline, transport, agent(lang="zh-hans"), "/station add 幸福里社区站")
    code = LINK.search(answer).group(1)
    assert "✅ 已创建站点 <b>幸福里社区站</b>" in answer and f"<code>{code}</code>" in answer
    assert f"/poster {code}" in answer
    assert len(code) == 8 and set(code) <= set(ALPHABET)
    second = await add_station(pipeline, transport, "Happy Lane Shop")
    assert second != code
    assert await codes_of(app, AGENT) == [(code, "station", "幸福里社区站", True),
                                          (second, "station", "Happy Lane Shop", True)]
    assert await audit(app) == [(AGENT, "chat", "station_add", code, {"label": "幸福里社区站"}),
                                (AGENT, "chat", "station_add", second, {"label": "Happy Lane Shop"})]


async def test_a_label_is_escaped_and_its_whitespace_folded(app, pipeline, transport):
    await make_agent(app, pipeline)
    answer = await say(pipeline, transport, agent(), "/station add  <b>Tom & Jerry</b>\n  corner ")
    assert "<b>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; corner</b>" in answer
    assert (await codes_of(app, AGENT))[0][2] == "<b>Tom & Jerry</b> corner"


@pytest.mark.parametrize("label", ["x" * 65, "bad\u202eevil", "tab\x07bell"])
async def test_a_bad_label_is_refused(app, pipeline, transport, label):
    await make_agent(app, pipeline)
    answer = await say(pipeline, transport, agent(), f"/station add {label}")
    assert answer == "A station label must be 1 to 64 characters, without control characters."
    assert await codes_of(app, AGENT) == [] and await audit(app) == []


async def test_a_64_character_label_is_fine(app, pipeline, transport):
    await make_agent(app, pipeline)
    await add_station(pipeline, transport, "站" * 64)
    assert (await codes_of(app, AGENT))[0][2] == "站" * 64


@pytest.mark.parametrize("text", ["/station add", "/station", "/station frobnicate x", "/station rename",
                                  "/station rename ABCDEFGH", "/station off", "/station on"])
async def test_missing_or_unknown_arguments_get_the_usage(app, pipeline, transport, text):
    await make_agent(app, pipeline)
    answer = await say(pipeline, transport, agent(), text)
    assert answer.startswith("<b>Stations</b>") and "/station add" in answer
    assert await codes_of(app, AGENT) == []


async def test_labels_are_unique_per_agent_ignoring_case(app, pipeline, transport):
    await make_agent(app, pipeline)
    await make_agent(app, pipeline, OTHER_AGENT)
    await add_station(pipeline, transport, "Happy Lane")
    answer = await say(pipeline, transport, agent(), "/station add HAPPY  lane")
    assert "already have a station with this label" in answer
    await add_station(pipeline, transport, "Happy Lane", uid=OTHER_AGENT)  # another agent may
    assert len(await codes_of(app, AGENT)) == len(await codes_of(app, OTHER_AGENT)) == 1


async def test_an_agent_has_at_most_max_stations(app, pipeline, transport, monkeypatch):
    from bot.services import stations
    from handlers import stations as handler

    monkeypatch.setattr(stations, "MAX_STATIONS", 2)
    monkeypatch.setattr(handler, "MAX_STATIONS", 2)
    await make_agent(app, pipeline)
    await add_station(pipeline, transport, "one")
    await add_station(pipeline, transport, "two")
    assert "limit of 2 stations" in await say(pipeline, transport, agent(), "/station add three")
    assert len(await codes_of(app, AGENT)) == 2


async def test_list_shows_label_code_link_state_and_bound_count(app, pipeline, transport):
    await make_agent(app, pipeline)
    assert "no stations yet" in await say(pipeline, transport, agent(), "/station list")
    first = await add_station(pipeline, transport, "Happy Lane")
    second = await add_station(pipeline, transport, "Market & Co")
    await say(pipeline, transport, person(RESIDENT, "Rita"), f"/start {first}")
    await say(pipeline, transport, agent(), f"/station off {second}")
    answer = await say(pipeline, transport, agent(), "/station list")
    assert "<b>Your stations</b> (2)" in answer
    assert (f"1. <b>Happy Lane</b> · 🟢 on · 1 bound\n<code>{first}</code> · "
            f"https://t.me/ReferralTestBot?start={first}") in answer
    assert f"2. <b>Market &amp; Co</b> · ⚪ off · 0 bound\n<code>{second}</code>" in answer


async def test_a_long_list_is_split_into_messages_under_telegrams_limit(app, pipeline, transport):
    await make_agent(app, pipeline)
    for n in range(40):
        await add_station(pipeline, transport, f"{n:02d} " + "x" * 60)
    before = len(transport.to(AGENT))
    await pipeline.handle(message(agent(), "/station list"))
    parts = [s.text for s in transport.to(AGENT)[before:]]
    assert len(parts) >= 2 and all(len(p) <= 4096 for p in parts)
    assert sum(p.count("🟢 on") for p in parts) == 40


# -- rename, off, on --------------------------------------------------------------------------------

async def test_rename_changes_the_label_but_residents_keep_the_one_they_joined_under(app, pipeline, transport):
    await make_agent(app, pipeline)
    code = await add_station(pipeline, transport, "Happy Lane")
    await say(pipeline, transport, person(RESIDENT, "Rita"), f"/start {code}")
    answer = await say(pipeline, transport, agent(), f"/station rename {code.lower()} Happy Lane North")
    assert answer.startswith(f"✅ Station <code>{code}</code> renamed from <b>Happy Lane</b> to <b>Happy Lane North</b>")
    assert (await codes_of(app, AGENT))[0][2] == "Happy Lane North"
    assert (await binding(app, RESIDENT))[:2] == (AGENT, "Happy Lane")
    assert (await audit(app))[-1] == (AGENT, "chat", "station_rename", code,
                                      {"before": "Happy Lane", "after": "Happy Lane North"})


async def test_rename_refusals(app, pipeline, transport):
    await make_agent(app, pipeline)
    await make_agent(app, pipeline, OTHER_AGENT)
    code = await add_station(pipeline, transport, "Happy Lane")
    await add_station(pipeline, transport, "Market")
    theirs = await add_station(pipeline, transport, "Theirs", uid=OTHER_AGENT)
    entries = len(await audit(app))
    assert 'no station "ZZZZ2345"' in await say(pipeline, transport, agent(), "/station rename ZZZZ2345 New")
    assert f'no station "{theirs}"' in await say(pipeline, transport, agent(), f"/station rename {theirs} Mine now")
    assert "already have a station" in await say(pipeline, transport, agent(), f"/station rename {code} market")
    assert "already called <b>Happy Lane</b>" in await say(pipeline, transport, agent(),
                                                             f"/station rename {code} Happy Lane")
    assert "1 to 64 characters" in await say(pipeline, transport, agent(), f"/station rename {code} {'y' * 65}")
    assert [c[2] for c in await codes_of(app, OTHER_AGENT)] == ["Theirs"]
    assert len(await audit(app)) == entries


async def test_an_off_code_binds_nobody_with_a_polite_answer_and_on_restores_it(app, pipeline, transport):
    await make_agent(app, pipeline)
    code = await add_station(pipeline, transport, "Happy Lane")
    answer = await say(pipeline, transport, agent(), f"/station off {code}")
    assert answer.startswith("⚪ Station <b>Happy Lane</b>") and "nobody is bound" in answer
    assert (await codes_of(app, AGENT))[0][3] is False
    newcomer = await say(pipeline, transport, person(RESIDENT, "Rita", lang="en"), f"/start {code}")
    assert newcomer.startswith("This referral code is not available; nothing was bound.")
    assert await binding(app, RESIDENT) is None
    assert await visits(app) == [(code, RESIDENT)]  # they did open the link

    assert "already off" in await say(pipeline, transport, agent(), f"/station off {code}")
    assert "is on again" in await say(pipeline, transport, agent(), "/station on happy lane")  # by label
    assert "already on" in await say(pipeline, transport, agent(), f"/station on {code}")
    await say(pipeline, transport, person(STRANGER, "Sam", lang="en"), f"/start {code}")
    assert (await binding(app, STRANGER))[:2] == (AGENT, "Happy Lane")
    assert [a[2] for a in await audit(app)] == ["station_add", "station_off", "station_on"]


async def test_switching_someone_elses_or_an_unknown_code_is_refused(app, pipeline, transport):
    await make_agent(app, pipeline)
    await make_agent(app, pipeline, OTHER_AGENT)
    theirs = await add_station(pipeline, transport, "Theirs", uid=OTHER_AGENT)
    assert f'no station "{theirs}"' in await say(pipeline, transport, agent(), f"/station off {theirs}")
    assert 'no station "nothing"' in await say(pipeline, transport, agent(), "/station off nothing")
    assert (await codes_of(app, OTHER_AGENT))[0][3] is True


async def test_a_personal_code_is_not_a_station(app, pipeline, transport):
    await make_agent(app, pipeline)
    await pipeline.handle(message(agent(), "/code"))
    personal = LINK.search(transport.last(AGENT).text).group(1)
    assert f'no station "{personal}"' in await say(pipeline, transport, agent(), f"/station off {personal}")


# -- visits ------------------------------------------------------------------------------------

async def test_every_opener_of_a_station_link_is_a_visit_once_bound_or_not(app, pipeline, transport):
    await make_agent(app, pipeline)
    code = await add_station(pipeline, transport, "Happy Lane")
    await say(pipeline, transport, person(STRANGER, "Sam"), "/start")  # talked to the bot before
    await say(pipeline, transport, person(STRANGER, "Sam"), f"/start {code}")  # not new: not bound
    await say(pipeline, transport, person(RESIDENT, "Rita"), f"/start {code.lower()}")
    await say(pipeline, transport, person(RESIDENT, "Rita"), f"/start {code}")  # again: one visit
    await say(pipeline, transport, agent(), f"/start {code}")  # the agent's own test: not counted
    await pipeline.handle(message(agent(), "/code"))
    personal = LINK.search(transport.last(AGENT).text).group(1)
    await say(pipeline, transport, person(4005, "Pat"), f"/start {personal}")  # a personal code: no visit
    assert await visits(app) == [(code, RESIDENT), (code, STRANGER)]
    assert await binding(app, STRANGER) is None
    assert (await binding(app, RESIDENT))[:2] == (AGENT, "Happy Lane")


async def test_only_a_station_link_spends_a_statement_on_the_visit(app, pipeline, transport):
    """The binding reads the code's kind anyway: a personal link, the common case, writes no visit."""
    await make_agent(app, pipeline)
    code = await add_station(pipeline, transport, "Happy Lane")
    await pipeline.handle(message(agent(), "/code"))
    personal = LINK.search(transport.last(AGENT).text).group(1)
    seen: list[str] = []
    event.listen(app.engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: seen.append(statement))
    await say(pipeline, transport, person(4006, "Pat"), f"/start {personal}")
    assert [s for s in seen if "code_visits" in s] == []
    assert (await binding(app, 4006))[0] == AGENT
    seen.clear()
    await say(pipeline, transport, person(4007, "Rita"), f"/start {code}")
    assert len([s for s in seen if "code_visits" in s]) == 1
    assert await visits(app) == [(code, 4007)]


# -- labels, for any input ---------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text(max_size=90))
def test_a_cleaned_label_is_bounded_trimmed_and_stable(raw):
    label = clean_label(raw)
    if label is None:
        return
    assert 1 <= len(label) <= 64 and label == label.strip() and "  " not in label and "\n" not in label
    assert clean_label(label) == label
    assert not any(ch in "\u202e\u2066\x00\x07" for ch in label)
