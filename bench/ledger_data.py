"""A big referrer's ledger, generated: 10,000 referees and 100,000 ledger entries of their own.

Shape (deterministic for a seed), over the twelve months before `now`:

* R (id 1, the referrer measured), referred by G (id 2); 4,000 level-1 referees bound to R and
  6,000 level-2 referees bound to one of them each (Pareto-weighted, so some level-1 referees are
  referrers of note themselves); bindings, closure rows and kept counts to match;
* per referee, as the platform would report them: a first_loan some days after binding, an
  on-time repayment every 30 days after it (the bench program pays up to 12, at both levels), and
  a second_credit for 60 % of them; bindings lean to the older months, so most referees have
  months of repayments behind them;
* 3 % of first loans and second credits reversed 1-20 days later (a reversal event whose entries
  point at each entry the reversed event paid, at both levels), R's two tier bonuses, and a payout
  to R every month;
* each event an `events` row (applied, with its JSON body), each effect a `ledger_entries` row as
  the product writes them: level 1 and level 2 beneficiaries, held for the credit check (R passed
  it two months in, so R's first month of earnings lapsed), available one day after the event.

R's entries are trimmed to exactly `entries` by dropping the latest repayments; the upline's
other members get their own entries from the same events (~95,000 more rows in the table).
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

REFERRER, GRAND = 1, 2
LEVEL1, LEVEL2 = 4_000, 6_000
FIRST_L1, FIRST_L2 = 1_000_000, 2_000_000  # referee ids
SPAN = timedelta(days=365)
HOLD = timedelta(days=1)
LAPSE = timedelta(days=30)
REPAYMENTS = 12
TIERS = ((5, 10_000), (20, 50_000))
AMOUNTS = {"first_loan": (5000, 1000), "repayment_on_time": (500, 100), "second_credit": (2000, 500)}
PAYOUT_FEN = 150_000

# The program these entries follow (PROGRAM_FILE for the benchmark's App): the default one, except
# that on-time repayments pay both levels, up to 12 per referee (a year of monthly instalments).
PROGRAM_TOML = """\
version = 1
levels = 2
hold_days = 1
referrer_requires_credit_check = true
unverified_lapse_days = 30
[rewards.first_loan]
amounts = [5000, 1000]
[rewards.repayment_on_time]
amounts = [500, 100]
max_per_referee = 12
[rewards.second_credit]
amounts = [2000, 500]
[[tiers]]
qualified = 5
bonus = 10000
[[tiers]]
qualified = 20
bonus = 50000
[referee_perk]
zh-CN = "首笔借款手续费减免 50%"
en = "50% off the fee of your first loan"
"""

EVENT_COLS = ("id", "key", "type", "occurred_at", "received_at", "telegram_id", "external_id", "user_id",
              "target_key", "amount_fen", "body", "canonical", "outcome", "detail", "applied_at")
ENTRY_COLS = ("id", "event_id", "beneficiary_id", "level", "rule", "kind", "amount_fen", "program_version",
              "referee_id", "reverses_id", "available_at", "requires_check", "lapse_at", "created_at")
USER_COLS = ("id", "first_name", "username", "is_bot", "tg_language", "language", "role", "status",
             "first_seen_at", "rules_version_ack", "external_id", "credit_approved_at")
BINDING_COLS = ("referee_id", "referrer_id", "code_id", "source", "bound_at")
CLOSURE_COLS = ("descendant_id", "depth", "ancestor_id", "bound_at")
COUNT_COLS = ("user_id", "depth", "count")
PROGRAM_COLS = ("version", "source", "rules", "effective_at", "published_at")


@dataclass
class Ledger:
    now: datetime
    approved_at: datetime  # R's credit check
    users: list[tuple] = field(default_factory=list)
    bindings: list[tuple] = field(default_factory=list)
    closure: list[tuple] = field(default_factory=list)
    counts: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    entries: list[tuple] = field(default_factory=list)  # ENTRY_COLS, aware datetimes

    @property
    def referees(self) -> int:
        return LEVEL1 + LEVEL2

    def program_version(self) -> tuple:
        """Version 1 as `prepare` would publish PROGRAM_TOML, so the entries' foreign key holds from the start."""
        from bot.services.rewards.program import parse_program
        from bot.services.rewards.programs import BEGINNING

        rules = json.dumps(parse_program(PROGRAM_TOML).to_json(), ensure_ascii=False)
        return (1, PROGRAM_TOML, rules, BEGINNING, self.now - SPAN)

    def of(self, beneficiary: int) -> list[tuple]:
        return [e for e in self.entries if e[2] == beneficiary]

    def tables(self, as_text: bool) -> list[tuple[str, tuple[str, ...], list[tuple]]]:
        """Rows for the loaders; SQLite gets timestamps as SQLAlchemy stores them (naive UTC text)."""
        conv = _text if as_text else (lambda v: v)
        fix = (lambda rows: [tuple(conv(v) for v in r) for r in rows])
        return [("program_versions", PROGRAM_COLS, fix([self.program_version()])),
                ("users", USER_COLS, fix(self.users)), ("bindings", BINDING_COLS, fix(self.bindings)),
                ("referral_closure", CLOSURE_COLS, fix(self.closure)), ("referral_counts", COUNT_COLS, self.counts),
                ("events", EVENT_COLS, fix(self.events)), ("ledger_entries", ENTRY_COLS, fix(self.entries))]


def _text(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, bool):
        return int(value)
    return value


@dataclass
class _Conversion:
    referee: int
    kind: str
    at: datetime
    amount: int | None = None
    seq: int = 0


def generate(entries: int = 100_000, seed: int = 20261127, now: datetime | None = None) -> Ledger:
    rng = random.Random(seed)
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    start = now - SPAN
    ledger = Ledger(now=now, approved_at=start + timedelta(days=60))

    # -- the tree ---------------------------------------------------------------------------------
    level1 = list(range(FIRST_L1, FIRST_L1 + LEVEL1))
    level2 = list(range(FIRST_L2, FIRST_L2 + LEVEL2))
    weights = [rng.paretovariate(1.3) for _ in level1]
    parent = {u: REFERRER for u in level1} | dict(zip(level2, rng.choices(level1, weights=weights, k=LEVEL2)))
    parent[REFERRER] = GRAND
    # older months weigh more: most referees have a history of repayments
    bound = {u: now - timedelta(days=20) - (SPAN - timedelta(days=20)) * rng.random() ** (1 / 3) for u in parent}
    bound[REFERRER] = start - timedelta(days=30)
    first_seen = {**bound, GRAND: start - timedelta(days=60)}
    approved = {REFERRER: ledger.approved_at, GRAND: start}
    for u in level1:
        if rng.random() < 0.5:
            approved[u] = bound[u] + timedelta(days=rng.uniform(1, 60))
    for u in sorted(first_seen):
        ledger.users.append((u, f"User{u}", None, False, "zh-hans", None, "user", "active", first_seen[u], None,
                             None, approved.get(u)))
    l1_count: dict[int, int] = {}
    l2_count: dict[int, int] = {}
    for u in sorted(parent):
        p = parent[u]
        ledger.bindings.append((u, p, None, "seed", bound[u]))
        ledger.closure.append((u, 1, p, bound[u]))
        l1_count[p] = l1_count.get(p, 0) + 1
        g = parent.get(p)
        if g:
            ledger.closure.append((u, 2, g, bound[u]))
            l2_count[g] = l2_count.get(g, 0) + 1
    ledger.counts = [(u, 1, c) for u, c in sorted(l1_count.items())] + [(u, 2, c) for u, c in sorted(l2_count.items())]

    # -- conversions --------------------------------------------------------------------------------
    conversions: list[_Conversion] = []
    for u in level1 + level2:
        first = bound[u] + timedelta(days=rng.uniform(0.5, 15))
        if first >= now:
            continue
        conversions.append(_Conversion(u, "first_loan", first, rng.randrange(100_000, 5_000_000, 100)))
        for k in range(1, REPAYMENTS + 1):
            at = first + timedelta(days=30 * k, hours=rng.uniform(-12, 12))
            if at >= now:
                break
            conversions.append(_Conversion(u, "repayment_on_time", at, seq=k))
        if rng.random() < 0.6:
            at = first + timedelta(days=rng.uniform(20, 240))
            if at < now:
                conversions.append(_Conversion(u, "second_credit", at, rng.randrange(100_000, 5_000_000, 100)))
    reversed_ = {id(c): c.at + timedelta(days=rng.uniform(1, 20)) for c in conversions
                 if c.kind != "repayment_on_time" and rng.random() < 0.03}
    reversed_ = {k: at for k, at in reversed_.items() if at < now}
    payouts = [start + timedelta(days=30 * m + 15) for m in range(1, 13) if start + timedelta(days=30 * m + 15) < now]
    # R is paid for every conversion (level 1 or 2), every reversal of one, the tiers and the payouts.
    fixed = len(TIERS) + len(payouts)
    excess = len(conversions) + len(reversed_) + fixed - entries
    if excess > 0:  # trim to the exact size by dropping the latest repayments
        repayments = sorted((c for c in conversions if c.kind == "repayment_on_time"), key=lambda c: c.at)
        dropped = {id(c) for c in repayments[-excess:]}
        conversions = [c for c in conversions if id(c) not in dropped]

    # -- events and entries, in time order ------------------------------------------------------------
    timeline: list[tuple[datetime, str, object]] = [(c.at, "conversion", c) for c in conversions]
    by_id = {id(c): c for c in conversions}
    timeline += [(at, "reversal", by_id[k]) for k, at in reversed_.items()]
    timeline += [(at, "payout", None) for at in payouts]
    timeline.sort(key=lambda t: (t[0], t[1]))
    paid_by: dict[int, list[int]] = {}  # id(conversion) -> its entry ids
    key_of: dict[int, str] = {}
    qualified = 0
    tiers = list(TIERS)

    def add_event(kind: str, at: datetime, user: int, amount: int | None, extra: dict, target: str | None) -> int:
        event_id = len(ledger.events) + 1
        key = f"{kind}-{event_id}"
        body = {"id": key, "type": kind, "occurred_at": at.isoformat(), "user": {"telegram_id": user}, **extra}
        if amount is not None:
            body["amount_fen"] = amount
        raw = json.dumps(body, separators=(",", ":"))
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        applied = at + timedelta(seconds=rng.uniform(0.05, 3))
        ledger.events.append((event_id, key, kind, at, applied, user, None, user, target, amount, raw, canonical,
                              "applied", None, applied))
        return event_id

    def add_entry(event_id: int, beneficiary: int, level: int, rule: str, kind: str, amount: int,
                  referee: int | None, reverses: int | None, at: datetime, held: bool) -> int:
        entry_id = len(ledger.entries) + 1
        created = ledger.events[event_id - 1][4]
        available = at + HOLD if kind in ("reward", "tier_bonus") else created
        ledger.entries.append((entry_id, event_id, beneficiary, level, rule, kind, amount, 1, referee, reverses,
                               available, held, created + LAPSE if held else None, created))
        return entry_id

    for at, what, item in timeline:
        if what == "conversion":
            c: _Conversion = item  # type: ignore[assignment]
            extra = {"loan_id": f"L-{c.referee}-{c.seq}"} if c.kind == "repayment_on_time" else {}
            event_id = add_event(c.kind, c.at, c.referee, c.amount, extra, None)
            key_of[id(c)] = ledger.events[-1][1]
            ids = []
            upline = [parent[c.referee], parent.get(parent[c.referee])]
            for level, beneficiary in enumerate(upline, start=1):
                if beneficiary:
                    ids.append(add_entry(event_id, beneficiary, level, c.kind, "reward", AMOUNTS[c.kind][level - 1],
                                         c.referee, None, at, True))
            paid_by[id(c)] = ids
            if c.kind == "first_loan" and parent[c.referee] == REFERRER:
                qualified += 1
                while tiers and qualified >= tiers[0][0]:
                    q, bonus = tiers.pop(0)
                    add_entry(event_id, REFERRER, 1, f"tier:{q}", "tier_bonus", bonus, None, None, at, True)
        elif what == "reversal":
            c = item  # type: ignore[assignment]
            event_id = add_event("reversal", at, c.referee, None, {"event_id": key_of[id(c)]}, key_of[id(c)])
            for entry_id in paid_by[id(c)]:
                paid = ledger.entries[entry_id - 1]
                add_entry(event_id, paid[2], paid[3], f"reversal:{paid[4]}", "reversal", -paid[6], paid[8],
                          entry_id, at, False)
        else:
            event_id = add_event("payout", at, REFERRER, PAYOUT_FEN, {}, None)
            add_entry(event_id, REFERRER, 0, "payout", "payout", -PAYOUT_FEN, None, None, at, False)
    return ledger
