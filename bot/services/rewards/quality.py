"""Referrer quality score, 0-100, from what their direct referees did.

score = 100 × (on-time repayments + 1) / (on-time repayments + reversals + 2):
a new referrer starts at 50, on-time repayments raise it, reversals (cancelled
loans, fraud) lower it, and a few events can't swing it to an extreme. The
platform uses it to fast-track applicants from strong referrers.
"""
from __future__ import annotations

from sqlalchemy import and_, func, select

from db.models import Event, ReferralClosure
from db.uow import UnitOfWork


async def quality_score(uow: UnitOfWork, referrer_id: int) -> int:
    referee_events = (select(Event.type, func.count()).join(
        ReferralClosure, and_(ReferralClosure.descendant_id == Event.user_id, ReferralClosure.depth == 1,
                              ReferralClosure.ancestor_id == referrer_id))
        .where(Event.outcome == "applied", Event.type.in_(("repayment_on_time", "reversal")))
        .group_by(Event.type))
    counts = {kind: n for kind, n in await uow.session.execute(referee_events)}
    good, bad = counts.get("repayment_on_time", 0), counts.get("reversal", 0)
    return round(100 * (good + 1) / (good + bad + 2))
