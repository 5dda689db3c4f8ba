"""/poster: an agent's printable A4 PDF and phone PNG for one station."""
from __future__ import annotations

from handlers.router import Router

router = Router("poster")
