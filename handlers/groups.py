"""Groups: /invite (personal named invite links), /top (weekly leaderboard), joins and the bot's own membership."""
from __future__ import annotations

from handlers.router import Router

router = Router("groups")
