"""Who may run the station tools (/station, /poster, /residents): agents, and admins too, since an
admin may run a station of their own. A frozen agent may not: their codes bind nobody anyway.

The commands are private-chat only (not registered in_groups), so in a group the dispatcher
answers with the usual "talk to me in private".
"""
from __future__ import annotations

from bot.context import Context
from handlers.admin_guard import answer_refusal, guarded_by

AGENT_ROLES = ("agent", "admin")


def is_agent(ctx: Context) -> bool:
    return ctx.user is not None and ctx.role in AGENT_ROLES


async def refuse(ctx: Context) -> bool:
    """Answers the refusal and returns True when the sender may not use the station tools."""
    if not is_agent(ctx):
        key = "agent-only"
    elif ctx.user is not None and ctx.user.status == "frozen":
        key = "agent-frozen"
    else:
        return False
    await answer_refusal(ctx, key)
    return True


agent_only = guarded_by(refuse)

