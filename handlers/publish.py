"""(being written)"""
from __future__ import annotations

from handlers.router import Router

router = Router("publish")
