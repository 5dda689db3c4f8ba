"""What a program says, and what changes between two, as data a handler can put into words.

No texts here: /rules, the rule-change announcement and the /publish preview
turn these into the reader's language.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.services.rewards.program import REWARD_RULES, Program


@dataclass(frozen=True)
class RuleLine:
    rule: str  # first_loan | repayment_on_time | second_credit
    amounts: tuple[tuple[int, int], ...]  # (level, fen) for each level that pays something
    max_per_referee: int | None


@dataclass(frozen=True)
class Summary:
    version: int
    levels: int
    rules: tuple[RuleLine, ...]  # only rules that pay at some level
    tiers: tuple[tuple[int, int], ...]  # (qualified referees, bonus fen)
    hold_days: int
    credit_check: bool
    lapse_days: int | None  # days to pass the credit check; None without the check


def _amount(program: Program, rule: str, level: int) -> int:
    """What `rule` pays at `level`: nothing beyond the program's levels."""
    return program.rewards[rule].amount(level) if level <= program.levels and rule in program.rewards else 0


def summarize(program: Program) -> Summary:
    lines = []
    for rule in REWARD_RULES:
        paid = tuple((level, fen) for level in range(1, program.levels + 1)
                     if (fen := _amount(program, rule, level)) > 0)
        if paid:
            lines.append(RuleLine(rule, paid, program.rewards[rule].max_per_referee))
    return Summary(
        version=program.version, levels=program.levels, rules=tuple(lines),
        tiers=tuple((t.qualified, t.bonus) for t in program.tiers), hold_days=program.hold_days,
        credit_check=program.referrer_requires_credit_check,
        lapse_days=program.unverified_lapse_days if program.referrer_requires_credit_check else None,
    )


@dataclass(frozen=True)
class Change:
    """One difference. `label` names what changed and the unit of before/after:

    reward:<rule>:<level> (fen) · cap:<rule> (times per referee; None = no cap) ·
    tier:<qualified> (bonus fen; None = no such tier) · levels · hold_days · lapse_days (days) ·
    credit_check (1 = required) · perk (the texts changed; before/after None).
    """

    label: str
    before: int | None
    after: int | None

    @property
    def kind(self) -> str:
        return self.label.partition(":")[0]

    def to_json(self) -> list:
        return [self.label, self.before, self.after]

    @classmethod
    def from_json(cls, item: list) -> "Change":
        return cls(str(item[0]), item[1], item[2])


def diff(old: Program, new: Program) -> list[Change]:
    """Everything a reader of the rules would notice, money first, in a stable order."""
    changes: list[Change] = []
    for rule in REWARD_RULES:
        for level in range(1, max(old.levels, new.levels) + 1):
            before, after = _amount(old, rule, level), _amount(new, rule, level)
            if before != after:
                changes.append(Change(f"reward:{rule}:{level}", before, after))
    old_tiers = {t.qualified: t.bonus for t in old.tiers}
    new_tiers = {t.qualified: t.bonus for t in new.tiers}
    for qualified in sorted(old_tiers.keys() | new_tiers.keys()):
        if old_tiers.get(qualified) != new_tiers.get(qualified):
            changes.append(Change(f"tier:{qualified}", old_tiers.get(qualified), new_tiers.get(qualified)))
    for rule in REWARD_RULES:
        before_cap = old.rewards[rule].max_per_referee if rule in old.rewards else None
        after_cap = new.rewards[rule].max_per_referee if rule in new.rewards else None
        if before_cap != after_cap:
            changes.append(Change(f"cap:{rule}", before_cap, after_cap))
    if old.levels != new.levels:
        changes.append(Change("levels", old.levels, new.levels))
    if old.hold_days != new.hold_days:
        changes.append(Change("hold_days", old.hold_days, new.hold_days))
    if old.referrer_requires_credit_check != new.referrer_requires_credit_check:
        changes.append(Change("credit_check", int(old.referrer_requires_credit_check),
                              int(new.referrer_requires_credit_check)))
    old_lapse = old.unverified_lapse_days if old.referrer_requires_credit_check else None
    new_lapse = new.unverified_lapse_days if new.referrer_requires_credit_check else None
    if old_lapse is not None and new_lapse is not None and old_lapse != new_lapse:
        changes.append(Change("lapse_days", old_lapse, new_lapse))
    if old.referee_perk != new.referee_perk:
        changes.append(Change("perk", None, None))
    return changes
