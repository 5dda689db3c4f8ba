"""Everything a binding decision reads, in one statement.

Binding a referee used to cost seven reads before the first write (the code and
its owner, the referee, their binding, the cycle walk, the referrer's upline,
the anti-fraud windows, the group invite that may have touched the referee
first), each a round trip through SQLAlchemy. They are
independent look-ups keyed by the code and the referee id, so one SELECT with
scalar subqueries answers them all, on SQLite and PostgreSQL alike. The rules
that judge the answers stay in bot/services/binding.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, func, literal, select
from sqlalchemy.orm import aliased

from db.core import run
from db.models import Binding, Code, ReferralClosure, User
from db.repositories.codes import _COLUMNS as CODE_COLUMNS, CodeRow
from db.repositories.groups import first_link_owner_query
from db.repositories.users import UserRow
from db.types import UTCDateTime
from db.repositories.base import Repository

MAX_UPLINE = 2  # the referrer's ancestors a binding can need: REFERRAL_LEVELS is capped at 3


@dataclass(frozen=True)
class BindingSnapshot:
    code: CodeRow
    owner: UserRow
    referee: UserRow | None
    referee_bound: bool  # the referee already has a referrer
    owner_below_referee: bool  # the owner is in the referee's downline (binding would close a cycle)
    owner_upline: list[int]  # the owner's ancestors, nearest first, at most MAX_UPLINE
    referee_has_downline: bool  # a late binder brings a subtree that must be re-hung
    # Bindings under the owner since each anti-fraud window opened, before this one.
    since_day: int
    since_hour: int
    since_burst: int
    # Whose invite link the referee first joined a group through, if anyone's: their first touch.
    group_inviter: int | None = None


_owner = aliased(User, name="owner")
_referee = aliased(User, name="referee")


def _user_columns(alias) -> tuple:  # noqa: ANN001
    return (alias.id, alias.first_name, alias.username, alias.is_bot, alias.tg_language, alias.language, alias.role,
            alias.status, alias.first_seen_at, alias.external_id, alias.credit_approved_at)


def _build():  # noqa: ANN202
    rid = bindparam("rid")
    # The owner's chain upwards through the edges (the closure stops at the level cap, cycles don't).
    # A CTE cannot correlate with the outer query, so the chain starts from its own look-up of the code.
    start = select(Code.owner_id).where(Code.code == bindparam("code")).scalar_subquery()
    chain = select(Binding.referrer_id.label("uid"), literal(1).label("hops")).where(
        Binding.referee_id == start).cte("owner_chain", recursive=True)
    chain = chain.union_all(select(Binding.referrer_id, chain.c.hops + 1).join(chain, Binding.referee_id == chain.c.uid)
                            .where(chain.c.hops < bindparam("max_hops")))

    def ancestor(depth: int):  # noqa: ANN202
        return select(ReferralClosure.ancestor_id).where(
            ReferralClosure.descendant_id == Code.owner_id, ReferralClosure.depth == depth).scalar_subquery()

    def since(name: str, strict: bool):  # noqa: ANN202
        moment = bindparam(name, type_=UTCDateTime())
        newer = Binding.bound_at > moment if strict else Binding.bound_at >= moment
        return select(func.count()).where(Binding.referrer_id == Code.owner_id, newer).scalar_subquery()

    inviter = first_link_owner_query(rid).scalar_subquery()
    # The referee's row, share-locked: a conversion of theirs holds that row (UserRepository.get with
    # lock) while it reads their referrer, so a binding and a first loan of one referee run in turn,
    # each stamping its time after the other committed. (A subquery: the referee's outer join cannot
    # take FOR SHARE. SQLite's one writer orders them already, and renders no lock.)
    referee_lock = select(User.id).where(User.id == rid).with_for_update(read=True).scalar_subquery()

    return (
        select(
            *CODE_COLUMNS, *_user_columns(_owner), *_user_columns(_referee),
            exists().where(Binding.referee_id == rid),
            exists().where(chain.c.uid == rid),
            ancestor(1), ancestor(2),
            exists().where(ReferralClosure.ancestor_id == rid),
            since("day_from", False), since("hour_from", True), since("burst_from", True),
            inviter, referee_lock,
        )
        .join(_owner, _owner.id == Code.owner_id)
        .outerjoin(_referee, _referee.id == rid)
        .where(Code.code == bindparam("code"))
    )


_SNAPSHOT = _build()
_N_CODE, _N_USER = len(CODE_COLUMNS), 11


class BindingSnapshotRepository(Repository):
    async def read(self, code: str, referee_id: int, *, day_from: datetime, hour_from: datetime,
                   burst_from: datetime, max_hops: int = 100_000) -> BindingSnapshot | None:
        """None when no such code exists."""
        # Core, not the ORM: this row needs no entity loading, and the ORM layer costs as much again.
        row = (await run(self.tx, _SNAPSHOT, {
            "code": code, "rid": referee_id, "max_hops": max_hops,
            "day_from": day_from, "hour_from": hour_from, "burst_from": burst_from})).first()
        if row is None:
            return None
        at = 0

        def take(n: int) -> tuple:
            nonlocal at
            at += n
            return tuple(row[at - n:at])

        code_row = CodeRow(*take(_N_CODE))
        owner = UserRow(*take(_N_USER))
        referee_cols = take(_N_USER)
        bound, cycle, up1, up2, downline, day, hour, burst, inviter, _locked = take(10)
        return BindingSnapshot(
            code=code_row, owner=owner, referee=UserRow(*referee_cols) if referee_cols[0] is not None else None,
            referee_bound=bool(bound), owner_below_referee=bool(cycle),
            owner_upline=[a for a in (up1, up2) if a is not None] if up1 is not None else [],
            referee_has_downline=bool(downline), since_day=int(day), since_hour=int(hour), since_burst=int(burst),
            group_inviter=inviter)
