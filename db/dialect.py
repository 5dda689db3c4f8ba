"""Dialect-specific INSERT ... ON CONFLICT, the one SQL construct the two backends spell differently."""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.transaction import Transaction


# The INSERT constructs that know ON CONFLICT, by dialect name; prebuilt statements key on it.
INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_for(session: AsyncSession | Transaction, table):  # noqa: ANN001, ANN201
    return INSERTS[dialect_name(session)](table)


def dialect_name(session: AsyncSession | Transaction) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"
