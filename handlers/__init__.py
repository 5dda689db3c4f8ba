"""Update handlers: framework-neutral functions over `bot.context.Context`.

No aiogram or telegram import belongs here; a runtime adapts its library.
"""
from __future__ import annotations

from handlers import (
    admin, bind, broadcast, code, earnings, fallback, groups, help, inline, invites, language, poster, publish,
    residents, review, rewards, rules, settings, start, stations,
)
from handlers.router import Dispatcher, Router


def get_routers() -> list[Router]:
    # fallback last: it claims only what nothing else did
    return [
        start.router, code.router, bind.router, invites.router, rewards.router, earnings.router,
        rules.router, settings.router, language.router, help.router,
        admin.router, publish.router, broadcast.router,
        groups.router, inline.router, stations.router, poster.router, residents.router, review.router,
        fallback.router,
    ]


def build_dispatcher() -> Dispatcher:
    return Dispatcher(get_routers())
