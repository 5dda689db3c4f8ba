"""The rule that pays level 1, level 2 (and level 3): who in the upline gets what for a conversion."""
from __future__ import annotations

from dataclasses import dataclass

from bot.services.rewards.program import Program


@dataclass(frozen=True)
class LevelPayout:
    level: int
    beneficiary_id: int
    amount_fen: int


def level_payouts(program: Program, rule: str, upline: list[int]) -> list[LevelPayout]:
    """upline is nearest first: upline[0] is the direct referrer (level 1), upline[1] theirs (level 2).

    Levels past the program's count, and levels whose amount is 0, pay nothing.
    """
    amounts = program.rewards[rule]
    return [
        LevelPayout(level, beneficiary, amounts.amount(level))
        for level, beneficiary in enumerate(upline[: program.levels], start=1)
        if amounts.amount(level) > 0
    ]
