"""What intake answers for one submitted event; the HTTP API maps it to a status code."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Submission:
    # accepted | duplicate | conflict | invalid | refused
    status: str
    http_status: int
    body: dict = field(default_factory=dict)

    @classmethod
    def accepted(cls, **extra: object) -> "Submission":
        return cls("accepted", 202, {"status": "accepted", **extra})

    @classmethod
    def duplicate(cls) -> "Submission":
        return cls("duplicate", 200, {"status": "duplicate"})

    @classmethod
    def conflict(cls) -> "Submission":
        return cls("conflict", 409, {"error": "an event with this id was already received with a different body"})

    @classmethod
    def invalid(cls, message: str) -> "Submission":
        return cls("invalid", 400, {"error": message})

    @classmethod
    def refused(cls, message: str) -> "Submission":
        """Stored, but its effect was refused (e.g. a payout above the available balance)."""
        return cls("refused", 400, {"error": message, "status": "refused"})
