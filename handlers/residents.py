"""/residents: an agent's per-station funnel, and the CSV export button."""
from __future__ import annotations

from handlers.router import Router

router = Router("residents")
