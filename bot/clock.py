"""Time is injected, so tests can move it (bind windows, holds, effective dates)."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """UTC now, optionally shifted by CLOCK_OFFSET_SECONDS (used by end-to-end tests only)."""

    def __init__(self, offset_seconds: float | None = None) -> None:
        if offset_seconds is None:
            offset_seconds = float(os.environ.get("CLOCK_OFFSET_SECONDS", "0") or 0)
        self.offset = timedelta(seconds=offset_seconds)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset


class FrozenClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)
