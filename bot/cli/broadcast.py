"""`referral-bot broadcast ...`: (being written)."""
from __future__ import annotations


def broadcast() -> None:
    """Queue a broadcast for the running bot to send, and follow its progress."""
    raise NotImplementedError
