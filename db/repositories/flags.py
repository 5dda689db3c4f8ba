"""Fraud flags and the counts the anti-fraud signals read (bindings, idle and fake referees)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from db.core import run
from db.models import Binding, Event, FraudFlag, GroupJoin, GroupLink, ReferralClosure, User
from db.repositories.base import Repository


@dataclass(frozen=True)
class FlagRow:
    id: int
    user_id: int
    kind: str
    state: str
    evidence: dict
    created_at: datetime
    reviewed_at: datetime | None
    reviewed_by: int | None
    decision_reason: str | None


@dataclass(frozen=True)
class BindingCounts:
    hour: int
    day: int
    burst: int


_COLUMNS = (FraudFlag.id, FraudFlag.user_id, FraudFlag.kind, FraudFlag.state, FraudFlag.evidence,
            FraudFlag.created_at, FraudFlag.reviewed_at, FraudFlag.reviewed_by, FraudFlag.decision_reason)

_OPEN_IDS = select(FraudFlag.id).where(FraudFlag.user_id == bindparam("uid"), FraudFlag.state == "open") \
    .order_by(FraudFlag.id)
# Lock modes on an open flag. A conversion reads it as a hold with FOR KEY SHARE; a review deciding it
# takes FOR UPDATE (get(lock=True)), so the two wait for each other and no held earning slips past the
# decision. A signal adding evidence to the open flag (open_of) takes FOR NO KEY UPDATE, which a hold's
# KEY SHARE does not block: two first loans that both hold the referrer's flag and both screen a tier
# would otherwise each wait for the other's hold to end (PostgreSQL broke that deadlock with a 500).
# earliest_open, without and with the hold's lock; every held earning asks: built once.
_EARLIEST = {False: _OPEN_IDS.limit(1), True: _OPEN_IDS.limit(1).with_for_update(read=True, key_share=True)}


# A first loan whose tier screen raised a flag reads its beneficiaries' holds again here (the
# conversion's upline read brings them otherwise, db/repositories/users.py): built once.
_EARLIEST_OPEN = (select(FraudFlag.id, FraudFlag.user_id)
                  .where(FraudFlag.user_id.in_(bindparam("ids", expanding=True)), FraudFlag.state == "open")
                  .order_by(FraudFlag.id).with_for_update(read=True, key_share=True))

# A velocity or burst hit runs these on the binding's own turn: built once.
_BINDING_TIMES = (select(Binding.bound_at)
                  .where(Binding.referrer_id == bindparam("rid"), Binding.bound_at >= bindparam("since"))
                  .order_by(Binding.bound_at.desc()).limit(bindparam("lim")))
_OPEN_OF = (select(*_COLUMNS)
            .where(FraudFlag.user_id == bindparam("uid"), FraudFlag.kind == bindparam("kind"),
                   FraudFlag.state == "open").with_for_update(key_share=True))
_SET_EVIDENCE = update(FraudFlag).where(FraudFlag.id == bindparam("fid")).values(evidence=bindparam("ev"))


class FlagRepository(Repository):
    # -- signals' counts -----------------------------------------------------------------------

    async def binding_times(self, referrer_id: int, since: datetime, limit: int) -> list[datetime]:
        """The newest binding times under a referrer since `since`, oldest first (a flag's timeline)."""
        rows = await run(self.tx, _BINDING_TIMES, {"rid": referrer_id, "since": since, "lim": limit})
        return sorted(r[0] for r in rows)

    async def referee_activity(self, referrer_id: int) -> tuple[int, int]:
        """(direct referees, idle ones): idle = the platform never reported anything about them
        beyond a registration (no link, credit check, loan or repayment)."""
        active = exists().where(Event.user_id == ReferralClosure.descendant_id, Event.type != "registered",
                                Event.outcome == "applied")
        total, idle = (await self.session.execute(
            select(func.count(), func.coalesce(func.sum(case((~active, 1), else_=0)), 0))
            .where(ReferralClosure.ancestor_id == referrer_id, ReferralClosure.depth == 1))).one()
        return int(total), int(idle)

    async def fake_referees(self, referrer_id: int) -> tuple[list[int], list[int], list[int]]:
        """(bot referees, deleted-account referees, bots who joined a group through the referrer's links)."""
        rows = await self.session.execute(
            select(User.id, User.is_bot, User.deactivated_at.is_not(None))
            .join(ReferralClosure, ReferralClosure.descendant_id == User.id)
            .where(ReferralClosure.ancestor_id == referrer_id, ReferralClosure.depth == 1,
                   or_(User.is_bot, User.deactivated_at.is_not(None))))
        bots, deleted = [], []
        for uid, is_bot, gone in rows:
            (bots if is_bot else deleted).append(int(uid))
        group_bots = [int(uid) for (uid,) in await self.session.execute(
            select(GroupJoin.user_id).join(GroupLink, GroupLink.id == GroupJoin.link_id)
            .where(GroupLink.owner_id == referrer_id, GroupJoin.is_bot).distinct())]
        return bots, deleted, sorted(set(group_bots) - set(bots))

    async def mark_deactivated(self, user_id: int, now: datetime) -> bool:
        """Records that Telegram called the account deleted; True the first time."""
        result = await self.session.execute(
            update(User).where(User.id == user_id, User.deactivated_at.is_(None)).values(deactivated_at=now))
        return result.rowcount == 1

    async def referrer_of(self, user_id: int) -> int | None:
        return (await self.session.execute(
            select(Binding.referrer_id).where(Binding.referee_id == user_id))).scalar_one_or_none()

    # -- flags -----------------------------------------------------------------------------------

    async def get(self, flag_id: int, *, lock: bool = False) -> FlagRow | None:
        query = select(*_COLUMNS).where(FraudFlag.id == flag_id)
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return FlagRow(*row) if row else None

    async def open_ids(self, user_id: int) -> tuple[int, ...]:
        """The user's open flags, oldest first: (usually) none, one index probe."""
        rows = await run(self.tx, _OPEN_IDS, {"uid": user_id})
        return tuple(r[0] for r in rows)

    async def earliest_open(self, user_id: int, *, share_lock: bool = False) -> int | None:
        """The flag a new earning of theirs is held by. The share lock makes a reject that is deciding
        that flag wait for (or be waited on by) this transaction, so no held entry slips past it."""
        return (await run(self.tx, _EARLIEST[share_lock], {"uid": user_id})).scalar_one_or_none()

    async def earliest_open_of(self, user_ids: list[int]) -> dict[int, int]:
        """earliest_open(share_lock=True) for several users in one statement: {user: flag} for those with one."""
        if not user_ids:
            return {}
        rows = await run(self.tx, _EARLIEST_OPEN, {"ids": list(user_ids)})
        earliest: dict[int, int] = {}
        for flag_id, user_id in rows:
            earliest.setdefault(user_id, flag_id)
        return earliest

    async def open_of(self, user_id: int, kind: str) -> FlagRow | None:
        row = (await run(self.tx, _OPEN_OF, {"uid": user_id, "kind": kind})).first()
        return FlagRow(*row) if row else None

    async def insert_open(self, user_id: int, kind: str, evidence: dict, now: datetime) -> int | None:
        """A new open flag, or None when one of that kind is already open (the partial unique index)."""
        try:
            async with self.session.begin_nested():
                flag = FraudFlag(user_id=user_id, kind=kind, state="open", evidence=evidence, created_at=now)
                self.session.add(flag)
                await self.session.flush()
                return flag.id
        except IntegrityError:
            return None

    async def set_evidence(self, flag_id: int, evidence: dict) -> None:
        await run(self.tx, _SET_EVIDENCE, {"fid": flag_id, "ev": evidence})

    async def decide(self, flag_id: int, state: str, *, by: int | None, at: datetime, reason: str | None) -> bool:
        """open → approved | rejected, once; False if it was already decided."""
        result = await self.session.execute(
            update(FraudFlag).where(FraudFlag.id == flag_id, FraudFlag.state == "open")
            .values(state=state, reviewed_at=at, reviewed_by=by, decision_reason=reason))
        return result.rowcount == 1

    async def queue(self, limit: int) -> list[FlagRow]:
        """Open flags, oldest first."""
        rows = await self.session.execute(
            select(*_COLUMNS).where(FraudFlag.state == "open")
            .order_by(FraudFlag.created_at, FraudFlag.id).limit(limit))
        return [FlagRow(*r) for r in rows]

    async def count_open(self) -> int:
        return (await self.session.execute(
            select(func.count()).select_from(FraudFlag).where(FraudFlag.state == "open"))).scalar_one()

    async def listing(self, *, state: str | None, since: datetime | None, limit: int) -> list[tuple[FlagRow, str | None]]:
        """Flags for the platform, oldest first, each with its user's external id."""
        query = select(*_COLUMNS, User.external_id).join(User, User.id == FraudFlag.user_id)
        if state is not None:
            query = query.where(FraudFlag.state == state)
        if since is not None:
            query = query.where(FraudFlag.created_at >= since)
        rows = await self.session.execute(query.order_by(FraudFlag.created_at, FraudFlag.id).limit(limit))
        return [(FlagRow(*r[:-1]), r[-1]) for r in rows]

    async def all_flags(self) -> list[tuple[FlagRow, str | None]]:
        rows = await self.session.execute(
            select(*_COLUMNS, User.external_id).join(User, User.id == FraudFlag.user_id).order_by(FraudFlag.id))
        return [(FlagRow(*r[:-1]), r[-1]) for r in rows]


    async def open_of_users(self, user_ids: list[int]) -> dict[int, list[FlagRow]]:
        """These users' open flags, oldest first, in one query: /review shows each flag's siblings."""
        found: dict[int, list[FlagRow]] = {}
        if not user_ids:
            return found
        rows = await self.session.execute(
            select(*_COLUMNS).where(FraudFlag.user_id.in_(user_ids), FraudFlag.state == "open")
            .order_by(FraudFlag.id))
        for r in rows:
            flag = FlagRow(*r)
            found.setdefault(flag.user_id, []).append(flag)
        return found
