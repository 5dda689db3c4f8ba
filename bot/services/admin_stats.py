"""/stats: the program at a glance, in a handful of set-based queries.

Built for a million users: every figure is one aggregate statement, never a
loop over users. Which ones read a whole table (unavoidable for a total over
everything, and each a single pass):

* users: one pass over `users` computing every per-user figure at once;
* bound: a count of `bindings` (PostgreSQL counts by scanning, its index or the heap);
* referrals by level: a GROUP BY over `referral_counts` (one row per referrer and depth,
  far fewer than the closure's rows);
* ledger totals: a GROUP BY kind over `ledger_entries`;
* funnel: the credit-approved step joins `bindings` to `users` by primary key; the
  first-loan step reads the first_loan events (no index leads with type).

Events today is a range scan of `ix_events_received`; open fraud flags one of
`ix_fraud_flags_state`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from db.models import Binding, Event, FraudFlag, LedgerEntry, ReferralCount, User
from db.uow import UnitOfWork

LEDGER_KINDS = ("reward", "tier_bonus", "reversal", "payout")


@dataclass(frozen=True)
class Funnel:
    joined: int
    bound: int
    credit_approved: int  # bound users whose credit check passed
    first_loan: int  # bound, approved users with an applied first_loan event


@dataclass(frozen=True)
class Stats:
    day: date  # "today", in the configured zone
    users: int
    active: int
    frozen: int
    blocked: int  # blocked the bot
    platform_only: int  # known to the platform, never talked to the bot
    agents: int
    admins: int  # promoted in the database; ADMIN_IDS come on top
    tips_off: int
    bound: int
    referrals_by_level: dict[int, int]
    events_today: dict[str, int]
    # Positive amounts in fen: earned as rewards, as tier bonuses, clawed back, paid out.
    ledger: dict[str, int] = field(default_factory=dict)
    funnel: Funnel | None = None
    open_flags: int = 0  # anti-fraud flags waiting for /review


def _count_if(condition):  # noqa: ANN001, ANN202
    # SUM(CASE ...) rather than FILTER: one spelling that both dialects run.
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def local_day_bounds(now: datetime, tz: ZoneInfo) -> tuple[date, datetime, datetime]:
    """Today's date in `tz` and its start and end in UTC."""
    day = now.astimezone(tz).date()
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return day, start.astimezone(timezone.utc), end.astimezone(timezone.utc)


class AdminStats:
    def __init__(self, uow: UnitOfWork, tz: ZoneInfo) -> None:
        self.session = uow.session
        self.tz = tz

    async def collect(self, now: datetime) -> Stats:
        s = self.session
        users = (await s.execute(select(
            func.count(),
            _count_if(User.status == "active"),
            _count_if(User.status == "frozen"),
            _count_if(User.status == "blocked"),
            _count_if(User.id < 0),
            _count_if(User.role == "agent"),
            _count_if(User.role == "admin"),
            _count_if(User.tips_enabled.is_(False)),
        ))).one()
        total, active, frozen, blocked, platform_only, agents, admins, tips_off = (int(v) for v in users)

        bound = int((await s.execute(select(func.count()).select_from(Binding))).scalar_one())

        by_level = {int(depth): int(n) for depth, n in await s.execute(
            select(ReferralCount.depth, func.sum(ReferralCount.count)).group_by(ReferralCount.depth))}

        day, start, end = local_day_bounds(now, self.tz)
        events_today = {kind: int(n) for kind, n in await s.execute(
            select(Event.type, func.count()).where(Event.received_at >= start, Event.received_at < end)
            .group_by(Event.type).order_by(Event.type))}

        sums = {kind: int(n) for kind, n in await s.execute(
            select(LedgerEntry.kind, func.sum(LedgerEntry.amount_fen)).group_by(LedgerEntry.kind))}
        # Reversals and payouts are stored negative; an admin reads them as amounts.
        ledger = {kind: abs(sums.get(kind, 0)) for kind in LEDGER_KINDS}

        approved = int((await s.execute(
            select(func.count()).select_from(Binding).join(User, User.id == Binding.referee_id)
            .where(User.credit_approved_at.is_not(None)))).scalar_one())
        first_loan = int((await s.execute(
            select(func.count(func.distinct(Event.user_id))).select_from(Event)
            .join(Binding, Binding.referee_id == Event.user_id).join(User, User.id == Event.user_id)
            .where(Event.type == "first_loan", Event.outcome == "applied", User.credit_approved_at.is_not(None))
        )).scalar_one())

        # ix_fraud_flags_state leads with the state: a range scan over the open ones.
        open_flags = int((await s.execute(
            select(func.count()).select_from(FraudFlag).where(FraudFlag.state == "open"))).scalar_one())

        return Stats(
            day=day, users=total, active=active, frozen=frozen, blocked=blocked, platform_only=platform_only,
            agents=agents, admins=admins, tips_off=tips_off, bound=bound, referrals_by_level=by_level,
            events_today=events_today, ledger=ledger,
            funnel=Funnel(joined=total, bound=bound, credit_approved=approved, first_loan=first_loan),
            open_flags=open_flags,
        )
