"""/help, and the command menu registered with Telegram (setMyCommands) in each language."""
from __future__ import annotations

from bot.context import Context
from bot.i18n import I18n, Raw
from bot.transport import BotCommand
from handlers.router import Router

router = Router("help")

# The order users see in the menu and in /help.
USER_COMMANDS = ("start", "code", "invites", "rewards", "earnings", "bind", "language", "help")


def commands_text(ctx: Context) -> str:
    return "\n".join(f"/{name} — {ctx.t(f'cmd-{name}')}" for name in USER_COMMANDS)


def bot_commands(i18n: I18n, locale: str) -> list[BotCommand]:
    return [BotCommand(name, i18n.t(locale, f"cmd-{name}")) for name in USER_COMMANDS]


@router.command("help")
async def help_command(ctx: Context) -> None:
    await ctx.reply(ctx.t("help", commands=Raw(commands_text(ctx))))
