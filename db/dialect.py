"""Dialect-specific INSERT ... ON CONFLICT, the one SQL construct the two backends spell differently.

Each dialect's module is imported, and each statement built for it, the first time a statement is
asked for that dialect: a process on SQLite never imports SQLAlchemy's PostgreSQL dialect, ~25 ms
of an operator command's half second (`referral-bot user`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from importlib import import_module
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from db.transaction import Transaction

T = TypeVar("T")
DIALECTS = ("postgresql", "sqlite")


class _Inserts(Mapping[str, Callable[..., Any]]):
    """The INSERT constructs that know ON CONFLICT, by dialect name."""

    def __getitem__(self, name: str) -> Callable[..., Any]:
        if name not in DIALECTS:
            raise KeyError(name)
        return import_module(f"sqlalchemy.dialects.{name}").insert

    def __iter__(self) -> Iterator[str]:
        return iter(DIALECTS)

    def __len__(self) -> int:
        return len(DIALECTS)


INSERTS: Mapping[str, Callable[..., Any]] = _Inserts()


class PerDialect(Generic[T]):
    """A prebuilt statement (or a few) for each dialect, `build(insert)` made once, at the first
    look-up of that dialect: the same object every time after, as db.direct's plans need."""

    __slots__ = ("_build", "_built")

    def __init__(self, build: Callable[[Callable[..., Any]], T]) -> None:
        self._build = build
        self._built: dict[str, T] = {}

    def __getitem__(self, name: str) -> T:
        built = self._built.get(name)
        if built is None:
            built = self._built[name] = self._build(INSERTS[name])
        return built


def insert_for(session: AsyncSession | Transaction, table):  # noqa: ANN001, ANN201
    return INSERTS[dialect_name(session)](table)


def dialect_name(session: AsyncSession | Transaction) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"
