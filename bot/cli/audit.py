"""`referral-bot audit ...`: (being written)."""
from __future__ import annotations


def audit() -> None:
    """Print the audit log of admin actions."""
    raise NotImplementedError
