"""Agents' stations: /station add|list|rename|off."""
from __future__ import annotations

from handlers.router import Router

router = Router("stations")
