"""Which text explains which binding refusal: shared by /start links and /bind."""
from __future__ import annotations

from bot.services.binding import Outcome

_REFUSALS = {
    Outcome.MALFORMED: "bind-malformed",
    Outcome.UNKNOWN_CODE: "bind-unknown-code",
    Outcome.CODE_OFF: "bind-code-off",
    Outcome.OWN_CODE: "bind-own-code",
    Outcome.ALREADY_BOUND: "bind-already-bound",
    Outcome.CYCLE: "bind-cycle",
    Outcome.IS_BOT: "bind-is-bot",
    Outcome.NOT_FOUND: "bind-unknown-code",
}


def refusal_key(outcome: Outcome) -> str:
    return _REFUSALS[outcome]
