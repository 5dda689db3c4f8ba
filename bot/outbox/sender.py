"""The drain loop: claim due outbox rows, send them through the rate limiter, record each outcome.

Claiming marks rows 'sending' with `not_before` moved to the end of a lease
(`not_before` on a 'sending' row means "the claim lapses then"). A claim that
lapsed belongs to a crashed sender; `recover()` puts such rows back to
'pending'. Telegram has no idempotency key, so a row whose send succeeded but
whose 'sent' mark was lost goes out twice. That window is one send wide per
chat in flight: every row is marked (its own small commit) the moment its send
returns, and a claimed row still waiting for the rate limiter has sent nothing,
so requeueing it repeats nothing. At 30 messages/s with a ~50 ms round trip
that is one or two messages at the instant of a crash.

Outcomes: sent; 429 → every send pauses for retry_after and the row waits;
403 "blocked" → 'blocked' and the user is marked blocked; 403 "user is
deactivated" or 400 "chat not found" → 'left' (the account or chat is gone;
the user is marked blocked too, so nothing more is queued for them; "user is
deactivated" also stamps users.deactivated_at, and the anti-fraud check looks at
their referrer's fake referees); any other 400 → 'failed' at once; network
trouble and 5xx → retried with backoff.

Several instances may drain one PostgreSQL outbox: the claim takes rows with
FOR UPDATE SKIP LOCKED, and marks them with the instance's number. A running
instance holds an advisory lock on that number (db/liveness.py), so rows of an
instance that died (kill -9) are taken back at the next start or sweep
instead of when their lease lapses. A task waiting on the rate limiter (a long 429 pause,
a busy group) renews its lease every third of it, checking (state, attempts)
first, so a live claim never lapses and a row another instance did take back
is dropped here rather than sent twice. The transport's timeout must stay
under half a lease.
"""
from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.outbox.queue import unwanted_now
from bot.outbox.ratelimit import RateLimiter
from bot.services.fraud.signals import FraudSignals
from bot.transport import BadRequest, Forbidden, Outgoing, RetryAfter, SendError, Transport
from db.liveness import InstanceLock, live_instances
from db.models import OutboxMessage as Row
from db.models import User
from db.repositories.updates import UpdateRepository
from db.uow import UnitOfWork

# (chat_id, kind, text_key, args) -> what to send; see bot.outbox.render.
Render = Callable[[int, str, str, dict], Awaitable[Outgoing]]

_NO_SYNC = {"synchronize_session": False}


class _Turn(enum.Enum):
    GO = "go"  # the limiter let this send through, with enough lease left
    LOST = "lost"  # the lease lapsed and another sender has the row now
    STOPPING = "stopping"  # stop() was called while it waited


@dataclass
class _Claim:
    id: int
    chat_id: int
    kind: str
    text_key: str
    args: dict
    attempts: int  # including this one
    lease_until: datetime


# Telegram's descriptions for a recipient who is gone rather than unwilling.
_GONE = ("deactivated", "chat not found", "user not found", "peer_id_invalid")


def _gone(exc: SendError) -> bool:
    return any(mark in (getattr(exc, "description", "") or "").lower() for mark in _GONE)


def _describe(exc: BaseException) -> str:
    detail = getattr(exc, "description", "") or str(exc)
    if isinstance(exc, RetryAfter):
        detail = f"retry after {exc.seconds}s {detail}".strip()
    return f"{type(exc).__name__}: {detail}"[:500]


class OutboxSender:
    """Drains the outbox. Use `run()` (until `stop()`) or, in tests and one-shot commands, `drain_once()`."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        transport: Transport,
        render: Render,
        limiter: RateLimiter,
        *,
        clock: Clock | None = None,
        logger: logging.Logger | None = None,
        batch_size: int = 100,
        max_attempts: int = 5,
        concurrency: int = 16,
        poll_interval: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
        backoff_base: float = 2.0,
        backoff_max: float = 900.0,
        prune_interval: timedelta = timedelta(hours=1),
        keep_updates: timedelta = timedelta(days=7),
        stop_grace: float = 10.0,
    ) -> None:
        self._sm = sessionmaker
        self._transport = transport
        self._render = render
        self._limiter = limiter
        self._clock = clock or SystemClock()
        self._log = logger or logging.getLogger("bot.outbox")
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._concurrency = concurrency
        self._poll_interval = poll_interval
        self._lease = lease
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._prune_interval = prune_interval
        self._keep_updates = keep_updates
        self._stop_grace = stop_grace
        # One task per chat at most: that is what keeps sends to one chat sequential.
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._sending: set[int] = set()  # chats whose send call is under way
        self._nudge = asyncio.Event()
        self._stopping = asyncio.Event()
        # Only run() holds the liveness lock; rows claimed without it (drain_once) carry no
        # instance number and come back by their lease alone.
        self._liveness: InstanceLock | None = None

    # -- control -------------------------------------------------------------

    def wake(self) -> None:
        """Call after committing a row, so it leaves now instead of at the next poll."""
        self._nudge.set()

    def stop(self) -> None:
        self._stopping.set()
        self._nudge.set()

    async def run(self) -> None:
        self._stopping.clear()
        engine = self._sm.kw.get("bind")
        if engine is not None and engine.dialect.name == "postgresql":
            self._liveness = InstanceLock(engine)
            await self._liveness.hold()
        await self.recover(startup=True)
        next_sweep = next_prune = self._clock.now()
        try:
            while not self._stopping.is_set():
                # Cleared before looking for work, so a wake() during the claim is not lost.
                self._nudge.clear()
                try:
                    now = self._clock.now()
                    if now >= next_sweep:
                        if self._liveness is not None:
                            await self._liveness.hold()  # again, if the database restarted
                        await self.recover()
                        next_sweep = now + self._lease / 2
                    if now >= next_prune:
                        await self.prune_handled_updates()
                        next_prune = now + self._prune_interval
                    free = self._concurrency - len(self._tasks)
                    if free > 0 and await self._claim_and_start(free):
                        continue
                except Exception as exc:  # the database is down or similar: keep the loop alive
                    self._log.warning("outbox loop: %s", exc, exc_info=True)
                try:
                    await asyncio.wait_for(self._nudge.wait(), self._poll_interval)
                except TimeoutError:
                    pass
        finally:
            await self._wind_down()
            if self._liveness is not None:
                await self._liveness.release()
                self._liveness = None

    async def drain_once(self) -> int:
        """Send everything due now and wait for the outcomes; returns the rows handled.

        Not to be run alongside `run()` on the same instance.
        """
        self._stopping.clear()  # an earlier stop() would have every send hand its row straight back
        handled = 0
        while True:
            free = self._concurrency - len(self._tasks)
            claimed = await self._claim_and_start(free) if free > 0 else 0
            handled += claimed
            if claimed:
                continue
            if not self._tasks:
                return handled
            await asyncio.wait(list(self._tasks.values()), return_when=asyncio.FIRST_COMPLETED)

    # -- housekeeping --------------------------------------------------------

    async def recover(self, *, startup: bool = False) -> int:
        """Put rows whose claim lapsed back to 'pending'; returns how many.

        At start-up on SQLite every 'sending' row is taken back at once: SQLite
        means one bot process, so nobody else can be mid-send. On PostgreSQL
        other instances may be, so only lapsed leases and rows of instances that
        hold no liveness lock (dead ones) are taken back, at start and every
        half lease. A row interrupted mid-send `max_attempts` times
        is failed rather than retried: it may be what crashes the process.
        """
        now = self._clock.now()
        async with self._sm() as session, session.begin():
            lapsed = [Row.state == "sending"]
            dialect = session.get_bind().dialect.name
            if dialect == "postgresql":
                dead = and_(Row.claimed_by.is_not(None), Row.claimed_by.not_in(await live_instances(session)))
                lapsed.append(or_(Row.not_before <= now, dead))
            elif not startup:
                lapsed.append(Row.not_before <= now)
            failed = await session.execute(
                update(Row)
                .where(*lapsed, Row.attempts >= self._max_attempts)
                .values(state="failed", last_error="interrupted mid-send too often")
                .execution_options(**_NO_SYNC)
            )
            back = await session.execute(
                update(Row).where(*lapsed).values(state="pending", not_before=now).execution_options(**_NO_SYNC)
            )
        if failed.rowcount or back.rowcount:
            self._log.warning(
                "outbox: %d interrupted sends requeued (each may repeat once), %d failed",
                back.rowcount, failed.rowcount,
            )
        return back.rowcount + failed.rowcount

    async def prune_handled_updates(self) -> int:
        """Forget update ids older than `keep_updates`; Telegram redelivers for 24 h at most."""
        async with self._sm() as session, session.begin():
            pruned = await UpdateRepository(session).prune(self._clock.now() - self._keep_updates)
        if pruned:
            self._log.info("pruned %d handled update ids", pruned)
        return pruned

    # -- claiming ------------------------------------------------------------

    async def _claim_and_start(self, limit: int) -> int:
        claims, blocked = await self._claim(limit)
        for claim in claims:
            task = asyncio.create_task(self._deliver(claim), name=f"outbox-{claim.id}")
            self._tasks[claim.chat_id] = task
            task.add_done_callback(lambda t, chat=claim.chat_id: self._finished(chat, t))
        return len(claims) + blocked

    async def _claim(self, limit: int) -> tuple[list[_Claim], int]:
        """Take up to `limit` due rows, one per chat not already in flight here.

        Rows whose recipient has blocked the bot are marked 'blocked' on the way, and
        tips, rule notices and broadcasts no longer wanted (bot.outbox.queue.unwanted_now) 'cancelled'.
        """
        now = self._clock.now()
        lease_until = now + self._lease
        async with self._sm() as session, session.begin():
            user_status = select(User.status).where(User.id == Row.chat_id).scalar_subquery()
            tips_on = select(User.tips_enabled).where(User.id == Row.chat_id).scalar_subquery()
            query = (
                select(Row.id, Row.chat_id, Row.kind, Row.priority, Row.text_key, Row.args, Row.attempts,
                       user_status.label("user_status"), tips_on.label("tips_on"))
                .where(Row.state == "pending", Row.not_before <= now)
                .order_by(Row.priority, Row.id)
                .limit(self._batch_size)
            )
            if self._tasks:
                query = query.where(Row.chat_id.not_in(list(self._tasks)))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=Row)
            blocked, unwanted, chosen, chats = [], [], {}, set()
            for row in (await session.execute(query)).all():
                if row.user_status == "blocked":
                    blocked.append(row.id)
                elif unwanted_now(kind=row.kind, priority=row.priority, status=row.user_status,
                                  tips_enabled=row.tips_on):
                    unwanted.append(row.id)
                elif row.chat_id not in chats and len(chosen) < limit:
                    chats.add(row.chat_id)
                    chosen[row.id] = row
            for ids, state, why in ((blocked, "blocked", "recipient blocked the bot"),
                                    (unwanted, "cancelled", "recipient frozen, or tips turned off, since queued")):
                if ids:
                    await session.execute(
                        update(Row).where(Row.id.in_(ids), Row.state == "pending")
                        .values(state=state, last_error=why).execution_options(**_NO_SYNC)
                    )
            if not chosen:
                return [], len(blocked) + len(unwanted)
            # Re-checking the state keeps the claim honest without row locks (SQLite).
            taken = await session.execute(
                update(Row)
                .where(Row.id.in_(list(chosen)), Row.state == "pending")
                .values(state="sending", attempts=Row.attempts + 1, not_before=lease_until,
                        claimed_by=self._liveness.instance if self._liveness is not None else None)
                .returning(Row.id)
                .execution_options(**_NO_SYNC)
            )
            ids = set(taken.scalars())
        claims = [
            _Claim(r.id, r.chat_id, r.kind, r.text_key, r.args or {}, r.attempts + 1, lease_until)
            for r in chosen.values()
            if r.id in ids
        ]
        return claims, len(blocked) + len(unwanted)

    # -- sending -------------------------------------------------------------

    async def _deliver(self, claim: _Claim) -> None:
        try:
            await self._attempt(claim)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # recording the outcome failed; the lease brings the row back
            self._log.warning("outbox %s: could not record outcome: %s", claim.id, exc, exc_info=True)

    async def _attempt(self, claim: _Claim) -> None:
        try:
            out = await self._render(claim.chat_id, claim.kind, claim.text_key, claim.args)
            turn = await self._wait_turn(claim, out.paid)
        except asyncio.CancelledError:
            await self._release(claim)
            raise
        except Exception as exc:
            await self._retry_later(claim, exc, expected=False)
            return
        if turn is _Turn.STOPPING:
            await self._release(claim)
            return
        if turn is _Turn.LOST:
            return
        self._sending.add(claim.chat_id)
        try:
            if out.copy_from is not None:
                await self._transport.copy_message(claim.chat_id, *out.copy_from, keyboard=out.keyboard,
                                                   paid=out.paid)
            else:
                assert out.text is not None
                await self._transport.send_message(claim.chat_id, out.text, out.keyboard, paid=out.paid)
        except RetryAfter as exc:
            await self._limiter.pause(exc.seconds)
            await self._paused(claim, exc)
        except Forbidden as exc:
            await self._blocked(claim, exc, "left" if _gone(exc) else "blocked")
        except BadRequest as exc:
            if _gone(exc) and claim.chat_id > 0:
                await self._blocked(claim, exc, "left")
            else:
                await self._finish(claim, "failed", exc)
        except SendError as exc:
            await self._retry_later(claim, exc, expected=True)
        except asyncio.CancelledError:
            raise  # delivered or not, nobody knows: the row stays 'sending' until its lease lapses
        except Exception as exc:
            await self._retry_later(claim, exc, expected=False)
        else:
            await self._sent(claim)
        finally:
            self._sending.discard(claim.chat_id)

    async def _wait_turn(self, claim: _Claim, paid: bool = False) -> _Turn:
        """Wait for the limiter, keeping the lease alive, until it is this send's turn, another
        sender has the row (the lease lapsed), or stop() was called."""
        # Unpaid sends call acquire(chat_id) alone, so a limiter without paid budgets still fits.
        acquire = (lambda: self._limiter.acquire(claim.chat_id, paid=True)) if paid else (
            lambda: self._limiter.acquire(claim.chat_id))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            while True:
                # stop() ends the wait here rather than by cancelling the task, so a cancellation
                # never lands inside a database call of _render or _renew.
                turn = asyncio.ensure_future(acquire())
                done, _ = await asyncio.wait({turn, stopping}, timeout=self._lease.total_seconds() / 3,
                                             return_when=asyncio.FIRST_COMPLETED)
                if turn not in done:
                    turn.cancel()
                    await asyncio.gather(turn, return_exceptions=True)
                    if stopping in done:
                        return _Turn.STOPPING
                    if not await self._renew(claim):
                        return _Turn.LOST
                    continue
                turn.result()
                # Start a send only with at least half a lease left: the send may take that long.
                if self._clock.now() < claim.lease_until - self._lease / 2 or await self._renew(claim):
                    return _Turn.GO
                return _Turn.LOST
        finally:
            stopping.cancel()

    async def _renew(self, claim: _Claim) -> bool:
        now = self._clock.now()
        async with self._sm() as session, session.begin():
            result = await session.execute(
                update(Row)
                .where(Row.id == claim.id, Row.state == "sending", Row.attempts == claim.attempts)
                .values(not_before=now + self._lease)
                .execution_options(**_NO_SYNC)
            )
        if result.rowcount:
            claim.lease_until = now + self._lease
            return True
        self._log.info("outbox %s: the lease lapsed and the row was taken back; not sending", claim.id)
        return False

    def _finished(self, chat_id: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(chat_id) is task:
            del self._tasks[chat_id]
        self._nudge.set()

    async def _wind_down(self) -> None:
        """Let every send finish or hand its row back (sends still waiting for the limiter see
        `_stopping` and do that at once); cancel only those still at it after the grace period."""
        tasks = list(self._tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self._stop_grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- outcomes ------------------------------------------------------------

    async def _update(self, claim: _Claim, **values: object) -> None:
        async with self._sm() as session, session.begin():
            await session.execute(
                update(Row).where(Row.id == claim.id, Row.state == "sending").values(**values)
                .execution_options(**_NO_SYNC)
            )

    async def _sent(self, claim: _Claim) -> None:
        async with self._sm() as session, session.begin():
            # By id alone: it did go out, whatever another sender thinks.
            await session.execute(
                update(Row).where(Row.id == claim.id)
                .values(state="sent", sent_at=self._clock.now(), last_error=None)
                .execution_options(**_NO_SYNC)
            )
        self._log.debug("outbox %s sent to %s", claim.id, claim.chat_id)

    async def _finish(self, claim: _Claim, state: str, exc: BaseException) -> None:
        await self._update(claim, state=state, last_error=_describe(exc))
        self._log.warning("outbox %s to %s %s: %s", claim.id, claim.chat_id, state, _describe(exc))

    async def _paused(self, claim: _Claim, exc: RetryAfter) -> None:
        # Telegram's own throttling is not the message's fault: the attempt is given back.
        delay = timedelta(seconds=max(exc.seconds, 1.0))
        await self._update(
            claim, state="pending", attempts=Row.attempts - 1,
            not_before=self._clock.now() + delay, last_error=_describe(exc),
        )
        self._log.warning("outbox %s: Telegram asked to pause all sends for %ss", claim.id, exc.seconds)

    async def _blocked(self, claim: _Claim, exc: SendError, state: str = "blocked") -> None:
        """The recipient blocked the bot ('blocked') or is gone ('left'): nothing more goes to them."""
        why = "recipient blocked the bot" if state == "blocked" else "recipient's account or chat is gone"
        async with self._sm() as session, session.begin():
            await session.execute(
                update(Row).where(Row.id == claim.id).values(state=state, last_error=_describe(exc))
                .execution_options(**_NO_SYNC)
            )
            await session.execute(
                update(Row).where(Row.chat_id == claim.chat_id, Row.state == "pending")
                .values(state=state, last_error=why)
                .execution_options(**_NO_SYNC)
            )
            # A frozen user stays frozen: freezing is an admin decision this must not undo.
            await session.execute(
                update(User).where(User.id == claim.chat_id, User.status != "frozen").values(status="blocked")
                .execution_options(**_NO_SYNC)
            )
        self._log.warning("outbox %s: chat %s %s: %s", claim.id, claim.chat_id,
                          "blocked the bot" if state == "blocked" else "is gone", _describe(exc))
        if claim.chat_id > 0 and "deactivated" in (getattr(exc, "description", "") or "").lower():
            await self._deactivated(claim.chat_id)

    async def _deactivated(self, user_id: int) -> None:
        """A deleted account: recorded on the user, and their referrer judged for fake referees."""
        async with UnitOfWork(self._sm) as uow:
            flag = await FraudSignals(uow).after_deactivated(user_id, self._clock.now())
            await uow.commit()
        if flag is not None:
            self._log.info("user %s is a deleted account; their referrer now has fraud flag #%s", user_id, flag)

    async def _retry_later(self, claim: _Claim, exc: BaseException, *, expected: bool) -> None:
        if claim.attempts >= self._max_attempts:
            await self._finish(claim, "failed", exc)
            return
        delay = min(self._backoff_base * 2 ** (claim.attempts - 1), self._backoff_max)
        await self._update(
            claim, state="pending", not_before=self._clock.now() + timedelta(seconds=delay),
            last_error=_describe(exc),
        )
        # A traceback only for what is not a known Telegram failure.
        self._log.warning(
            "outbox %s to %s: attempt %d/%d failed, retrying in %.0fs: %s",
            claim.id, claim.chat_id, claim.attempts, self._max_attempts, delay, _describe(exc),
            exc_info=not expected,
        )

    async def _release(self, claim: _Claim) -> None:
        """Hand an unsent claim back untouched (shutdown)."""
        try:
            await self._update(claim, state="pending", attempts=Row.attempts - 1, not_before=self._clock.now())
        except Exception as exc:
            self._log.warning("outbox %s: could not release on shutdown: %s", claim.id, exc)
