"""One platform event body (bytes) → a validated, immutable `EventIn`.

Framework-free: the HTTP API and `referral-bot events import` both hand raw
bytes to intake, which calls `parse_event`. Every rejection is an
`InvalidEvent` whose message starts with the offending field
("user.telegram_id: ...", "amount_fen: ...", "type: ...", "malformed JSON: ...").

Types are strict: "123" is not an id and 12.0 is not an amount, because a
platform that sends them has a bug we want it to see, not a guess we made.
Unknown extra fields are allowed (platforms add fields) and kept in
`canonical`, the body re-serialised with sorted keys and no whitespace, so that
"same id, same body" compares meaning rather than formatting.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

MAX_EVENT_BYTES = 64 * 1024
MAX_TELEGRAM_ID = 2**53  # what a JSON number survives in every platform's JSON library
REFERRAL_CODE_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class InvalidEvent(ValueError):
    """The body is not a valid event; the message names the field and says what it must be."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class EventIn:
    id: str
    type: str
    occurred_at: datetime  # aware, UTC
    telegram_id: int | None
    external_id: str | None
    amount_fen: int | None
    loan_id: str | None
    event_id: str | None
    referral_code: str | None
    canonical: bytes


def _aware_timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 string with a UTC offset, e.g. 2026-11-26T10:00:00+08:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 timestamp: {_short(value)}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("must carry a UTC offset (e.g. +08:00 or Z); a naive timestamp is ambiguous")
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("is out of range") from None


Key = Annotated[str, Field(min_length=1, max_length=128)]
Fen = Annotated[int, Field(ge=0)]
Timestamp = Annotated[datetime, BeforeValidator(_aware_timestamp)]

# What a field must be, said once per field; the message for any type or range error on it.
_RULES = {
    "id": "must be a string of 1-128 characters",
    "type": "must be a string",
    "occurred_at": "must be an ISO 8601 string with a UTC offset",
    "user": "must be an object with telegram_id and/or external_id",
    "user.telegram_id": "must be a positive integer (at most 2^53), not a string or a float",
    "user.external_id": "must be a string of 1-128 characters",
    "amount_fen": "must be a non-negative integer (fen), not a string or a float",
    "loan_id": "must be a non-empty string of at most 128 characters",
    "event_id": "must be the id of an earlier event: a string of 1-128 characters",
    "referral_code": "must be 1-64 characters of A-Za-z0-9_-",
}


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class UserRef(_Strict):
    telegram_id: Annotated[int, Field(gt=0, le=MAX_TELEGRAM_ID)] | None = None
    external_id: Key | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> "UserRef":
        if self.telegram_id is None and self.external_id is None:
            raise ValueError("must carry telegram_id or external_id (or both)")
        return self


class _Event(_Strict):
    id: Key
    type: str
    occurred_at: Timestamp
    user: UserRef
    rules: ClassVar[dict[str, str]] = {}


class AccountLinked(_Event):
    @model_validator(mode="after")
    def _both_ids(self) -> "AccountLinked":
        if self.user.telegram_id is None or self.user.external_id is None:
            raise ValueError("user: account_linked needs both telegram_id and external_id")
        return self


class Registered(_Event):
    referral_code: Annotated[str, Field(pattern=REFERRAL_CODE_PATTERN)] | None = None


class CreditApproved(_Event):
    pass


class FirstLoan(_Event):
    amount_fen: Fen


class RepaymentOnTime(_Event):
    loan_id: Key


class SecondCredit(_Event):
    amount_fen: Fen


class Reversal(_Event):
    event_id: Key

    @model_validator(mode="after")
    def _not_itself(self) -> "Reversal":
        if self.event_id == self.id:
            raise ValueError("event_id: a reversal cannot reverse itself")
        return self


class Payout(_Event):
    amount_fen: Annotated[int, Field(gt=0)]
    rules: ClassVar[dict[str, str]] = {"amount_fen": "must be a positive integer (fen), not a string or a float"}


EVENT_TYPES: dict[str, type[_Event]] = {
    "account_linked": AccountLinked,
    "registered": Registered,
    "credit_approved": CreditApproved,
    "first_loan": FirstLoan,
    "repayment_on_time": RepaymentOnTime,
    "second_credit": SecondCredit,
    "reversal": Reversal,
    "payout": Payout,
}


def parse_event(raw: bytes) -> EventIn:
    """Validates one event body; raises InvalidEvent naming the field, never anything else."""
    data = _load_json(raw)
    canonical = _canonical(data)
    if "type" not in data:
        raise InvalidEvent("type: is required")
    kind = data["type"]
    if not isinstance(kind, str):
        raise InvalidEvent(f"type: {_RULES['type']}")
    model = EVENT_TYPES.get(kind)
    if model is None:
        raise InvalidEvent(f"type: unknown event type {_short(kind)}; expected one of {', '.join(EVENT_TYPES)}")
    try:
        event = model.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(_describe(exc, model.rules)) from None
    return EventIn(
        id=event.id, type=event.type, occurred_at=event.occurred_at,
        telegram_id=event.user.telegram_id, external_id=event.user.external_id,
        amount_fen=getattr(event, "amount_fen", None), loan_id=getattr(event, "loan_id", None),
        event_id=getattr(event, "event_id", None), referral_code=getattr(event, "referral_code", None),
        canonical=canonical,
    )


class _Refused(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # With a repeated key, two readers of the same bytes may disagree on the event; refuse it.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"duplicate key {_short(key)}")
        result[key] = value
    return result


def _no_constant(name: str) -> None:
    raise _Refused(f"{name} is not a JSON number")


def _load_json(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"body: larger than {MAX_EVENT_BYTES // 1024} KiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEvent(f"malformed JSON: not UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InvalidEvent(f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except _Refused as exc:
        raise InvalidEvent(f"malformed JSON: {exc}") from None
    except ValueError:  # the only other one: an integer with more digits than Python converts (4300)
        raise InvalidEvent("malformed JSON: a number has too many digits") from None
    except RecursionError:
        raise InvalidEvent("malformed JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidEvent("body: must be a JSON object")
    return data


def _canonical(data: dict[str, Any]) -> bytes:
    try:
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        # An escape like "\ud800" decodes to text that cannot be stored or re-encoded as UTF-8.
        raise InvalidEvent("malformed JSON: a \\u escape encodes a lone surrogate, not Unicode text") from None
    except RecursionError:
        raise InvalidEvent("malformed JSON: nested too deeply") from None


def _describe(exc: ValidationError, overrides: dict[str, str]) -> str:
    err = exc.errors(include_url=False)[0]
    path = ".".join(str(part) for part in err["loc"])
    if err["type"] == "missing":
        return f"{path}: is required"
    if err["type"] == "value_error":
        message = str(err["ctx"]["error"])
        if message.partition(": ")[0] in _RULES:
            return message  # the validator named the field itself
        return f"{path or 'body'}: {message}"
    rule = overrides.get(path) or _RULES.get(path) or err["msg"]
    return f"{path}: {rule} (got {_short(err.get('input'))})"


def _short(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (str, int, float, bool, type(None))) else \
        type(value).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
