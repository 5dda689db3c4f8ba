"""Every text lives in locales/, in both languages, and every key the code uses exists."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.config import SUPPORTED_LOCALES
from bot.i18n import I18n
from handlers.help import ADMIN_COMMANDS, AGENT_COMMANDS, USER_COMMANDS

ROOT = Path(__file__).resolve().parents[2]
NOTICE_KEY = re.compile(r"""["'](notice-[a-z-]+)["']""")
KEY_IN_CODE = re.compile(r"""(?:\bt\(|text_key=)\s*(?:[\w.]+,\s*)?["']([a-z][a-z0-9-]+)["']""")


def used_keys() -> set[str]:
    keys: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            keys |= set(KEY_IN_CODE.findall(source))
            keys |= set(NOTICE_KEY.findall(source))  # outbox notices name their text by key
    keys |= {f"cmd-{name}" for name in USER_COMMANDS} | {f"language-name-{loc}" for loc in SUPPORTED_LOCALES}
    # the menus and /help name these by prefix (handlers/menus.py)
    keys |= {f"cmd-agent-{name}" for name in AGENT_COMMANDS} | {f"cmd-admin-{name}" for name in ADMIN_COMMANDS}
    keys |= {"bind-malformed", "bind-unknown-code", "bind-code-off", "bind-own-code", "bind-already-bound",
             "bind-cycle", "bind-is-bot"}  # via handlers/texts.py
    return keys


def test_both_languages_have_the_same_keys():
    i18n = I18n()
    assert i18n.keys("zh-CN") == i18n.keys("en")


def test_every_key_used_in_code_exists():
    i18n = I18n()
    used = used_keys()
    assert len(used) > 30  # the scan found the handlers' keys
    assert used - i18n.keys("zh-CN") == set()


def test_handlers_hold_no_user_visible_literals():
    """Replies are built from ctx.t(...); a string with letters in a handler, other than keys,
    callback data and docstrings, would be a text outside locales/."""
    allowed = re.compile(r"^[a-z0-9_:{}./@?=%-]*$|^https://")
    for path in (ROOT / "handlers").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                      and node.body and isinstance(node.body[0], ast.Expr)}
        # messages of exceptions are for developers, not users
        docstrings |= {id(n) for r in ast.walk(tree) if isinstance(r, ast.Raise) for n in ast.walk(r)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                assert allowed.match(node.value) or not re.search(r"[^\W\d_]{2}", node.value), (path, node.value)


def test_a_wheel_carries_every_text():
    """A non-editable install has no repository beside it: the .ftl files must be package data."""
    import tomllib
    from fnmatch import fnmatch

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert any(fnmatch("locales", pattern) for pattern in setup["packages"]["find"]["include"])
    assert (ROOT / "locales" / "__init__.py").is_file()
    texts = {p.relative_to(ROOT / "locales").as_posix() for p in (ROOT / "locales").rglob("*.ftl")}
    carried = {t for t in texts if any(fnmatch(t, pattern) for pattern in setup["package-data"]["locales"])}
    assert len(texts) >= len(SUPPORTED_LOCALES) and carried == texts
