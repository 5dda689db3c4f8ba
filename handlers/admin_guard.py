"""Who may run an admin command: ADMIN_IDS and users promoted to admin, in a private chat.

Every admin handler is wrapped in `admin_only`, so the refusal is one rule in
one place and a newcomer can see at a glance which commands are guarded.
"""
from __future__ import annotations

import functools
from typing import Awaitable, Callable

from bot.context import Context
from handlers.router import Handler

# Telegram's GroupAnonymousBot: an admin posting "anonymously" in a group appears as this
# user, so the sender could be any admin of that group, not necessarily one of ours.
ANONYMOUS_ADMIN_ID = 1087968824


def is_admin(ctx: Context) -> bool:
    user = ctx.incoming.user
    if user is None or user.id == ANONYMOUS_ADMIN_ID:
        return False
    return user.id in ctx.app.settings.admin_ids or ctx.role == "admin"


async def _promoted_admin(ctx: Context) -> bool:
    # The pipeline loads no user row in groups, so a role given by /promote is looked up here.
    user = ctx.incoming.user
    if user is None or ctx.is_private:
        return False
    row = await ctx.services.uow.users.get(user.id)
    return row is not None and row.role == "admin"


async def refuse(ctx: Context) -> bool:
    """Answers the refusal and returns True when the sender may not run an admin command here."""
    user = ctx.incoming.user
    if user is not None and user.id == ANONYMOUS_ADMIN_ID:
        key = "admin-anonymous"
    elif not is_admin(ctx) and not await _promoted_admin(ctx):
        key = "admin-only"
    elif not ctx.is_private:
        key = "admin-in-private"
    else:
        return False
    if key == "admin-only" and ctx.command is None and ctx.incoming.kind == "message" and user is not None:
        # A dialogue step from someone demoted mid-dialogue: drop the dialogue, or every
        # message they send would be refused from now on.
        await ctx.services.uow.drafts.clear(user.id)
    await answer_refusal(ctx, key)
    return True


async def answer_refusal(ctx: Context, key: str) -> None:
    """A refused button press gets an alert (the chat stays as it was); a command, a reply."""
    if ctx.incoming.kind == "callback_query":
        await ctx.answer_callback(ctx.t(key), alert=True)
    else:
        await ctx.reply(ctx.t(key))


def guarded_by(refuse_: Callable[[Context], Awaitable[bool]]) -> Callable[[Handler], Handler]:
    """A decorator that runs the handler only when `refuse_` (which answers the refusal) says no."""
    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(ctx: Context) -> None:
            if await refuse_(ctx):
                return
            await handler(ctx)
        return guarded
    return wrap


admin_only = guarded_by(refuse)
