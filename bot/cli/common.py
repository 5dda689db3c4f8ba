"""What every operator command does the same way: fail with one line, explain database errors,
and refuse to run against a SQLite file that isn't there (SQLite would create an empty one)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bot.config import Settings


def fail(message: str, code: int = 1) -> typer.Exit:
    print(message, file=sys.stderr)
    return typer.Exit(code)


def db_error(exc: BaseException) -> typer.Exit:
    text = str(getattr(exc, "orig", None) or exc).strip()
    detail = text.splitlines()[0] if text else type(exc).__name__
    if "no such table" in detail or ("relation" in detail and "does not exist" in detail):
        detail += " (has `referral-bot migrate` run on this database?)"
    return fail(f"database error: {detail}")


def run_async(coro):  # noqa: ANN001, ANN201
    """asyncio.run(coro), every command's way into its work: the collector, off while the command
    imported (main), is back on for the work, which may be a long file (bot/heap.py)."""
    import asyncio

    from bot.heap import settle

    settle(collect=False)
    return asyncio.run(coro)


def run_db(coro):  # noqa: ANN001, ANN201
    """run_async(coro), with a database failure turned into one line and exit status 1."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return run_async(coro)
    except (SQLAlchemyError, OSError) as exc:
        raise db_error(exc) from None


def sqlite_path(url: str) -> str | None:
    """The file behind a sqlite URL, None for :memory: or a non-SQLite URL."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[1] if "///" in url else ""
    path = path.split("?", 1)[0]
    return None if path in ("", ":memory:") else path


def require_database(settings: "Settings") -> None:
    path = sqlite_path(settings.database_url)
    if path is not None and not Path(path).exists():
        raise fail(f"no database at {path}: run `referral-bot migrate` (or `run`) first")
