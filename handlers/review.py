"""/review: admins work through the anti-fraud flags: approve releases holds, reject reverses them."""
from __future__ import annotations

from handlers.router import Router

router = Router("review")
