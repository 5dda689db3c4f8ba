"""Texts from `locales/<locale>/*.ftl` (Project Fluent).

Fluent over gettext because translators see whole messages with named
arguments and plural selectors in one plain file per language, and there is no
compile step. Every text we send is HTML, so string arguments are escaped here,
once, for all callers: a user's name can never break the parse mode.
"""
from __future__ import annotations

import html
from pathlib import Path

from bot.config import SUPPORTED_LOCALES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
MEMO_SIZE = 4_096  # formatted texts kept (a few MiB at most); cleared when full


class MissingText(KeyError):
    pass


class Raw(str):
    """A string argument that is already HTML (built from escaped parts); not escaped again."""


class I18n:
    def __init__(self, default_locale: str = "zh-CN", directory: Path = LOCALES_DIR) -> None:
        # Imported here: operator commands that only need resolve_locale stay fast.
        from fluent.runtime import FluentBundle, FluentResource

        self.default_locale = default_locale
        self.bundles: dict[str, FluentBundle] = {}
        for locale in SUPPORTED_LOCALES:
            bundle = FluentBundle([locale], use_isolating=False)
            for path in sorted((directory / locale).glob("*.ftl")):
                bundle.add_resource(FluentResource(path.read_text(encoding="utf-8")))
            self.bundles[locale] = bundle
        self._memo: dict[tuple, str] = {}

    def keys(self, locale: str) -> set[str]:
        return set(self.bundles[locale]._messages)  # fluent.runtime has no public listing

    def series(self, prefix: str, locale: str | None = None) -> int:
        """N for the numbered texts prefix1..prefixN (e.g. tip-1..tip-N), counted up to the first gap."""
        bundle = self.bundles[locale or self.default_locale]
        count = 0
        while bundle.has_message(f"{prefix}{count + 1}"):
            count += 1
        return count

    def t(self, locale: str, key: str, /, **args: object) -> str:
        # A text is a pure function of its locale, key and arguments, and the same ones come back
        # (menus, buttons, a user's /code caption): formatted once, then looked up.
        # The type is part of the key: Raw("<b>") == "<b>", but only the str is escaped.
        memo_key = (locale, key, *((name, type(value), value) for name, value in args.items()))
        try:
            text = self._memo.get(memo_key)
        except TypeError:  # an argument that cannot be hashed: format it every time
            return self._format(locale, key, args)
        if text is None:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            text = self._memo[memo_key] = self._format(locale, key, args)
        return text

    def _format(self, locale: str, key: str, args: dict[str, object]) -> str:
        bundle = self.bundles.get(locale) or self.bundles[self.default_locale]
        if not bundle.has_message(key):
            raise MissingText(f"{key} ({locale})")
        message = bundle.get_message(key)
        safe = {k: (v if isinstance(v, (int, Raw)) or not isinstance(v, str) else html.escape(v, quote=False))
                for k, v in args.items()}
        text, errors = bundle.format_pattern(message.value, safe)
        if errors:
            raise MissingText(f"{key} ({locale}): {errors[0]}")
        return text


def resolve_locale(chosen: str | None, telegram_code: str | None, default: str) -> str:
    """The user's stored choice wins; then Telegram's language_code; then the default."""
    if chosen in SUPPORTED_LOCALES:
        return chosen
    code = (telegram_code or "").lower()
    if code.startswith("en"):
        return "en"
    if code.startswith("zh"):
        return "zh-CN"
    return default
