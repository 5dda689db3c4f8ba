"""The program's rules as published: parsed from TOML, validated, versioned.

A malformed file is refused with the file, the line and the reason, so an
operator fixing it at 2 a.m. goes straight to the line.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import MAX_REFERRAL_LEVELS

REWARD_RULES = ("first_loan", "repayment_on_time", "second_credit")

DEFAULT_PROGRAM = """\
version = 1
levels = 2                # 1..3; deeper chains read as pyramid selling
hold_days = 1             # T+1; 0 = real time
referrer_requires_credit_check = true
unverified_lapse_days = 30

[rewards.first_loan]
amounts = [5000, 1000]    # fen; index 0 = level 1

[rewards.repayment_on_time]
amounts = [500, 0]
max_per_referee = 6

[rewards.second_credit]
amounts = [2000, 500]

[[tiers]]                 # a bonus once when qualified referees (with a first loan) reach the count
qualified = 5
bonus = 10000

[[tiers]]
qualified = 20
bonus = 50000

[referee_perk]            # what the new user gets; shown in the welcome and returned by the API
zh-CN = "首笔借款手续费减免 50%"
en = "50% off the fee of your first loan"
"""


class ProgramError(ValueError):
    """One line: where and why a program file is refused."""


@dataclass(frozen=True)
class RewardRule:
    amounts: tuple[int, ...]  # fen per level, index 0 = level 1
    max_per_referee: int | None = None

    def amount(self, level: int) -> int:
        return self.amounts[level - 1] if level <= len(self.amounts) else 0


@dataclass(frozen=True)
class Tier:
    qualified: int
    bonus: int

    @property
    def rule(self) -> str:
        return f"tier:{self.qualified}"


@dataclass(frozen=True)
class Program:
    version: int
    levels: int
    hold_days: int
    referrer_requires_credit_check: bool
    unverified_lapse_days: int
    rewards: dict[str, RewardRule]
    tiers: tuple[Tier, ...]
    referee_perk: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def perk(self, locale: str) -> str:
        return self.referee_perk.get(locale) or next(iter(self.referee_perk.values()), "")

    def to_json(self) -> dict:
        return {
            "version": self.version, "levels": self.levels, "hold_days": self.hold_days,
            "referrer_requires_credit_check": self.referrer_requires_credit_check,
            "unverified_lapse_days": self.unverified_lapse_days,
            "rewards": {k: {"amounts": list(r.amounts), "max_per_referee": r.max_per_referee}
                        for k, r in self.rewards.items()},
            "tiers": [{"qualified": t.qualified, "bonus": t.bonus} for t in self.tiers],
            "referee_perk": dict(self.referee_perk),
        }


def _line_of(source: str, key: str) -> int | None:
    """The first line that sets `key` (the last dotted part), for error messages."""
    name = key.rsplit(".", 1)[-1].split("[")[0]
    pattern = re.compile(rf"^\s*(\[+\s*)?[\w.\-\"]*\b{re.escape(name)}\b")
    for number, line in enumerate(source.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _int(data: dict, key: str, where: str, *, low: int = 0, high: int | None = None, required: bool = True) -> int | None:
    if key not in data:
        if required:
            raise _Problem(f"{where}{key}", "is required")
        return None
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Problem(f"{where}{key}", f"must be a whole number, not {value!r} (amounts are in fen)")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise _Problem(f"{where}{key}", f"must be {bound}, not {value}")
    return value


class _Problem(Exception):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key, self.reason = key, reason


def parse_program(source: str, origin: str = "<built-in program>") -> Program:
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise ProgramError(f"{origin}: {exc}") from None
    try:
        return _build(data, source)
    except _Problem as problem:
        line = _line_of(source, problem.key)
        where = f"{origin}, line {line}" if line else origin
        raise ProgramError(f"{where}: {problem.key} {problem.reason}") from None


def _build(data: dict, source: str) -> Program:
    version = _int(data, "version", "", low=1)
    levels = _int(data, "levels", "", low=1)
    if levels > MAX_REFERRAL_LEVELS:
        raise _Problem("levels", f"is {levels}; at most {MAX_REFERRAL_LEVELS} levels are allowed "
                                 "(deeper chains read as pyramid selling)")
    hold_days = _int(data, "hold_days", "", low=0, high=365)
    check = data.get("referrer_requires_credit_check", False)
    if not isinstance(check, bool):
        raise _Problem("referrer_requires_credit_check", "must be true or false")
    lapse = _int(data, "unverified_lapse_days", "", low=1, high=3650, required=check) or 30
    raw_rewards = data.get("rewards", {})
    if not isinstance(raw_rewards, dict):
        raise _Problem("rewards", "must be a table")
    unknown = set(raw_rewards) - set(REWARD_RULES)
    if unknown:
        raise _Problem(f"rewards.{sorted(unknown)[0]}", f"is not a known rule ({', '.join(REWARD_RULES)})")
    rewards: dict[str, RewardRule] = {}
    for name in REWARD_RULES:
        table = raw_rewards.get(name, {"amounts": []})
        amounts = table.get("amounts", [])
        if not isinstance(amounts, list):
            raise _Problem(f"rewards.{name}.amounts", "must be a list of amounts in fen")
        if len(amounts) > levels:
            raise _Problem(f"rewards.{name}.amounts", f"has {len(amounts)} amounts but the program has {levels} levels")
        for i, amount in enumerate(amounts):
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
                raise _Problem(f"rewards.{name}.amounts",
                               f"item {i + 1} must be a non-negative whole number of fen, not {amount!r}")
        cap = _int(table, "max_per_referee", f"rewards.{name}.", low=1, required=False)
        rewards[name] = RewardRule(tuple(amounts), cap)
    tiers: list[Tier] = []
    raw_tiers = data.get("tiers", [])
    if not isinstance(raw_tiers, list):
        raise _Problem("tiers", "must be an array of tables ([[tiers]])")
    for tier in raw_tiers:
        qualified = _int(tier, "qualified", "tiers.", low=1)
        bonus = _int(tier, "bonus", "tiers.", low=1)
        if any(t.qualified == qualified for t in tiers):
            raise _Problem("tiers.qualified", f"{qualified} appears twice")
        tiers.append(Tier(qualified, bonus))
    perk = data.get("referee_perk", {})
    if not isinstance(perk, dict) or not all(isinstance(v, str) for v in perk.values()):
        raise _Problem("referee_perk", "must map locales to texts")
    return Program(version, levels, hold_days, check, lapse, rewards,
                   tuple(sorted(tiers, key=lambda t: t.qualified)), dict(perk), source)


def load_program(path: str | None) -> Program:
    """PROGRAM_FILE, or the built-in default when unset."""
    if not path:
        return parse_program(DEFAULT_PROGRAM)
    file = Path(path)
    try:
        source = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProgramError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_program(source, str(path))


def program_from_json(data: dict, source: str = "") -> Program:
    """A stored version back into a Program (its JSON was validated when published)."""
    return Program(
        data["version"], data["levels"], data["hold_days"], data["referrer_requires_credit_check"],
        data["unverified_lapse_days"],
        {k: RewardRule(tuple(v["amounts"]), v.get("max_per_referee")) for k, v in data["rewards"].items()},
        tuple(Tier(t["qualified"], t["bonus"]) for t in data["tiers"]), dict(data.get("referee_perk", {})), source,
    )
