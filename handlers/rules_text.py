"""The program and its changes in words: shared by /rules, the rule-change announcement and /publish.

Functions take `t(key, **args)` (a Context's, or I18n bound to a locale at send
time), so the same words serve a reply and an outbox row rendered later.
"""
from __future__ import annotations

from typing import Callable

from bot.i18n import Raw
from bot.services.rewards.money import yuan
from bot.services.rewards.program import Program
from bot.services.rewards.rules_summary import Change, summarize

T = Callable[..., str]


def program_lines(t: T, program: Program, locale: str) -> list[str]:
    summary = summarize(program)
    lines = [t("rules-levels", levels=summary.levels), t("rules-rewards-title")]
    for line in summary.rules:
        amounts = Raw(t("rules-amount-separator").join(
            t("rules-level-amount", level=level, amount=yuan(fen)) for level, fen in line.amounts))
        if line.max_per_referee is None:
            lines.append(t("rules-reward", rule=line.rule, amounts=amounts))
        else:
            lines.append(t("rules-reward-capped", rule=line.rule, amounts=amounts, cap=line.max_per_referee))
    if not summary.rules:
        lines.append(t("rules-no-rewards"))
    if summary.tiers:
        lines.append(t("rules-tiers-title"))
        lines += [t("rules-tier", qualified=q, bonus=yuan(bonus)) for q, bonus in summary.tiers]
    lines.append(t("rules-hold", days=summary.hold_days))
    if summary.credit_check:
        lines.append(t("rules-credit-check", days=summary.lapse_days))
    else:
        lines.append(t("rules-no-credit-check"))
    perk = program.perk(locale)
    if perk:
        lines.append(t("rules-perk", perk=perk))
    return lines


def _value(t: T, change: Change, value: int | None) -> str:
    kind = change.kind
    if kind in ("reward", "tier"):
        return yuan(value) if value is not None else t("rulechange-none")
    if kind == "cap":
        return str(value) if value is not None else t("rulechange-no-limit")
    if kind == "credit_check":
        return t("rulechange-yes") if value else t("rulechange-no")
    return str(value)


def change_line(t: T, change: Change, perk: str) -> str:
    before, after = _value(t, change, change.before), _value(t, change, change.after)
    kind, _, rest = change.label.partition(":")
    if kind == "reward":
        rule, _, level = rest.partition(":")
        return t("rulechange-amount", rule=rule, level=int(level), before=before, after=after)
    if kind == "cap":
        return t("rulechange-cap", rule=rest, before=before, after=after)
    if kind == "tier":
        return t("rulechange-tier", qualified=int(rest), before=before, after=after)
    if kind == "perk":
        return t("rulechange-perk", perk=perk)
    return t(f"rulechange-{kind.replace('_', '-')}", before=before, after=after)


def change_lines(t: T, changes: list[Change] | tuple[Change, ...], perk: str) -> list[str]:
    return [change_line(t, c, perk) for c in changes] or [t("rulechange-nothing")]


def announcement_text(t: T, args: dict, locale: str) -> str:
    """The rule-change announcement from the args its outbox row carries (see publishing.announcement_args)."""
    perks = args.get("perk") or {}
    perk = perks.get(locale) or next(iter(perks.values()), "")
    changes = [Change.from_json(item) for item in args.get("changes", [])]
    return t("rulechange-announce", version=args["version"], date=args["date"], tz=args["tz"],
             changes=Raw("\n".join(change_lines(t, changes, perk))))
