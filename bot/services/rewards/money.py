"""Money is integer fen; it becomes yuan text only when shown."""
from __future__ import annotations


def yuan(fen: int) -> str:
    """5000 -> '¥50.00'; -150 -> '-¥1.50'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"
