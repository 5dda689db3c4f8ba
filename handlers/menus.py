"""The command menus Telegram shows under "/" (setMyCommands): one per role, in each language.

A user has the bot's default menu (no chat scope). An agent's private chat gets a menu
of its own: the user commands, then the station tools; an admin's adds the admin
commands. Each is written in DEFAULT_LOCALE (no language_code: whoever's app speaks
neither language) and in Chinese and English (language_code "zh", "en"): Telegram picks
by the app's language. Someone who chose a language with /language gets their role's
menu in that language alone, set for their chat with no language_code, which Telegram
prefers to every language-specific menu of a wider scope: the menu follows the choice.
"""
from __future__ import annotations

import hashlib
import json

from bot.config import SUPPORTED_LOCALES
from bot.i18n import I18n
from bot.transport import BotCommand
from handlers.help import ADMIN_COMMANDS, AGENT_COMMANDS, USER_COMMANDS

# What each role's menu lists, in order: (command names, prefix of their text keys).
SECTIONS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "user": ((USER_COMMANDS, "cmd-"),),
    "agent": ((USER_COMMANDS, "cmd-"), (AGENT_COMMANDS, "cmd-agent-")),
    "admin": ((USER_COMMANDS, "cmd-"), (AGENT_COMMANDS, "cmd-agent-"), (ADMIN_COMMANDS, "cmd-admin-")),
}
# Each locale a menu is written in, under Telegram's language_code for it: the ISO 639-1 part ("zh").
LANGUAGES = tuple((locale.partition("-")[0], locale) for locale in SUPPORTED_LOCALES)
# The Bot API's limits: setMyCommands refuses the whole menu if one entry breaks them.
MAX_COMMANDS = 100
MAX_DESCRIPTION = 256


def menu(i18n: I18n, role: str, locale: str) -> list[BotCommand]:
    commands = [BotCommand(name, _description(i18n.t(locale, prefix + name)))
                for names, prefix in SECTIONS[role] for name in names]
    if len(commands) > MAX_COMMANDS:
        raise ValueError(f"the {role} menu has {len(commands)} commands; Telegram takes at most {MAX_COMMANDS}")
    return commands


def menus(i18n: I18n, role: str, default_locale: str,
          chosen: str | None = None) -> list[tuple[str | None, list[BotCommand]]]:
    """(language_code, commands) for every language a role's menu is set in; None first. With a
    language `chosen` (/language), that language alone, under None."""
    if chosen is not None:
        return [(None, menu(i18n, role, chosen))]
    return [(None, menu(i18n, role, default_locale))] + [(code, menu(i18n, role, locale)) for code, locale in LANGUAGES]


def menu_version(role: str, role_menus: list[tuple[str | None, list[BotCommand]]], bot_username: str,
                 chosen: str | None = None) -> str:
    """'<role>:<digest>' ('<role>@<chosen language>:<digest>'), the digest of what `role_menus`
    say, recorded per user once Telegram has them.

    The digest changes when a release adds a command or rewords one, when DEFAULT_LOCALE
    changes, or when the same database serves another bot: then every recorded menu of this
    role is out of date and is set again.
    """
    content = [bot_username, [(code, [(c.command, c.description) for c in commands]) for code, commands in role_menus]]
    digest = hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()[:8]
    return f"{role}:{digest}" if chosen is None else f"{role}@{chosen}:{digest}"


def in_each_language(version: str | None) -> bool:
    """Whether a recorded menu was set in each language (no language chosen), as menu_version names it."""
    return version is not None and "@" not in version.partition(":")[0]


def _description(text: str) -> str:
    # A translator's long line must not cost everyone the menu: clipped, not refused.
    text = " ".join(text.split())
    return text if len(text) <= MAX_DESCRIPTION else text[:MAX_DESCRIPTION - 1] + "…"
