"""The platform API over real HTTP (aiohttp's TestServer), with a fake intake behind it."""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

import bot.api.signing as signing
from bot.api.app import _read_capped, add_api_routes
from bot.api.signing import sign
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.services.events.schema import MAX_EVENT_BYTES
from tests.unit.fake_intake import FakeIntake

SECRET = "s3cret-for-tests"
NOW = 1_800_000_000
RECEIVED = datetime(2027, 1, 15, 8, 0, tzinfo=timezone.utc)
JSON = {"Content-Type": "application/json"}


def event(event_id: str = "evt-1", **fields: object) -> dict:
    body = {"id": event_id, "type": "first_loan", "occurred_at": "2027-01-15T10:00:00+08:00",
            "user": {"telegram_id": 42}, "amount_fen": 500_000}
    body.update(fields)
    return body


def encode(body: dict | bytes) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def signed(body: bytes, *, secret: str = SECRET, t: int = NOW, content_type: str = "application/json") -> dict:
    return {"Content-Type": content_type, "X-Signature": sign(secret, body, t)}


class Api:
    def __init__(self, client: TestClient, intake: FakeIntake) -> None:
        self.client = client
        self.intake = intake

    async def post(self, body: dict | bytes, **sign_kw: object) -> tuple[int, dict]:
        raw = encode(body)
        async with self.client.post("/api/v1/events", data=raw, headers=signed(raw, **sign_kw)) as resp:
            return resp.status, await resp.json()

    async def raw_post(self, data: object, headers: dict) -> tuple[int, dict]:
        async with self.client.post("/api/v1/events", data=data, headers=headers) as resp:
            assert resp.content_type == "application/json"
            return resp.status, await resp.json()

    async def get_user(self, telegram_id: object, header: str | None = None) -> tuple[int, dict]:
        headers = {"X-Signature": header if header is not None else sign(SECRET, b"", NOW)}
        async with self.client.get(f"/api/v1/users/{telegram_id}", headers=headers) as resp:
            assert resp.content_type == "application/json"
            return resp.status, await resp.json()


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def make_api(secret: str = SECRET, intake: FakeIntake | None = None) -> tuple[Api, TestClient]:
    intake = intake or FakeIntake(users={42: {"telegram_id": 42, "balance": {"pending": 0}}})
    app = web.Application()
    app.router.add_get("/healthz", _healthz)  # as the launcher has it
    add_api_routes(app, lambda: intake, load_settings(api_secret=secret), clock=FrozenClock(RECEIVED),
                   wall_time=lambda: NOW)
    client = TestClient(TestServer(app))
    await client.start_server()
    return Api(client, intake), client


@pytest.fixture
async def api():
    api, client = await make_api()
    yield api
    await client.close()


# ---------------------------------------------------------------- intake's answers


async def test_new_event_is_accepted_with_the_raw_body_and_received_time(api):
    raw = encode(event())
    assert await api.post(raw) == (202, {"status": "accepted"})
    assert api.intake.submitted == [(raw, RECEIVED)]


async def test_same_id_same_meaning_is_a_duplicate_even_when_formatted_differently(api):
    await api.post(event())
    reformatted = json.dumps(dict(reversed(list(event().items()))), indent=2).encode()
    assert await api.post(reformatted) == (200, {"status": "duplicate"})


async def test_same_id_different_body_is_a_conflict(api):
    await api.post(event())
    status, body = await api.post(event(amount_fen=1))
    assert status == 409 and "different body" in body["error"]


@pytest.mark.parametrize(("body", "field"), [
    (event(amount_fen=12.5), "amount_fen"),
    (event(amount_fen=-1), "amount_fen"),
    (event(amount_fen="100"), "amount_fen"),
    (event(user={"telegram_id": "42"}), "user.telegram_id"),
    (event(type="foo"), "type"),
    (event(occurred_at="2027-01-15T10:00:00"), "occurred_at"),
    (b'{"id": "x", ', "malformed JSON"),
])
async def test_invalid_events_answer_400_naming_the_field(api, body, field):
    status, answer = await api.post(body)
    assert status == 400 and answer["error"].startswith(field), answer


async def test_refused_payout_is_400_with_status_refused(api):
    status, body = await api.post(event(type="payout", amount_fen=100))
    assert status == 400 and body["status"] == "refused" and "amount_fen" in body["error"]


async def test_fifty_concurrent_copies_are_one_accepted_and_49_duplicates(api):
    raw = encode(event("evt-race"))
    answers = await asyncio.gather(*(api.post(raw) for _ in range(50)))
    assert sorted(status for status, _ in answers) == [200] * 49 + [202]


# ---------------------------------------------------------------- signatures


async def test_missing_signature_is_401(api):
    status, body = await api.raw_post(encode(event()), JSON)
    assert status == 401 and "missing X-Signature" in body["error"]
    assert api.intake.submitted == []


async def test_wrong_secret_is_401(api):
    status, body = await api.post(event(), secret="not-the-secret")
    assert status == 401 and "does not match" in body["error"]
    assert api.intake.submitted == []


async def test_a_tampered_body_is_401(api):
    raw = encode(event())
    headers = signed(raw)
    status, _ = await api.raw_post(encode(event(amount_fen=999_999)), headers)
    assert status == 401 and api.intake.submitted == []


@pytest.mark.parametrize("header", [
    "garbage",
    "t=,v1=" + "a" * 64,
    "t=abc,v1=" + "a" * 64,
    f"t={NOW}",
    "v1=" + "a" * 64,
    f"t={NOW},v1=xyz",
    f"t={NOW},v1=" + "g" * 64,
    f"t={NOW},t={NOW},v1=" + "a" * 64,
    f"t=-{NOW},v1=" + "a" * 64,
])
async def test_malformed_signature_header_is_401(api, header):
    status, body = await api.raw_post(encode(event()), {**JSON, "X-Signature": header})
    assert status == 401 and "X-Signature" in body["error"]


async def test_a_valid_v1_among_several_is_accepted_for_secret_rotation(api):
    raw = encode(event())
    good = sign(SECRET, raw, NOW)
    other = sign("old-secret", raw, NOW).split(",")[1]
    status, _ = await api.raw_post(raw, {**JSON, "X-Signature": f"{good.split(',')[0]},{other},{good.split(',')[1]}"})
    assert status == 202


@pytest.mark.parametrize("skew", [-301, 301, -86_400, 10**9])
async def test_stale_timestamps_in_either_direction_are_401(api, skew):
    status, body = await api.post(event(), t=NOW + skew)
    assert status == 401 and "stale" in body["error"]
    assert api.intake.submitted == []


@pytest.mark.parametrize("skew", [-300, 300])
async def test_timestamps_within_300_seconds_are_fresh(api, skew):
    assert (await api.post(event(), t=NOW + skew))[0] == 202


async def test_digests_are_compared_with_compare_digest(api, monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signing.hmac, "compare_digest", spy)
    raw = encode(event())
    await api.post(raw)
    expected = signing.digest(SECRET, raw, NOW).encode()
    assert calls == [(expected, expected)]


# ---------------------------------------------------------------- size and content type


async def test_body_of_exactly_64_kib_is_read(api):
    body = event(padding="")
    body["padding"] = "x" * (MAX_EVENT_BYTES - len(encode(body)))
    raw = encode(body)
    assert len(raw) == MAX_EVENT_BYTES
    assert (await api.post(raw))[0] == 202


async def test_over_64_kib_with_content_length_is_413_before_reading(api):
    raw = b"x" * (MAX_EVENT_BYTES + 1)
    status, body = await api.raw_post(raw, signed(raw))
    assert status == 413 and "64 KiB" in body["error"]
    assert api.intake.submitted == []


async def test_over_64_kib_without_content_length_is_413(api):
    raw = encode(event(padding="x" * MAX_EVENT_BYTES))

    async def chunked():
        for start in range(0, len(raw), 4096):
            yield raw[start:start + 4096]

    status, _ = await api.raw_post(chunked(), signed(raw))
    assert status == 413 and api.intake.submitted == []


async def test_chunked_body_within_the_limit_is_accepted(api):
    raw = encode(event())

    async def chunked():
        yield raw[:10]
        yield raw[10:]

    assert (await api.raw_post(chunked(), signed(raw)))[0] == 202


async def test_capped_read_never_takes_more_than_limit_plus_one_bytes():
    request = make_mocked_request("POST", "/api/v1/events", payload=_stream(b"y" * 200_000))
    assert await _read_capped(request, 1000) is None
    assert len(await request.content.read()) == 200_000 - 1001  # the rest was left unread


def _stream(data: bytes) -> StreamReader:
    protocol = SimpleNamespace(_reading_paused=False, pause_reading=lambda **_: None,
                               resume_reading=lambda **_: None)
    stream = StreamReader(protocol, limit=2**16, loop=asyncio.get_running_loop())
    stream.feed_data(data)
    stream.feed_eof()
    return stream


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16", "",
])
async def test_non_json_content_type_is_415(api, content_type):
    raw = encode(event())
    headers = {"X-Signature": sign(SECRET, raw, NOW), "Content-Type": content_type}
    status, body = await api.raw_post(raw, headers)
    assert status == 415 and "application/json" in body["error"]


async def test_json_with_a_utf8_charset_is_accepted(api):
    raw = encode(event())
    assert (await api.raw_post(raw, signed(raw, content_type="application/json; charset=UTF-8")))[0] == 202


# ---------------------------------------------------------------- user look-ups


async def test_known_user_is_returned(api):
    assert await api.get_user(42) == (200, {"telegram_id": 42, "balance": {"pending": 0}})


async def test_unknown_user_is_404(api):
    status, body = await api.get_user(43)
    assert status == 404 and "43" in body["error"]


@pytest.mark.parametrize("bad", ["abc", "0", "-5", "1.5", "007", str(2**53 + 1), "1e3"])
async def test_invalid_telegram_id_is_400(api, bad):
    status, body = await api.get_user(bad)
    assert status == 400 and body["error"].startswith("telegram_id")


async def test_user_lookup_needs_a_signature_over_the_empty_body(api):
    assert (await api.get_user(42, header=""))[0] == 401
    assert (await api.get_user(42, header=sign(SECRET, b"{}", NOW)))[0] == 401
    status, body = await api.get_user(42, header=sign(SECRET, b"", NOW - 1000))
    assert status == 401 and "stale" in body["error"]


# ---------------------------------------------------------------- configuration, errors, logging


async def test_without_api_secret_every_api_route_is_503():
    api, client = await make_api(secret="")
    try:
        for status, body in (await api.post(event()), await api.get_user(42)):
            assert status == 503 and body == {"error": "API_SECRET is not configured"}
        assert api.intake.submitted == []
    finally:
        await client.close()


async def test_unknown_api_paths_and_wrong_methods_answer_json(api):
    async with api.client.get("/api/v1/nothing") as resp:
        assert resp.status == 404 and "error" in await resp.json()
    async with api.client.get("/api/v1/events") as resp:
        assert resp.status == 405 and "POST" in resp.headers["Allow"] and "error" in await resp.json()
    async with api.client.get("/healthz") as resp:
        assert resp.status == 200


async def test_an_intake_failure_is_a_json_500(caplog):
    class Broken(FakeIntake):
        async def submit(self, raw, *, received_at):  # noqa: ANN001, ANN202
            raise RuntimeError("database is down")

    api, client = await make_api(intake=Broken())
    try:
        status, body = await api.post(event())
        assert status == 500 and "retried" in body["error"]
        assert any(r.levelname == "ERROR" and r.name == "bot.api" for r in caplog.records)
    finally:
        await client.close()


async def test_each_request_is_logged_once_without_its_body(api, caplog):
    caplog.set_level(logging.INFO, logger="bot.api")
    await api.post(event(secret_marker="do-not-log-me"))
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.api"]
    assert len(lines) == 1
    assert lines[0].startswith("POST /api/v1/events 202 ") and lines[0].endswith(" ms")
    assert "do-not-log-me" not in caplog.text
