"""Tables. The invariants the database can enforce are written here as constraints:

* one referrer per user: `bindings.referee_id` is the primary key;
* one ancestor per (descendant, depth): the closure's primary key, so a user's
  upline can never fork, whatever the code does;
* no self-referral: CHECK constraints on bindings and closure;
* codes are unique and at most 64 characters (Telegram's deep-link payload limit).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import AutoId, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('user', 'agent', 'admin')", name="role"),
        CheckConstraint("status IN ('active', 'frozen', 'blocked')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    tg_language: Mapped[str | None] = mapped_column(String(16))
    # Set only by /language; wins over Telegram's language_code.
    language: Mapped[str | None] = mapped_column(String(8))
    role: Mapped[str] = mapped_column(String(8), default="user", server_default="user")
    status: Mapped[str] = mapped_column(String(8), default="active", server_default="active")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rules_version_ack: Mapped[int | None] = mapped_column(Integer)


class Code(Base):
    __tablename__ = "codes"
    __table_args__ = (
        CheckConstraint("length(code) BETWEEN 1 AND 64", name="length"),
        CheckConstraint("kind IN ('personal', 'station')", name="kind"),
        # One personal code per user; agents may own many station codes.
        Index(
            "uq_codes_personal_owner",
            "owner_id",
            unique=True,
            sqlite_where=text("kind = 'personal'"),
            postgresql_where=text("kind = 'personal'"),
        ),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="personal")
    label: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Telegram's file_id of the rendered QR, so a repeated /code uploads nothing.
    qr_file_id: Mapped[str | None] = mapped_column(String(256))


class Binding(Base):
    """The referral edge: a referee and their one referrer, set once."""

    __tablename__ = "bindings"
    __table_args__ = (
        CheckConstraint("referee_id <> referrer_id", name="not_self"),
        CheckConstraint("source IN ('link', 'bind', 'platform', 'group', 'seed')", name="source"),
        Index("ix_bindings_referrer_bound", "referrer_id", "bound_at"),
    )

    referee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, autoincrement=False)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    code_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id"))
    source: Mapped[str] = mapped_column(String(16))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReferralClosure(Base):
    """(ancestor, descendant, depth) for depth 1..levels, written with the binding."""

    __tablename__ = "referral_closure"
    __table_args__ = (
        CheckConstraint("depth BETWEEN 1 AND 3", name="depth"),
        CheckConstraint("ancestor_id <> descendant_id", name="not_self"),
        # "My level-k referrals, newest first" is one index range scan.
        Index("ix_closure_ancestor", "ancestor_id", "depth", "bound_at"),
    )

    descendant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, autoincrement=False)
    depth: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    ancestor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReferralCount(Base):
    """Referral counts per level, kept in the binding transaction.

    A GROUP BY over the largest referrer's closure rows is too slow for a
    request; `ledger`/`referrals check` recomputes these from the closure.
    """

    __tablename__ = "referral_counts"
    __table_args__ = (CheckConstraint("count >= 0", name="nonneg"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, autoincrement=False)
    depth: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0)


class HandledUpdate(Base):
    """Durable record of Telegram update ids, because updates arrive at least once."""

    __tablename__ = "handled_updates"

    # Inserted in the same transaction as the update's effects: a redelivered
    # update either finds it (skipped) or finds nothing because the first
    # attempt rolled back (handled again, safely).
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OutboxMessage(Base):
    """One message the bot sends on its own initiative; drained by the throttled sender."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed', 'blocked')", name="state"),
        Index("ix_outbox_due", "state", "priority", "not_before", "id"),
        # After a 403 every pending row to that chat is marked blocked at once.
        Index("ix_outbox_chat_state", "chat_id", "state"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    # Lower sends first: transactional notices before tips and broadcasts.
    priority: Mapped[int] = mapped_column(SmallInteger, default=0)
    text_key: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict] = mapped_column(JSON, default=dict)
    # Makes "notify once" a constraint: e.g. join:<referee id>.
    dedup_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
