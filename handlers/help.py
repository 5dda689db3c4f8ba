"""/help: the commands each role may use. The same lists, in the same order, make the
command menus Telegram shows (handlers/menus.py)."""
from __future__ import annotations

from bot.context import Context
from bot.i18n import Raw
from handlers.admin_guard import is_admin
from handlers.router import Router

router = Router("help")

# The order users see in the menu and in /help.
USER_COMMANDS = ("start", "code", "invites", "invite", "rewards", "earnings", "rules", "bind", "settings", "language",
                 "help")


# Admins see these too, after the user and agent commands, in /help and in their menu (texts: cmd-admin-<name>).
ADMIN_COMMANDS = ("stats", "user", "freeze", "unfreeze", "promote", "demote", "broadcast", "broadcast_status",
                  "publish", "review")


# Agents (and admins, who may run stations too) see these in /help and in their menu (texts: cmd-agent-<name>).
AGENT_COMMANDS = ("station", "poster", "residents")


def commands_text(ctx: Context) -> str:
    return "\n".join(f"/{name} — {ctx.t(f'cmd-{name}')}" for name in USER_COMMANDS)


@router.command("help", idempotent=True)
async def help_command(ctx: Context) -> None:
    text = commands_text(ctx)
    if ctx.role in ("agent", "admin"):
        text += "\n\n" + ctx.t("agent-help-title") + "\n" + "\n".join(
            f"/{name} — {ctx.t(f'cmd-agent-{name}')}" for name in AGENT_COMMANDS)
    if is_admin(ctx):
        text += "\n\n" + ctx.t("admin-help-title") + "\n" + "\n".join(
            f"/{name} — {ctx.t(f'cmd-admin-{name}')}" for name in ADMIN_COMMANDS)
    await ctx.reply(ctx.t("help", commands=Raw(text)))
