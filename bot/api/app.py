"""The platform's routes on the bot's aiohttp application.

    POST /api/v1/events                  one signed conversion event → intake
    GET  /api/v1/users/{telegram_id}     one user's referral and reward view (signed over an empty body)
    GET  /api/v1/flags                   anti-fraud flags for the risk team (signed over an empty body)

Checks on POST, cheapest first, and all but the last two before the body is read:
  503 API_SECRET unset (nothing is ever accepted unsigned)
  413 Content-Length over 64 KiB
  415 Content-Type other than application/json (a charset other than UTF-8 included)
  401 X-Signature missing or malformed, or its timestamp stale (more than 300 s either way)
  413 the body, read with a cap of 64 KiB + 1 bytes, is larger (Content-Length absent or wrong)
  401 the HMAC does not match
  then intake: 202 accepted, 200 duplicate, 409 conflict, 400 invalid (naming the field) or refused.
On GET: 503, 401, then 400 for a telegram_id that is not a positive integer, 404 for an unknown user.
On GET /api/v1/flags: 503, 401, then 400 naming the first bad query parameter (state, since, limit).

Every /api response is JSON (unknown paths and wrong methods included) and
every /api request is logged on one INFO line without its body.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Awaitable, Callable, Protocol

from aiohttp import web

from bot.api.signing import HEADER, SignatureError, check_digest, check_fresh, parse_header
from bot.clock import Clock, SystemClock
from bot.services.events.outcome import Submission
from bot.services.events.schema import MAX_EVENT_BYTES, MAX_TELEGRAM_ID

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("bot.api")

API_PREFIX = "/api/"
EVENTS_PATH = "/api/v1/events"
USER_PATH = "/api/v1/users/{telegram_id}"
FLAGS_PATH = "/api/v1/flags"
_POSITIVE_INT = re.compile(r"[1-9][0-9]{0,15}")

_dumps = partial(json.dumps, ensure_ascii=False)


class EventIntake(Protocol):
    async def submit(self, raw: bytes, *, received_at: datetime) -> Submission: ...

    async def user_view(self, telegram_id: int) -> dict | None: ...


# (state, since, limit) -> the flags as JSON objects
FlagsReader = Callable[[str, "datetime | None", int], Awaitable[list]]


def add_api_routes(
    app: web.Application,
    intake_factory: Callable[[], EventIntake],
    settings: "Settings",
    *,
    clock: Clock | None = None,
    wall_time: Callable[[], float] = time.time,
    flags_reader: FlagsReader | None = None,
) -> None:
    """Adds the API routes and their middleware to `app` (before it starts).

    `intake_factory` is called once per request. `clock` stamps received_at;
    signatures are checked against `wall_time`, the real clock the platform
    signs with, even when a test shifts the bot's clock. `flags_reader` answers GET /api/v1/flags;
    by default it reads through the intake's App.
    """
    if not settings.api_secret:
        log.warning("API_SECRET is not set: every /api request is answered 503 until it is")
    api = _Api(intake_factory, settings.api_secret, clock or SystemClock(), wall_time,
               flags_reader or _flags_through(intake_factory))
    app.middlewares.append(_json_and_logged)
    app.router.add_post(EVENTS_PATH, api.post_event)
    app.router.add_get(USER_PATH, api.get_user)
    app.router.add_get(FLAGS_PATH, api.get_flags)


def _flags_through(intake_factory: Callable[[], EventIntake]) -> FlagsReader:
    async def read(state: str, since: datetime | None, limit: int) -> list:
        from bot.services.fraud.listing import list_flags

        async with intake_factory().app.uow() as uow:  # type: ignore[attr-defined]
            return await list_flags(uow, state=state, since=since, limit=limit)
    return read


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None, dumps=_dumps)


class _Api:
    def __init__(self, intake_factory: Callable[[], EventIntake], secret: str, clock: Clock,
                 wall_time: Callable[[], float], flags_reader: FlagsReader) -> None:
        self.intake_factory = intake_factory
        self.flags_reader = flags_reader
        self.secret = secret
        self.clock = clock
        self.wall_time = wall_time

    async def post_event(self, request: web.Request) -> web.Response:
        if not self.secret:
            return _error(503, "API_SECRET is not configured")
        if request.content_length is not None and request.content_length > MAX_EVENT_BYTES:
            return _too_large()
        if not _is_json(request):
            return _error(415, "Content-Type must be application/json (UTF-8)")
        try:
            header = parse_header(request.headers.get(HEADER))
            check_fresh(header, self.wall_time())
        except SignatureError as exc:
            return _error(401, str(exc))
        body = await _read_capped(request, MAX_EVENT_BYTES)
        if body is None:
            return _too_large()
        try:
            check_digest(header, self.secret, body)
        except SignatureError as exc:
            return _error(401, str(exc))
        submission = await self.intake_factory().submit(body, received_at=self.clock.now())
        return web.json_response(submission.body, status=submission.http_status, dumps=_dumps)

    def _refuse_unsigned_get(self, request: web.Request) -> web.Response | None:
        """503 without a secret, 401 unless signed (over the empty body) and fresh; None when fine."""
        if not self.secret:
            return _error(503, "API_SECRET is not configured")
        try:
            header = parse_header(request.headers.get(HEADER))
            check_fresh(header, self.wall_time())
            check_digest(header, self.secret, b"")
        except SignatureError as exc:
            return _error(401, str(exc))
        return None

    async def get_user(self, request: web.Request) -> web.Response:
        refused = self._refuse_unsigned_get(request)
        if refused is not None:
            return refused
        raw_id = request.match_info["telegram_id"]
        if not _POSITIVE_INT.fullmatch(raw_id) or int(raw_id) > MAX_TELEGRAM_ID:
            return _error(400, "telegram_id: must be a positive integer (at most 2^53)")
        view = await self.intake_factory().user_view(int(raw_id))
        if view is None:
            return _error(404, f"no user with Telegram id {raw_id}")
        return web.json_response(view, dumps=_dumps)

    async def get_flags(self, request: web.Request) -> web.Response:
        refused = self._refuse_unsigned_get(request)
        if refused is not None:
            return refused
        try:
            state, since, limit = _flag_query(request.query)
        except ValueError as exc:
            return _error(400, str(exc))
        return web.json_response(await self.flags_reader(state, since, limit), dumps=_dumps)


_FLAG_STATES = ("open", "approved", "rejected", "all")
_LIMIT = re.compile(r"[0-9]{1,4}")


def _flag_query(query) -> tuple[str, datetime | None, int]:  # noqa: ANN001
    """(state, since, limit) from the query string; ValueError naming the parameter otherwise."""
    state = query.get("state", "open")
    if state not in _FLAG_STATES:
        raise ValueError(f"state: must be one of {', '.join(_FLAG_STATES)}")
    since = None
    if "since" in query:
        try:
            since = datetime.fromisoformat(query["since"].replace("Z", "+00:00").replace(" ", "+"))
        except ValueError:
            raise ValueError("since: must be an ISO 8601 time, e.g. 2026-11-26T10:00:00+08:00") from None
        if since.tzinfo is None:
            raise ValueError("since: needs a UTC offset, e.g. 2026-11-26T10:00:00+08:00")
    raw_limit = query.get("limit", "100")
    if not _LIMIT.fullmatch(raw_limit) or not 1 <= int(raw_limit) <= 500:
        raise ValueError("limit: must be an integer from 1 to 500")
    return state, since, int(raw_limit)


def _too_large() -> web.Response:
    return _error(413, f"body: larger than {MAX_EVENT_BYTES // 1024} KiB")


def _is_json(request: web.Request) -> bool:
    charset = (request.charset or "utf-8").lower()
    return request.content_type == "application/json" and charset in ("utf-8", "utf8")


async def _read_capped(request: web.Request, limit: int) -> bytes | None:
    """The body, or None if it is longer than `limit`; never holds more than limit + 1 bytes."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await request.content.read(limit + 1 - size)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    return None


@web.middleware
async def _json_and_logged(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    started = time.perf_counter()
    status: int | str = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # no route, wrong method: the same JSON shape as every other answer
        status = exc.status
        extra = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
        return _error(exc.status, exc.reason.lower(), **extra)
    except asyncio.CancelledError:
        status = "cancelled"
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return _error(500, "internal error; the request can be retried")
    finally:
        log.info("%s %s %s %.1f ms", request.method, request.path, status, (time.perf_counter() - started) * 1000)
