"""Validation of one platform event body: strict types, messages that name the field, canonical form."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services.events.schema import EVENT_TYPES, MAX_EVENT_BYTES, MAX_TELEGRAM_ID, InvalidEvent, parse_event


def body(kind: str = "first_loan", **fields: object) -> dict:
    data = {"id": "evt-1", "type": kind, "occurred_at": "2026-11-26T10:00:00+08:00", "user": {"telegram_id": 42}}
    data.update({"first_loan": {"amount_fen": 500_000}, "second_credit": {"amount_fen": 1},
                 "payout": {"amount_fen": 100}, "repayment_on_time": {"loan_id": "L-1"},
                 "reversal": {"event_id": "evt-0"},
                 "account_linked": {"user": {"telegram_id": 42, "external_id": "P-42"}}}.get(kind, {}))
    data.update(fields)
    return data


def parse(data: dict | bytes):  # noqa: ANN201
    return parse_event(data if isinstance(data, bytes) else json.dumps(data).encode())


def error(data: dict | bytes) -> str:
    with pytest.raises(InvalidEvent) as info:
        parse(data)
    assert str(info.value) == info.value.message
    return info.value.message


# ---------------------------------------------------------------- valid events


@pytest.mark.parametrize("kind", sorted(EVENT_TYPES))
def test_every_type_parses(kind):
    event = parse(body(kind))
    assert event.type == kind and event.id == "evt-1"
    assert event.occurred_at == datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)


def test_type_fields_are_carried():
    assert parse(body("first_loan")).amount_fen == 500_000
    assert parse(body("repayment_on_time")).loan_id == "L-1"
    assert parse(body("reversal")).event_id == "evt-0"
    assert parse(body("registered", referral_code="AB_c-9")).referral_code == "AB_c-9"
    assert parse(body("registered")).referral_code is None
    linked = parse(body("account_linked"))
    assert (linked.telegram_id, linked.external_id) == (42, "P-42")


def test_occurred_at_is_converted_to_utc():
    assert parse(body(occurred_at="2026-11-26T02:00:00Z")).occurred_at.utcoffset() == timedelta(0)
    assert parse(body(occurred_at="2026-11-25T21:00:00-05:00")).occurred_at == \
        datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)


def test_user_by_external_id_only():
    event = parse(body(user={"external_id": "P-42"}))
    assert (event.telegram_id, event.external_id) == (None, "P-42")


def test_unknown_fields_are_kept_in_the_canonical_body():
    event = parse(body(channel="app", extra={"z": 1, "a": "中文"}))
    assert json.loads(event.canonical)["extra"] == {"z": 1, "a": "中文"}
    assert "中文".encode() in event.canonical  # ensure_ascii=False


def test_canonical_ignores_whitespace_and_key_order():
    data = body(note="x")
    compact = json.dumps(data, separators=(",", ":")).encode()
    spaced = json.dumps(dict(reversed(list(data.items()))), indent=4).encode()
    assert parse(compact).canonical == parse(spaced).canonical
    assert parse(body(note="y")).canonical != parse(compact).canonical


def test_limits_at_their_edges_are_valid():
    assert parse(body(id="x" * 128)).id == "x" * 128
    assert parse(body(user={"telegram_id": MAX_TELEGRAM_ID})).telegram_id == MAX_TELEGRAM_ID
    assert parse(body(amount_fen=0)).amount_fen == 0
    assert parse(body("registered", referral_code="a" * 64)).referral_code == "a" * 64


# ---------------------------------------------------------------- invalid events name the field


@pytest.mark.parametrize(("data", "prefix"), [
    (body(amount_fen=12.5), "amount_fen: must be a non-negative integer"),
    (body(amount_fen=12.0), "amount_fen: must be a non-negative integer"),
    (body(amount_fen="100"), "amount_fen: must be a non-negative integer"),
    (body(amount_fen=True), "amount_fen: must be a non-negative integer"),
    (body(amount_fen=-1), "amount_fen: must be a non-negative integer"),
    (body(amount_fen=None), "amount_fen: must be a non-negative integer"),
    (body("second_credit", amount_fen=-5), "amount_fen: must be a non-negative integer"),
    (body("payout", amount_fen=0), "amount_fen: must be a positive integer"),
    (body(user={"telegram_id": "42"}), "user.telegram_id: must be a positive integer"),
    (body(user={"telegram_id": 0}), "user.telegram_id: must be a positive integer"),
    (body(user={"telegram_id": True}), "user.telegram_id: must be a positive integer"),
    (body(user={"telegram_id": 4.2}), "user.telegram_id: must be a positive integer"),
    (body(user={"telegram_id": MAX_TELEGRAM_ID + 1}), "user.telegram_id: must be a positive integer"),
    (body(user={"external_id": ""}), "user.external_id: must be a string"),
    (body(user={"external_id": 42}), "user.external_id: must be a string"),
    (body(user={"external_id": "x" * 129}), "user.external_id: must be a string"),
    (body(user={}), "user: must carry telegram_id or external_id"),
    (body(user="42"), "user: must be an object"),
    (body("account_linked", user={"telegram_id": 42}), "user: account_linked needs both"),
    (body(id=""), "id: must be a string of 1-128"),
    (body(id="x" * 129), "id: must be a string of 1-128"),
    (body(id=7), "id: must be a string of 1-128"),
    (body(type="foo"), "type: unknown event type \"foo\""),
    (body(type=None), "type: must be a string"),
    (body(occurred_at="2026-11-26T10:00:00"), "occurred_at: must carry a UTC offset"),
    (body(occurred_at="yesterday"), "occurred_at: not an ISO 8601 timestamp"),
    (body(occurred_at=1764122400), "occurred_at: must be an ISO 8601 string"),
    (body(occurred_at="0001-01-01T00:00:00+01:00"), "occurred_at: is out of range"),
    (body("registered", referral_code="has space"), "referral_code: must be 1-64 characters"),
    (body("registered", referral_code="x" * 65), "referral_code: must be 1-64 characters"),
    (body("registered", referral_code="abc\n"), "referral_code: must be 1-64 characters"),
    (body("repayment_on_time", loan_id=""), "loan_id: must be a non-empty string"),
    (body("repayment_on_time", loan_id=5), "loan_id: must be a non-empty string"),
    (body("reversal", event_id=""), "event_id: must be the id of an earlier event"),
    (body("reversal", event_id="evt-1"), "event_id: a reversal cannot reverse itself"),
])
def test_invalid_field_is_named(data, prefix):
    assert error(data).startswith(prefix)


@pytest.mark.parametrize(("kind", "field"), [
    ("first_loan", "amount_fen"), ("second_credit", "amount_fen"), ("payout", "amount_fen"),
    ("repayment_on_time", "loan_id"), ("reversal", "event_id"),
])
def test_missing_type_field_is_required(kind, field):
    data = body(kind)
    del data[field]
    assert error(data) == f"{field}: is required"


@pytest.mark.parametrize("field", ["id", "type", "occurred_at", "user"])
def test_missing_common_field_is_required(field):
    data = body()
    del data[field]
    assert error(data) == f"{field}: is required"


def test_the_type_error_lists_the_known_types():
    assert all(kind in error(body(type="loan")) for kind in EVENT_TYPES)


@pytest.mark.parametrize(("raw", "prefix"), [
    (b"", "malformed JSON: Expecting value"),
    (b'{"id": ', "malformed JSON:"),
    (b"[1, 2]", "body: must be a JSON object"),
    (b'"just a string"', "body: must be a JSON object"),
    (b"\xff\xfe{}", "malformed JSON: not UTF-8"),
    (b'{"id": "a", "id": "b"}', "malformed JSON: duplicate key \"id\""),
    (b'{"amount_fen": NaN}', "malformed JSON: NaN is not a JSON number"),
    (b'{"amount_fen": Infinity}', "malformed JSON: Infinity is not a JSON number"),
    (b'{"id": "\\ud800"}', "malformed JSON: a \\u escape encodes a lone surrogate"),
    (b'{"x": ' + b"9" * 5000 + b"}", "malformed JSON: a number has too many digits"),
    (b"[" * 50_000 + b"]" * 10_000, "malformed JSON: nested too deeply"),
    (b"{" + b" " * MAX_EVENT_BYTES + b"}", "body: larger than 64 KiB"),
])
def test_malformed_bodies(raw, prefix):
    assert error(raw).startswith(prefix)


# ---------------------------------------------------------------- properties

keys = st.text(st.characters(codec="utf-8"), min_size=1, max_size=128)
codes = st.text("ABCDEFGHJKMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789_-", min_size=1, max_size=64)
fen = st.integers(min_value=0, max_value=10**15)
users = st.one_of(
    st.fixed_dictionaries({"telegram_id": st.integers(1, MAX_TELEGRAM_ID)}),
    st.fixed_dictionaries({"external_id": keys}),
    st.fixed_dictionaries({"telegram_id": st.integers(1, MAX_TELEGRAM_ID), "external_id": keys}),
)
json_scalars = st.none() | st.booleans() | st.integers(-(10**18), 10**18) | \
    st.floats(allow_nan=False, allow_infinity=False) | st.text(st.characters(codec="utf-8"), max_size=20)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) |
                           st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=8)),
                                                  timezone(timedelta(hours=-5, minutes=-30))]))
TYPE_FIELDS = {
    "account_linked": {}, "registered": {"referral_code": codes}, "credit_approved": {},
    "first_loan": {"amount_fen": fen}, "repayment_on_time": {"loan_id": keys}, "second_credit": {"amount_fen": fen},
    "reversal": {"event_id": keys}, "payout": {"amount_fen": st.integers(1, 10**15)},
}
RESERVED = {"id", "type", "occurred_at", "user", "amount_fen", "loan_id", "event_id", "referral_code"}


@st.composite
def valid_events(draw) -> dict:  # noqa: ANN001
    kind = draw(st.sampled_from(sorted(TYPE_FIELDS)))
    user = draw(users)
    if kind == "account_linked":
        user = {"telegram_id": draw(st.integers(1, MAX_TELEGRAM_ID)), "external_id": draw(keys)}
    data = {"id": draw(keys), "type": kind, "occurred_at": draw(moments).isoformat(), "user": user}
    data.update({name: draw(strategy) for name, strategy in TYPE_FIELDS[kind].items()})
    if kind == "reversal" and data["event_id"] == data["id"]:
        data["event_id"] += "-earlier"
    extras = draw(st.dictionaries(st.text(min_size=1, max_size=10).filter(lambda k: k not in RESERVED),
                                  json_values, max_size=3))
    return {**extras, **data}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(valid_events(), st.sampled_from([None, 2]), st.booleans())
def test_any_valid_event_round_trips(data, indent, ascii_only):
    raw = json.dumps(data, indent=indent, ensure_ascii=ascii_only).encode()
    event = parse_event(raw)
    assert json.loads(event.canonical) == data
    assert parse_event(event.canonical) == event  # canonical is a fixed point
    assert (event.id, event.type) == (data["id"], data["type"])
    assert event.occurred_at == datetime.fromisoformat(data["occurred_at"])
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert event.telegram_id == data["user"].get("telegram_id")
    assert event.external_id == data["user"].get("external_id")
    for name in ("amount_fen", "loan_id", "event_id", "referral_code"):
        assert getattr(event, name) == data.get(name)


def _parses_or_is_invalid(raw: bytes) -> None:
    try:
        parse_event(raw)
    except InvalidEvent as exc:
        assert exc.message and ":" in exc.message


@settings(max_examples=500)
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_raise_invalid_event(raw):
    _parses_or_is_invalid(raw)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_random_json_only_ever_raises_invalid_event(value):
    _parses_or_is_invalid(json.dumps(value).encode())


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(valid_events(), st.sampled_from(sorted(RESERVED)) | st.just("user.telegram_id") | st.just("user.external_id"),
       json_values)
def test_a_valid_event_with_one_field_replaced_by_junk_only_raises_invalid_event(data, field, junk):
    if field.startswith("user."):
        data["user"] = {**data["user"], field[5:]: junk}
    else:
        data[field] = junk
    _parses_or_is_invalid(json.dumps(data).encode())


@settings(max_examples=300)
@given(valid_events(), st.data())
def test_a_valid_event_with_bytes_mangled_only_raises_invalid_event(data, draw):
    raw = bytearray(json.dumps(data).encode())
    for _ in range(draw.draw(st.integers(1, 3))):
        raw[draw.draw(st.integers(0, len(raw) - 1))] = draw.draw(st.integers(0, 255))
    _parses_or_is_invalid(bytes(raw))
