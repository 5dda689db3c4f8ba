"""Inline mode: @bot in any chat offers the user's own invite card."""
from __future__ import annotations

from handlers.router import Router

router = Router("inline")
