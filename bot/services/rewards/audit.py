"""The ledger audit behind `referral-bot ledger check`: the ledger against itself and against the events.

Three independent recomputations, each of which must agree with what the
product reads:

1. Balances. For every beneficiary, the balance is recomputed in Python from
   the raw entries (`balances.entry_state`, the payouts and the reversal
   links) and compared with `BalanceService`, which computes it in SQL.
2. Invariants of the entries: a reversal points at an earning of the same
   beneficiary, at the same level, for the negated amount; an entry is
   reversed at most once; no (event, beneficiary, level, rule) twice; the
   signed sum of a user's entries is pending + available - owed + lapsed;
   available is never negative, and no payout took more than was available
   when it was made; entries come only from applied events; no event waits
   for something that has already happened (a lost wake-up); the tier
   counts' rows (qualified_referees) are the bound referees' applied,
   unreversed first loans under their referrer, and none is missing.
3. Events. The timeline (Telegram users, codes and bot bindings at the
   times they were made, and every stored event at the time it was applied,
   or received when it never was, with the clock set to that time) is replayed through a fresh
   `EventIntake` over an in-memory SQLite database, and the replayed ledger is
   compared with the real one as a multiset of (event key, beneficiary,
   level, rule, kind, amount), and the events' outcomes one by one.

Known limits of the replay (reported as notes, not problems):

* Fraud flags are copied from the real database at the times they were
  raised, and decided at the times they were reviewed (a reject reverses what
  the flag holds in the replay, as it did for real), so holds replay too. The
  comparison is of effects, which leave hold_flag_id out.
* Users' freezes and unfreezes are replayed from the audit log (every
  /freeze and /unfreeze, from chat or CLI, is written there with its time).
  A user whose status was changed some other way (straight in the database)
  is copied with their CURRENT status for their whole history, and codes with
  their current on/off switch; a change after an event that paid (or
  skipped) them makes the replay differ. Callers that know the history
  otherwise pass `status_changes`.
* The replay trusts `applied_at` (else `received_at`) as the moment an event
  took effect. A conversion reads the clock under its referee's row lock,
  which a binding of that referee takes before reading its own time, so the
  times order a first loan and its referee's binding as they ran.
* Steps made in the same microsecond are ordered users, codes, status
  changes, bot bindings, fraud flags, events, then review decisions; a user
  the platform creates is told apart from a Telegram user by its
  first_seen_at equalling the creating event's applied_at.
* Competing events delivered concurrently (two first loans of one referee,
  the first loans that tip a tier) are applied in the order their
  transactions took the lock, which no column records. A difference that is
  the mirror image of another one under an event of the same type received
  within REORDER_WINDOW is reported as a note, not a problem.

Everything is streamed or grouped in SQL; memory grows with the number of
beneficiaries and of distinct effects, not with a single query's result.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from bot.services.rewards.balances import Balance, BalanceService, Earnings, entry_state, rule_family
from bot.services.rewards.checkpoints import CheckpointWriter
from bot.services.rewards.overview import month_start
from db.models import AuditEntry, Base, Binding, Code, Event, FraudFlag, LedgerCheckpoint, LedgerEntry, \
    ProgramVersion, QualifiedReferee, User
from db.repositories.ledger import EARNING_KINDS, EntryRow

if TYPE_CHECKING:
    from bot.app import App

MAX_LISTED = 200  # problems kept with their text; the rest are counted
STREAM_BATCH = 2000
PENDING = ("pending_user", "pending_target")
# Competing events received this close together may have been applied in either order (see _pair_reordered).
REORDER_WINDOW = timedelta(seconds=5)

_ENTRY_COLUMNS = tuple(getattr(LedgerEntry, f) for f in EntryRow.__dataclass_fields__)


@dataclass
class AuditReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unlisted: int = 0  # problems beyond MAX_LISTED, counted only
    users: int = 0
    beneficiaries: int = 0
    entries: int = 0
    events: int = 0
    replayed: bool = False
    replayed_events: int = 0
    replayed_entries: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unlisted

    @property
    def problem_count(self) -> int:
        return len(self.problems) + self.unlisted

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(text)
        else:
            self.unlisted += 1

    def counts(self) -> dict[str, int]:
        return {"users": self.users, "beneficiaries": self.beneficiaries, "entries": self.entries,
                "events": self.events, "replayed_events": self.replayed_events,
                "replayed_entries": self.replayed_entries, "problems": self.problem_count}


# ---------------------------------------------------------------------------------------------- balances

def recompute(entries: Iterable[EntryRow], reversed_ids, approved_at: datetime | None,  # noqa: ANN001
              now: datetime, open_flags: frozenset[int] = frozenset()) -> tuple[Balance, Earnings]:
    """A beneficiary's balance and earnings from raw entries, in Python (the twin of BalanceService)."""
    totals: dict[str, int] = defaultdict(int)
    by_level: dict[int, int] = defaultdict(int)
    by_rule: dict[str, int] = defaultdict(int)
    paid = 0
    for entry in entries:
        if entry.kind == "payout":
            paid -= entry.amount_fen
            continue
        if entry.kind not in EARNING_KINDS:
            continue
        state = entry_state(entry, approved_at, now, entry.id in reversed_ids, open_flags)
        totals[state] += entry.amount_fen
        if state in ("pending", "available"):
            by_level[entry.level] += entry.amount_fen
            by_rule[rule_family(entry.rule)] += entry.amount_fen
    net = totals["available"] - paid
    balance = Balance(pending=totals["pending"], available=max(net, 0), paid=paid, reversed=totals["reversed"],
                      lapsed=totals["lapsed"], owed=max(-net, 0))
    return balance, Earnings(dict(by_level), dict(by_rule))


def _available_before(prior: Sequence[EntryRow], approved_at: datetime | None, at: datetime,
                      open_flags: frozenset[int]) -> int:
    reversed_ids = {e.reverses_id for e in prior if e.reverses_id is not None}
    return recompute(prior, reversed_ids, approved_at, at, open_flags)[0].available


def _check_payouts(report: AuditReport, uid: int, entries: list[EntryRow], approved_at: datetime | None,
                   approval_applied_at: datetime | None, open_flags: frozenset[int] = frozenset()) -> None:
    """No payout took more than the balance available from the entries before it."""
    for index, payout in enumerate(entries):
        if payout.kind != "payout":
            continue
        at = payout.created_at
        if approval_applied_at is None or approved_at is None or approval_applied_at > at:
            candidates = [None]
        elif approval_applied_at < at:
            candidates = [approved_at]
        else:  # approved in the same instant: before or after the payout, we can't tell
            candidates = [None, approved_at]
        prior = entries[:index]
        # A flag open now was open when any entry it holds existed; one decided since counts as
        # released here, which can only make this check more lenient, never wrong.
        available = max(_available_before(prior, c, at, open_flags) for c in candidates)
        if -payout.amount_fen > available:
            report.problem(f"user {uid}: payout entry {payout.id} took {-payout.amount_fen} fen but only "
                           f"{available} fen was available from the entries before it")


async def check_balances(app: "App", report: AuditReport, now: datetime, since: datetime | None = None) -> None:
    """Part 1: every beneficiary's balance, recomputed in Python, against BalanceService (and the sums).

    `since`: also the earnings on entries created since then (what /earnings shows as "this
    month", summed in the same pass as all time), recomputed from those entries alone.
    """
    python: dict[int, tuple[Balance, Earnings]] = {}
    recent: dict[int, Earnings] = {}
    signed: dict[int, int] = {}
    async with app.uow() as uow:
        session = uow.session
        reversed_ids = {r for (r,) in await session.execute(
            select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.is_not(None)))}
        approved = {u: at for u, at in await session.execute(
            select(User.id, User.credit_approved_at).where(User.credit_approved_at.is_not(None)))}
        approval_applied = {u: at for u, at in await session.execute(
            select(Event.user_id, func.min(Event.applied_at))
            .where(Event.type == "credit_approved", Event.outcome == "applied", Event.user_id.is_not(None))
            .group_by(Event.user_id))}
        report.users = (await session.execute(select(func.count()).select_from(User))).scalar_one()
        open_flags = frozenset(fid for (fid,) in await session.execute(
            select(FraudFlag.id).where(FraudFlag.state == "open")))

        def close(uid: int, group: list[EntryRow]) -> None:
            python[uid] = recompute(group, reversed_ids, approved.get(uid), now, open_flags)
            if since is not None:
                recent[uid] = recompute([e for e in group if e.created_at >= since], reversed_ids,
                                        approved.get(uid), now, open_flags)[1]
            signed[uid] = sum(e.amount_fen for e in group)
            _check_payouts(report, uid, group, approved.get(uid), approval_applied.get(uid), open_flags)

        stream = await session.stream(select(*_ENTRY_COLUMNS)
                                      .order_by(LedgerEntry.beneficiary_id, LedgerEntry.id)
                                      .execution_options(yield_per=STREAM_BATCH))
        current: int | None = None
        group: list[EntryRow] = []
        async for row in stream:
            entry = EntryRow(*row)
            report.entries += 1
            if entry.beneficiary_id != current:
                if current is not None:
                    close(current, group)
                current, group = entry.beneficiary_id, []
            group.append(entry)
        if current is not None:
            close(current, group)
        report.beneficiaries = len(python)

        service = BalanceService(uow)
        for uid, (py_balance, py_earnings) in python.items():
            if since is None:
                sql_balance, sql_earnings = await service.summary(uid, now)
            else:
                sql_balance, sql_earnings, sql_recent = await service.summary_since(uid, now, since)
                if sql_recent != recent[uid]:
                    report.problem(f"user {uid}: earnings since {since.isoformat()} from SQL {_earn(sql_recent)} "
                                   f"!= recomputed from entries {_earn(recent[uid])}")
            if sql_balance != py_balance:
                report.problem(f"user {uid}: balance from SQL {sql_balance.as_json()} != "
                               f"recomputed from entries {py_balance.as_json()}")
            if sql_earnings != py_earnings:
                report.problem(f"user {uid}: earnings from SQL {_earn(sql_earnings)} != "
                               f"recomputed from entries {_earn(py_earnings)}")
            b = sql_balance
            if signed[uid] != b.pending + b.available - b.owed + b.lapsed:
                report.problem(f"user {uid}: entries sum to {signed[uid]} fen but pending + available - owed "
                               f"+ lapsed = {b.pending + b.available - b.owed + b.lapsed} ({b.as_json()})")
            if b.available < 0 or b.owed < 0 or (b.available and b.owed):
                report.problem(f"user {uid}: impossible balance {b.as_json()}")


def _earn(earnings: Earnings) -> str:
    return f"by level {dict(sorted(earnings.by_level.items()))}, by rule {dict(sorted(earnings.by_rule.items()))}"


async def check_checkpoints(app: "App", report: AuditReport) -> None:
    """Each beneficiary's latest checkpoint (the one reads add) against its sums recomputed from the entries.

    Superseded checkpoints are never read again, and recomputing each of them would cost a
    big referrer's whole ledger per checkpoint.
    """
    async with app.uow() as uow:
        owners = (await uow.session.execute(select(LedgerCheckpoint.beneficiary_id).distinct())).scalars().all()
        for uid in sorted(owners):
            cp = await uow.checkpoints.latest(uid)
            if cp is not None:
                writer = CheckpointWriter(app.uow, ZoneInfo(cp.tz), cp.tz)
                sums, count = await writer.settled_sums(uow, uid, cp.upto_entry_id, cp.as_of, cp.approved_at)
                stored = {(state, level, rule, month): fen for state, level, rule, month, fen in cp.sums}
                if stored != sums or count != cp.entries:
                    report.problem(f"user {uid}: checkpoint #{cp.id} (entries up to {cp.upto_entry_id}) holds "
                                   f"{cp.entries} entries and {sorted(stored.items())}, but its entries give "
                                   f"{count} and {sorted(sums.items())}")


# -------------------------------------------------------------------------------------------- invariants

async def check_entries(app: "App", report: AuditReport) -> None:
    """Part 2: invariants of the entries and of the events waiting for something, in SQL."""
    e, t = LedgerEntry, aliased(LedgerEntry)
    async with app.uow() as uow:
        session = uow.session
        bad_reversals = await session.execute(
            select(e.id, e.beneficiary_id, e.level, e.rule, e.amount_fen,
                   t.id, t.kind, t.beneficiary_id, t.level, t.rule, t.amount_fen)
            .outerjoin(t, t.id == e.reverses_id)
            .where(e.kind == "reversal", or_(
                t.id.is_(None), t.kind.not_in(EARNING_KINDS), t.beneficiary_id != e.beneficiary_id,
                t.amount_fen != -e.amount_fen, t.level != e.level))
            .order_by(e.id).limit(MAX_LISTED + 1))
        for rid, rben, rlevel, rrule, ramount, tid, tkind, tben, tlevel, trule, tamount in bad_reversals:
            if tid is None:
                report.problem(f"reversal entry {rid} points at no entry")
            else:
                report.problem(f"reversal entry {rid} (user {rben}, level {rlevel}, {rrule}, {ramount} fen) does not "
                               f"negate entry {tid} ({tkind}, user {tben}, level {tlevel}, {trule}, {tamount} fen)")
        # The rule names what it reverses, so a reversal never collides with another effect of its event.
        misnamed = await session.execute(
            select(e.id, e.rule, t.rule).join(t, t.id == e.reverses_id)
            .where(e.kind == "reversal", e.rule != "reversal:" + t.rule).limit(MAX_LISTED + 1))
        for rid, rrule, trule in misnamed:
            report.problem(f"reversal entry {rid} is named {rrule!r}, not 'reversal:{trule}'")
        twice = await session.execute(
            select(e.reverses_id, func.count()).where(e.reverses_id.is_not(None))
            .group_by(e.reverses_id).having(func.count() > 1).limit(MAX_LISTED + 1))
        for target, n in twice:
            report.problem(f"entry {target} is reversed {n} times")
        repeated = await session.execute(
            select(Event.key, e.beneficiary_id, e.level, e.rule, func.count())
            .join(Event, Event.id == e.event_id)
            .group_by(Event.key, e.beneficiary_id, e.level, e.rule).having(func.count() > 1).limit(MAX_LISTED + 1))
        for key, ben, level, rule, n in repeated:
            report.problem(f"event {key} paid user {ben} at level {level} for {rule} {n} times")
        not_applied = await session.execute(
            select(Event.key, Event.outcome, func.count()).join(e, e.event_id == Event.id)
            .where(Event.outcome != "applied").group_by(Event.key, Event.outcome).limit(MAX_LISTED + 1))
        for key, outcome, n in not_applied:
            report.problem(f"event {key} is {outcome} but has {n} ledger entries")
        # A fraud review's reversal names its target's own event instead of a reversal event.
        by_review = and_(t.id.is_not(None), t.event_id == e.event_id)
        wrong_kind = await session.execute(
            select(e.id, e.kind, e.rule, Event.key, Event.type).join(Event, Event.id == e.event_id)
            .outerjoin(t, t.id == e.reverses_id)
            .where(or_(
                and_(e.kind == "reward", e.rule != Event.type),
                and_(e.kind == "tier_bonus", Event.type != "first_loan"),
                and_(e.kind == "payout", or_(Event.type != "payout", e.beneficiary_id != Event.user_id)),
                and_(e.kind == "reversal", Event.type != "reversal", ~by_review))).limit(MAX_LISTED + 1))
        for eid, kind, rule, key, etype in wrong_kind:
            report.problem(f"entry {eid} ({kind}, {rule}) does not fit its event {key} ({etype})")
        # ...and only an earning held by a rejected flag is reversed that way.
        unreviewed = await session.execute(
            select(e.id, t.id, t.hold_flag_id, FraudFlag.state).join(t, t.id == e.reverses_id)
            .outerjoin(FraudFlag, FraudFlag.id == t.hold_flag_id)
            .where(e.kind == "reversal", t.event_id == e.event_id,
                   or_(FraudFlag.id.is_(None), FraudFlag.state != "rejected")).limit(MAX_LISTED + 1))
        for rid, tid, flag_id, flag_state in unreviewed:
            report.problem(f"reversal entry {rid} reverses entry {tid} under its own event, but that entry is not "
                           f"held by a rejected fraud flag (flag {flag_id}: {flag_state})")

        await _check_qualified(session, report)

        # Lost wake-ups: an event still waiting for something that has happened.
        target = aliased(Event)
        stranded = await session.execute(
            select(Event.key, target.key, target.outcome).join(target, target.key == Event.target_key)
            .where(Event.type == "reversal", Event.outcome == "pending_target", target.outcome.not_in(PENDING))
            .order_by(Event.id).limit(MAX_LISTED + 1))
        for key, target_key, outcome in stranded:
            report.problem(f"reversal {key} still waits for {target_key}, which is {outcome}")
        known = aliased(User)
        waiting = await session.execute(
            select(Event.key, known.id).join(known, or_(
                and_(Event.external_id.is_not(None), known.external_id == Event.external_id),
                and_(Event.telegram_id.is_not(None), known.id == Event.telegram_id, known.external_id.is_not(None))))
            .where(Event.outcome == "pending_user").order_by(Event.id).limit(MAX_LISTED + 1))
        for key, uid in waiting:
            report.problem(f"event {key} still waits for its user, but the platform has linked user {uid}")
        report.events = (await session.execute(select(func.count()).select_from(Event))).scalar_one()


async def _check_qualified(session, report: AuditReport) -> None:  # noqa: ANN001
    """The rows tier decisions count (db.models.QualifiedReferee) against the events and bindings."""
    q, first = QualifiedReferee, aliased(Event)
    reversal = aliased(Event)
    reversed_ = exists().where(reversal.target_key == Event.key, reversal.outcome == "applied")
    wrong = await session.execute(
        select(q.referee_id, q.referrer_id, Event.key, Binding.referrer_id)
        .join(Event, Event.id == q.event_id).join(Binding, Binding.referee_id == q.referee_id)
        .where(or_(Binding.referrer_id != q.referrer_id, Event.type != "first_loan", Event.outcome != "applied",
                   Event.user_id != q.referee_id, reversed_))
        .order_by(q.referee_id).limit(MAX_LISTED + 1))
    for referee, referrer, key, bound_to in wrong:
        report.problem(f"user {referee} counts towards user {referrer}'s tiers through event {key}, which is not "
                       f"their applied, unreversed first loan under that referrer (bound to {bound_to})")
    # A first loan applied while its referee was bound must count. (The two take the referee's row
    # lock and read their times after it: bot.services.events.applier, BindingSnapshotRepository.)
    first_of_user = select(func.min(first.id)).where(
        first.user_id == Event.user_id, first.type == "first_loan", first.outcome == "applied").scalar_subquery()
    missing = await session.execute(
        select(Event.user_id, Binding.referrer_id, Event.key)
        .join(Binding, Binding.referee_id == Event.user_id)
        .where(Event.type == "first_loan", Event.outcome == "applied", Event.id == first_of_user, ~reversed_,
               Binding.bound_at <= Event.applied_at,
               ~exists().where(q.referee_id == Event.user_id))
        .order_by(Event.id).limit(MAX_LISTED + 1))
    for referee, referrer, key in missing:
        report.problem(f"user {referee}'s first loan {key} does not count towards their referrer {referrer}'s tiers")


# ------------------------------------------------------------------------------------------------ replay

USER, CODE, STATUS, BIND, FLAG, EVENT, DECIDE, LATE_STATUS = range(8)


@dataclass(frozen=True)
class _Step:
    at: datetime
    order: int
    seq: int
    kind: str
    data: dict

    @property
    def key(self) -> tuple:
        return (self.at, self.order, self.seq)


_USER_COPY = ("id", "first_name", "username", "is_bot", "tg_language", "language", "role", "first_seen_at",
              "rules_version_ack")


async def _timeline(app: "App", report: AuditReport,
                    status_changes: Sequence[tuple[datetime, int, str]] | None) -> list[_Step]:
    steps: list[_Step] = []
    history: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for at, uid, status in status_changes or ():
        history[uid].append((at, status))
    async with app.uow() as uow:
        session = uow.session
        creators = select(Event.id).where(
            Event.type.in_(("registered", "account_linked")), Event.outcome == "applied",
            Event.applied_at == User.first_seen_at,
            or_(Event.telegram_id == User.id, and_(Event.external_id.is_not(None), Event.external_id == User.external_id)))
        rows = await session.execute(
            select(*(getattr(User, c) for c in _USER_COPY), User.status, creators.exists().label("event_born"))
            .where(User.id > 0).order_by(User.id))
        frozen_now = 0
        for row in rows:
            data = dict(zip(_USER_COPY, row[: len(_USER_COPY)]))
            status, event_born = row[-2], row[-1]
            uid, seen = data["id"], data["first_seen_at"]
            frozen_now += status != "active" and uid not in history
            if uid in history:
                for at, new in history[uid]:
                    steps.append(_Step(at, STATUS, len(steps), "status", {"id": uid, "status": new}))
                status = "active"
            if event_born:  # the replay creates it from its event; only its status is ours to set
                if status != "active":
                    steps.append(_Step(seen, LATE_STATUS, len(steps), "status", {"id": uid, "status": status}))
            else:
                steps.append(_Step(seen, USER, len(steps), "user", {**data, "status": status}))
        if frozen_now:
            report.notes.append(f"{frozen_now} users are not active now and the audit log has no freeze of theirs; the replay "
                                "treats them so for their whole history")
        codes = await session.execute(select(Code.id, Code.code, Code.owner_id, Code.kind, Code.label, Code.active,
                                             Code.created_at))
        for cid, code, owner, kind, label, active, created in codes:
            steps.append(_Step(created, CODE, len(steps), "code", dict(
                id=cid, code=code, owner_id=owner, kind=kind, label=label, active=active, created_at=created)))
        bindings = await session.execute(
            select(Binding.referee_id, Binding.referrer_id, Binding.code_id, Binding.source, Binding.bound_at)
            .where(Binding.source != "platform"))  # platform bindings are made by the events themselves
        for referee, referrer, code_id, source, bound_at in bindings:
            steps.append(_Step(bound_at, BIND, len(steps), "bind", dict(
                referee=referee, referrer=referrer, code_id=code_id, source=source)))
        # Fraud flags are copied as they were raised (right after the binding that raised one, and
        # before an event of the same instant, which a flag raised while applying it must hold),
        # and decided when an admin decided them; so holds, and what a reject reverses, replay too.
        flags = await session.execute(
            select(FraudFlag.id, FraudFlag.user_id, User.external_id, FraudFlag.kind, FraudFlag.evidence,
                   FraudFlag.created_at, FraudFlag.state, FraudFlag.reviewed_at)
            .join(User, User.id == FraudFlag.user_id))
        for fid, uid, ext, kind, evidence, created, state, reviewed in flags:
            steps.append(_Step(created, FLAG, len(steps), "flag", dict(
                id=fid, user_id=uid, external_id=ext, kind=kind, evidence=evidence)))
            if state != "open" and reviewed is not None:
                steps.append(_Step(reviewed, DECIDE, len(steps), "decide", dict(id=fid, state=state)))
    steps.sort(key=lambda s: s.key)
    return steps


async def _do_step(replay: "App", step: _Step, report: AuditReport) -> None:
    from bot.services.binding import BindingService
    from bot.services.fraud.review import reverse_held
    from bot.services.rewards.notices import LedgerNotices

    try:
        async with replay.uow() as uow:
            if step.kind == "user":
                uow.session.add(User(**step.data))
            elif step.kind == "code":
                uow.session.add(Code(**step.data))
            elif step.kind == "status":
                if await uow.users.get(step.data["id"]) is None:
                    report.notes.append(f"replay: user {step.data['id']} did not exist at {step.at.isoformat()} "
                                        f"to take status {step.data['status']}")
                    return
                await uow.users.set_status(step.data["id"], step.data["status"])
            elif step.kind == "bind":
                d = step.data
                await BindingService(uow, replay.clock, replay.settings.referral_levels).attach(
                    d["referee"], d["referrer"], d["code_id"], d["source"])
            elif step.kind == "flag":
                d = step.data
                uid = d["user_id"]
                if uid < 0 and d["external_id"]:  # platform-only: its number may differ here
                    found = await uow.users.by_external(d["external_id"])
                    uid = found.id if found else uid
                uow.session.add(FraudFlag(id=d["id"], user_id=uid, kind=d["kind"], state="open",
                                          evidence=d["evidence"], created_at=step.at))
            elif step.kind == "decide":
                d = step.data
                if d["state"] == "rejected":
                    await reverse_held(uow, LedgerNotices(uow, replay.settings.tz), d["id"], step.at)
                await uow.flags.decide(d["id"], d["state"], by=None, at=step.at, reason=None)
            await uow.commit()
    except Exception as exc:  # noqa: BLE001 - one step that cannot be replayed is a finding, not a crash
        report.problem(f"replay: cannot {step.kind} {step.data.get('id') or step.data.get('referee')} at "
                       f"{step.at.isoformat()}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")


async def _effects(app: "App") -> tuple[Counter, dict[str, str]]:
    """The ledger as a multiset of (event key, beneficiary, level, rule, kind, amount), and outcomes by key.

    Platform-only users (negative ids) are named by their external id: their numbers are allocated
    by a sequence, which PostgreSQL does not roll back.
    """
    effects: Counter = Counter()
    outcomes: dict[str, str] = {}
    async with app.uow() as uow:
        stream = await uow.session.stream(
            select(Event.key, LedgerEntry.beneficiary_id, User.external_id, LedgerEntry.level, LedgerEntry.rule,
                   LedgerEntry.kind, LedgerEntry.amount_fen)
            .join(Event, Event.id == LedgerEntry.event_id).outerjoin(User, User.id == LedgerEntry.beneficiary_id)
            .execution_options(yield_per=STREAM_BATCH))
        async for key, ben, ext, level, rule, kind, amount in stream:
            who = ben if ben > 0 or ext is None else f"ext:{ext}"
            effects[(key, who, int(level), rule, kind, int(amount))] += 1
        stream = await uow.session.stream(select(Event.key, Event.outcome).execution_options(yield_per=STREAM_BATCH))
        async for key, outcome in stream:
            outcomes[key] = outcome
    return effects, outcomes


def _effect(t: tuple) -> str:
    key, who, level, rule, kind, amount = t
    return f"event {key}: {kind} {rule} level {level} to user {who}, {amount} fen"


def _pair_reordered(missing: list[tuple[str, object]], extra: list[tuple[str, object]],
                    seen: dict[str, tuple[datetime, str]]) -> tuple[list, list, set[str]]:
    """Pairs a difference in the ledger with its mirror image under another event of the same type
    received within REORDER_WINDOW: two competing events delivered concurrently (two first loans of
    one referee, two first loans that tip one tier) are applied in the order their transactions took
    the lock, which the replay cannot know. Returns the unpaired of each side and the paired keys."""
    by_what: dict[object, list[str]] = defaultdict(list)
    for key, what in extra:
        by_what[what].append(key)
    unpaired_missing, keys = [], set()
    for key, what in missing:
        at, kind = seen.get(key, (None, None))
        candidates = by_what.get(what, [])
        match = next((i for i, other in enumerate(candidates)
                      if other != key and at is not None and seen.get(other, (None, None))[1] == kind
                      and abs(seen[other][0] - at) <= REORDER_WINDOW), None)
        if match is None:
            unpaired_missing.append((key, what))
        else:
            keys.update((key, candidates.pop(match)))
    unpaired_extra = [(key, what) for what, others in by_what.items() for key in others]
    return unpaired_missing, unpaired_extra, keys


def _compare(report: AuditReport, real: Counter, again: Counter, real_outcomes: dict[str, str],
             again_outcomes: dict[str, str], seen: dict[str, tuple[datetime, str]]) -> None:
    def spread(counter: Counter) -> list[tuple[str, object]]:
        return [(effect[0], effect[1:]) for effect, n in sorted(counter.items(), key=lambda kv: repr(kv[0]))
                for _ in range(n)]

    not_reproduced, not_in_ledger, keys = _pair_reordered(spread(real - again), spread(again - real), seen)
    outcome_diffs = [(key, (outcome, again_outcomes.get(key))) for key, outcome in real_outcomes.items()
                     if again_outcomes.get(key) != outcome and key not in keys]
    mirrored = [(key, (b, a)) for key, (a, b) in outcome_diffs]
    lone, _, swapped = _pair_reordered(outcome_diffs, mirrored, seen)
    if keys or swapped:
        report.notes.append(f"{len(keys | swapped)} events received within {REORDER_WINDOW.total_seconds():g} s of "
                            "another of their type were applied in the other order than the replay's (concurrent "
                            "delivery); their effects agree up to which of the two carries them")
    for key, what in not_reproduced:
        report.problem(f"not reproduced by replaying the events: {_effect((key, *what))}")
    for key, what in not_in_ledger:
        report.problem(f"missing from the ledger, produced by replaying the events: {_effect((key, *what))}")
    for key, (outcome, replayed) in lone:
        report.problem(f"event {key}: outcome {outcome}, but {replayed} when replayed")


async def _replay(app: "App", report: AuditReport,
                  status_changes: Sequence[tuple[datetime, int, str]] | None) -> None:
    from bot.app import App
    from bot.clock import FrozenClock
    from bot.services.events.intake import EventIntake
    from bot.services.rewards.programs import BEGINNING
    from db.engine import make_engine, make_sessionmaker

    engine = make_engine("sqlite+aiosqlite:///:memory:")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    clock = FrozenClock(BEGINNING)
    replay = App(settings=app.settings, engine=engine, sessionmaker=make_sessionmaker(engine), i18n=app.i18n,
                 clock=clock, program=app.program, bot_username=app.bot_username)
    try:
        async with app.uow() as uow, replay.uow() as target:
            for row in await uow.session.execute(select(ProgramVersion.version, ProgramVersion.source,
                                                        ProgramVersion.rules, ProgramVersion.effective_at,
                                                        ProgramVersion.published_at)):
                target.session.add(ProgramVersion(version=row[0], source=row[1], rules=row[2], effective_at=row[3],
                                                  published_at=row[4]))
            await target.commit()
        steps = await _timeline(app, report, status_changes)
        intake = EventIntake(replay)
        seen: dict[str, tuple[datetime, str]] = {}  # key -> (received_at, type)
        position = 0
        # Each event at the time it was applied, where it was: a conversion reads that time under its
        # referee's row lock, which a binding of the referee takes too, so the times order the two as
        # they ran (received_at is read before any lock). One applied later, when its user or target
        # came, sorts with the event that settled it and, received earlier, just before it: the replay
        # stores it as waiting and settles it as that event did.
        at = func.coalesce(Event.applied_at, Event.received_at)
        async with app.uow() as uow:
            stream = await uow.session.stream(
                select(Event.id, Event.key, Event.type, Event.body, Event.received_at, at)
                .order_by(at, Event.id).execution_options(yield_per=STREAM_BATCH))
            async for event_id, key, kind, body, received_at, applied in stream:
                seen[key] = (received_at, kind)
                while position < len(steps) and (steps[position].at, steps[position].order) < (applied, EVENT):
                    clock.at = steps[position].at
                    await _do_step(replay, steps[position], report)
                    position += 1
                clock.at = applied
                try:
                    await intake.submit(body.encode("utf-8"), received_at=received_at)
                except Exception as exc:  # noqa: BLE001
                    report.problem(f"replay: event id {event_id} raised {type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0][:200]}")
                report.replayed_events += 1
        for step in steps[position:]:
            clock.at = step.at
            await _do_step(replay, step, report)

        real, real_outcomes = await _effects(app)
        again, again_outcomes = await _effects(replay)
        report.replayed_entries = sum(again.values())
        _compare(report, real, again, real_outcomes, again_outcomes, seen)
        report.replayed = True
    finally:
        await replay.close()


# ------------------------------------------------------------------------------------------------- entry

async def audit(app: "App", *, replay: bool = True, now: datetime | None = None,
                status_changes: Sequence[tuple[datetime, int, str]] | None = None) -> AuditReport:
    """Checks the ledger; `report.ok` is False with `report.problems` naming each difference.

    status_changes: (at, user id, new status), when the caller knows the history of freezes; users
    without an entry are replayed with their current status.
    """
    report = AuditReport()
    now = now or app.clock.now()
    await check_balances(app, report, now, since=month_start(now, app.settings.tz))
    await check_checkpoints(app, report)
    await check_entries(app, report)
    if replay:
        if status_changes is None:
            status_changes = await freezes_from_audit_log(app)
        await _replay(app, report, status_changes)
    return report


_STATUS_AFTER = {"freeze": "frozen", "unfreeze": "active"}


async def freezes_from_audit_log(app: "App") -> list[tuple[datetime, int, str]]:
    """(at, user id, new status) for every freeze and unfreeze the audit log recorded."""
    async with app.uow() as uow:
        rows = await uow.session.execute(
            select(AuditEntry.at, AuditEntry.target, AuditEntry.action)
            .where(AuditEntry.action.in_(tuple(_STATUS_AFTER)), AuditEntry.target.is_not(None))
            .order_by(AuditEntry.at, AuditEntry.id))
        return [(at, int(target), _STATUS_AFTER[action]) for at, target, action in rows
                if target.lstrip("-").isdigit()]
