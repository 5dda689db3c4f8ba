"""GET /api/v1/flags over real HTTP: signatures, query parameters, and what each flag says."""
from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.api.app import add_api_routes
from bot.api.signing import sign
from bot.services.events.intake import EventIntake
from bot.services.fraud.signals import FraudSignals
from tests.support import callback, person
from tests.unit.test_fraud_signals import code_of, joins
from tests.unit.test_review import ADMIN, B, flagged

SECRET = "flags-secret"
NOW = 1_800_000_000


@pytest.fixture
async def client(app, intake):  # noqa: ANN001, ANN201
    app.settings = app.settings.model_copy(update={"api_secret": SECRET})
    web_app = web.Application()
    add_api_routes(web_app, lambda: EventIntake(app), app.settings, clock=app.clock, wall_time=lambda: NOW)
    test_client = TestClient(TestServer(web_app))
    await test_client.start_server()
    yield test_client
    await test_client.close()


async def get(client, query: str = "", signature: str | None = None) -> tuple[int, object]:  # noqa: ANN001
    headers = {} if signature == "" else {"X-Signature": signature or sign(SECRET, b"", NOW)}
    async with client.get(f"/api/v1/flags{query}", headers=headers) as resp:
        assert resp.content_type == "application/json"
        return resp.status, await resp.json()


async def test_unsigned_or_wrongly_signed_requests_are_refused(client):
    assert (await get(client, signature=""))[0] == 401
    status, answer = await get(client, signature=sign("another-secret", b"", NOW))
    assert status == 401 and "signature does not match" in answer["error"]
    status, answer = await get(client, signature=sign(SECRET, b"", NOW - 3600))
    assert status == 401 and "stale timestamp" in answer["error"]


@pytest.mark.parametrize(("query", "param"), [
    ("?state=closed", "state"),
    ("?since=yesterday", "since"),
    ("?since=2026-11-26T10:00:00", "since"),  # no offset: ambiguous
    ("?limit=0", "limit"),
    ("?limit=501", "limit"),
    ("?limit=ten", "limit"),
])
async def test_bad_parameters_are_400_naming_the_parameter(client, query, param):
    status, answer = await get(client, query)
    assert status == 400 and answer["error"].startswith(f"{param}:")


async def test_no_flags_is_an_empty_list(client):
    assert await get(client) == (200, [])


async def test_flags_with_their_evidence_money_and_decision(app, pipeline, transport, intake, client):
    flag_id, _ = await flagged(app, pipeline, transport, intake)
    status, [flag] = await get(client)
    assert status == 200
    assert {k: flag[k] for k in ("id", "telegram_id", "external_id", "kind", "state", "held_fen", "reversed_fen",
                                 "reviewed_at", "reviewed_by", "decision")} == {
        "id": flag_id, "telegram_id": B, "external_id": None, "kind": "burst", "state": "open", "held_fen": 5000,
        "reversed_fen": 0, "reviewed_at": None, "reviewed_by": None, "decision": None}
    assert flag["created_at"] == "2026-11-26T02:00:04+00:00"
    assert flag["evidence"]["count"] == 4 and len(flag["evidence"]["times"]) == 4

    await pipeline.handle(callback(person(ADMIN, "Ada", lang="en"), f"rv:f:{flag_id}"))
    assert await get(client) == (200, [])  # open is the default
    status, [rejected] = await get(client, "?state=rejected")
    assert (rejected["state"], rejected["decision"], rejected["reviewed_by"]) == ("rejected", "reject_freeze", ADMIN)
    assert (rejected["held_fen"], rejected["reversed_fen"]) == (0, 5000)
    assert rejected["reviewed_at"] == "2026-11-26T02:01:04+00:00"
    assert (await get(client, "?state=approved"))[1] == []


async def test_since_limit_and_platform_only_users(app, pipeline, transport, intake, client):
    code = await code_of(pipeline, transport, 4100, "Rita")
    await joins(app, pipeline, code, 4, timedelta(seconds=1))  # a burst at 10:00:04 local
    app.clock.advance(hours=2)
    async with app.uow() as uow:  # someone known only to the platform, flagged
        await uow.users.insert_platform_user(user_id=-7, external_id="P-7", now=app.clock.now())
        await FraudSignals(uow).raise_flag(-7, "fake_referees", {"count": 3}, app.clock.now())
        await uow.commit()
    status, both = await get(client, "?state=all&limit=500")
    assert status == 200 and [f["kind"] for f in both] == ["burst", "fake_referees"]
    assert (both[1]["telegram_id"], both[1]["external_id"]) == (None, "P-7")
    assert [f["kind"] for f in (await get(client, "?state=all&limit=1"))[1]] == ["burst"]
    later = await get(client, "?since=2026-11-26T11:00:00%2B08:00")
    assert [f["kind"] for f in later[1]] == ["fake_referees"]
    assert [f["kind"] for f in (await get(client, "?since=2026-11-26T03:00:00Z"))[1]] == ["fake_referees"]
