"""Turning an outbox row into what is sent, at send time, in the recipient's language as it is then.

Most rows are a text key and its arguments. Some kinds need more than a text
(a button, a copied message); they register a formatter here, so the sender
stays ignorant of what any message means.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from bot.i18n import I18n, resolve_locale
from bot.transport import Outgoing

if TYPE_CHECKING:
    from bot.app import App

# kind -> (i18n, locale, text_key, args) -> Outgoing
Formatter = Callable[[I18n, str, str, dict], Outgoing]
FORMATTERS: dict[str, Formatter] = {}


def formatter(kind: str) -> Callable[[Formatter], Formatter]:
    def register(fn: Formatter) -> Formatter:
        FORMATTERS[kind] = fn
        return fn
    return register


def broadcast_content(args: dict) -> Outgoing:
    """A broadcast row carries its content: {"text": ...} or {"copy": [from_chat_id, message_id]}."""
    paid = bool(args.get("paid"))
    if "copy" in args:
        from_chat_id, message_id = args["copy"]
        return Outgoing(copy_from=(int(from_chat_id), int(message_id)), paid=paid)
    return Outgoing(text=str(args["text"]), paid=paid)


class OutboxRenderer:
    def __init__(self, app: "App") -> None:
        self.app = app

    async def __call__(self, chat_id: int, kind: str, text_key: str, args: dict) -> Outgoing:
        if kind == "broadcast":  # the admin's own words: no language to choose
            return broadcast_content(args)
        async with self.app.uow() as uow:
            user = await uow.users.get(chat_id)
        default = self.app.settings.default_locale
        locale = resolve_locale(user.language, user.tg_language, default) if user else default
        custom = FORMATTERS.get(kind)
        if custom is not None:
            return custom(self.app.i18n, locale, text_key, args)
        return Outgoing(text=self.app.i18n.t(locale, text_key, **args))
