"""What raises a fraud flag on a referrer, and the evidence kept with it.

* velocity_hour / velocity_day: more than FRAUD_HOURLY_BINDINGS bindings under one referrer in the
  last 60 minutes, or more than FRAUD_DAILY_BINDINGS since local midnight (TIMEZONE); agents, who
  sign up whole stations, have AGENT_HOURLY_BINDINGS / AGENT_DAILY_BINDINGS instead.
* burst: FRAUD_BURST_COUNT bindings under one referrer within FRAUD_BURST_SECONDS. Agents are
  exempt: a poster at a station is scanned by a queue of residents at once, and their hourly and
  daily limits still bound them.
* idle_tier: at the moment a tier bonus is due, the referrer has at least IDLE_MIN_REFEREES direct
  referees and at least IDLE_SHARE of them are idle (the platform never reported anything about
  them beyond a registration: no link, credit check, loan or repayment).
* fake_referees: at least FAKE_REFEREES of the referrer's direct referees are bot accounts or
  deleted accounts (Telegram answered "user is deactivated"), counting bots that joined a group
  through the referrer's invite links.

Every binding (deep link, /bind, platform `registered`, group) is judged on three windowed counts
over ix_bindings_referrer_bound, read with the binding's other look-ups (db/repositories/
binding_snapshot.py); the timeline is read only when a limit is crossed. A second crossing while a flag of that kind is open adds to its evidence instead of
raising another flag (at most one open flag per user and kind, by a partial unique index).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from db.repositories.flags import BindingCounts
from db.uow import UnitOfWork

KINDS = ("velocity_hour", "velocity_day", "burst", "idle_tier", "fake_referees")
IDLE_MIN_REFEREES = 10
IDLE_SHARE_PERCENT = 80
FAKE_REFEREES = 3
TIMELINE = 20  # binding times kept in a flag's evidence, newest


@dataclass(frozen=True)
class FraudLimits:
    hourly: int = 5
    daily: int = 20
    agent_hourly: int = 60
    agent_daily: int = 300
    burst_count: int = 4
    burst_seconds: float = 10.0
    tz: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def windows(self, now: datetime) -> tuple[datetime, datetime, datetime]:
        """When the day, hour and burst windows that end at `now` opened."""
        return (local_midnight(now, self.tz), now - timedelta(hours=1),
                now - timedelta(seconds=self.burst_seconds))

    @classmethod
    def from_settings(cls, settings) -> "FraudLimits":  # noqa: ANN001
        return cls(hourly=settings.fraud_hourly_bindings, daily=settings.fraud_daily_bindings,
                   agent_hourly=settings.agent_hourly_bindings, agent_daily=settings.agent_daily_bindings,
                   burst_count=settings.fraud_burst_count, burst_seconds=settings.fraud_burst_seconds,
                   tz=settings.tz)


def local_midnight(now: datetime, tz: tzinfo) -> datetime:
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def merge_evidence(old: dict, new: dict) -> dict:
    """Newer counts win; the peak and the timeline accumulate."""
    merged = {**old, **new}
    if "count" in new:
        merged["peak"] = max(int(old.get("peak", old.get("count", 0))), int(new["count"]))
    if "times" in old or "times" in new:
        merged["times"] = sorted(set(old.get("times", [])) | set(new.get("times", [])))[-TIMELINE:]
    merged["updates"] = int(old.get("updates", 0)) + 1
    return merged


class FraudSignals:
    def __init__(self, uow: UnitOfWork, limits: FraudLimits | None = None) -> None:
        self.uow = uow
        self.limits = limits or FraudLimits()

    async def raise_flag(self, user_id: int, kind: str, evidence: dict, now: datetime) -> int:
        """Opens a flag, or adds the evidence to the open one of that kind; its id either way."""
        flags = self.uow.flags
        existing = await flags.open_of(user_id, kind)
        if existing is None:
            first = {**evidence, "peak": evidence["count"]} if "count" in evidence else evidence
            new_id = await flags.insert_open(user_id, kind, first, now)
            if new_id is not None:
                return new_id
            existing = await flags.open_of(user_id, kind)  # a concurrent binding opened it first
            assert existing is not None
        await flags.set_evidence(existing.id, merge_evidence(existing.evidence, evidence))
        return existing.id

    async def after_binding(self, referrer_id: int, role: str, now: datetime, counts: BindingCounts) -> list[int]:
        """Velocity and burst, right after a binding under `referrer_id` was written. `counts`: the
        windows as the binding's own look-up read them (db/repositories/binding_snapshot.py), that
        binding included."""
        limits = self.limits
        agent = role == "agent"
        midnight, hour_ago, burst_from = limits.windows(now)
        hourly, daily = (limits.agent_hourly, limits.agent_daily) if agent else (limits.hourly, limits.daily)
        hits: list[tuple[str, dict, datetime]] = []
        if counts.hour > hourly:
            hits.append(("velocity_hour", {"count": counts.hour, "limit": hourly, "window": "1h"}, hour_ago))
        if counts.day > daily:
            day = now.astimezone(limits.tz).date().isoformat()
            hits.append(("velocity_day", {"count": counts.day, "limit": daily, "day": day}, midnight))
        if not agent and counts.burst >= limits.burst_count:
            hits.append(("burst", {"count": counts.burst, "limit": limits.burst_count,
                                   "seconds": limits.burst_seconds}, burst_from))
        raised = []
        for kind, evidence, since in hits:
            times = await self.uow.flags.binding_times(referrer_id, since, TIMELINE)
            evidence.update(agent=agent, times=[_iso(t) for t in times])
            raised.append(await self.raise_flag(referrer_id, kind, evidence, now))
        return raised

    async def before_tier_bonus(self, referrer_id: int, tier_rule: str, now: datetime) -> int | None:
        """idle_tier, checked when a tier bonus is due (before it is written, so the flag holds it)."""
        total, idle = await self.uow.flags.referee_activity(referrer_id)
        if total < IDLE_MIN_REFEREES or idle * 100 < IDLE_SHARE_PERCENT * total:
            return None
        return await self.raise_flag(referrer_id, "idle_tier", {
            "referees": total, "idle": idle, "share_percent": round(100 * idle / total), "tier": tier_rule,
            "min_referees": IDLE_MIN_REFEREES, "limit_percent": IDLE_SHARE_PERCENT}, now)

    async def check_fake_referees(self, referrer_id: int, now: datetime) -> int | None:
        """fake_referees: call after learning that a referee (or a group joiner) is a bot or deleted."""
        # Several referees found deleted at once (the sender works in parallel) must not each count
        # only themselves: with the referrer's row locked, the last of them sees all the others.
        await self.uow.users.lock(referrer_id)
        bots, deleted, group_bots = await self.uow.flags.fake_referees(referrer_id)
        found = len(bots) + len(deleted) + len(group_bots)
        if found < FAKE_REFEREES:
            return None
        return await self.raise_flag(referrer_id, "fake_referees", {
            "count": found, "limit": FAKE_REFEREES, "bots": len(bots), "deleted": len(deleted),
            "group_bots": len(group_bots), "users": (bots + deleted + group_bots)[:TIMELINE]}, now)

    async def after_deactivated(self, user_id: int, now: datetime) -> int | None:
        """Telegram said the account is deleted: record it once, then judge their referrer."""
        if not await self.uow.flags.mark_deactivated(user_id, now):
            return None
        referrer = await self.uow.flags.referrer_of(user_id)
        if referrer is None:
            return None
        return await self.check_fake_referees(referrer, now)
