"""Referees' names are masked whenever they are shown to someone else."""
from __future__ import annotations

MASK = "***"


def mask_name(first_name: str | None) -> str:
    """'Barbara' -> 'Bar***', 'Al' -> 'A***', '' -> '***'. Usernames are never shown."""
    name = (first_name or "").strip()
    if not name:
        return MASK
    chars = list(name)  # code points, so a CJK or emoji name is cut on a character
    keep = 3 if len(chars) >= 5 else 1
    if len(chars) <= 2:
        keep = 1
    return "".join(chars[:keep]) + MASK
