"""Tables. The invariants the database can enforce are written here as constraints:

* one referrer per user: `bindings.referee_id` is the primary key;
* one ancestor per (descendant, depth): the closure's primary key, so a user's
  upline can never fork, whatever the code does;
* no self-referral: CHECK constraints on bindings and closure;
* codes are unique and at most 64 characters (Telegram's deep-link payload limit).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db import ledger_guard
from db.types import AutoId, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The rows ix_users_menu covers: anyone who has, or should have, a menu of their own (agents,
# admins, whoever chose a language with /language).
MENU_DUE = "role <> 'user' OR command_menu IS NOT NULL OR language IS NOT NULL"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('user', 'agent', 'admin')", name="role"),
        CheckConstraint("status IN ('active', 'frozen', 'blocked')", name="status"),
        Index("uq_users_external_id", "external_id", unique=True),
        # Whose command menu may need setting or removing (bot/services/menus.py): agents, admins,
        # whoever chose a language, and whoever still has a menu of their own; not everyone else.
        Index("ix_users_menu", "id", sqlite_where=text(MENU_DUE), postgresql_where=text(MENU_DUE)),
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
    # The lending platform's account id, once the platform links it (account_linked / registered).
    external_id: Mapped[str | None] = mapped_column(String(128))
    # Set once by the platform's credit_approved event; releases rewards held for the check.
    credit_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Risk-education tips: /settings turns them off (reward notices stay on); the next tip is
    # tip number tips_sent (mod the list), so everyone reads the whole list in order.
    tips_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    tips_sent: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_tip_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When Telegram first said the account is deleted ("user is deactivated"); anti-fraud counts
    # referrers whose referees turn out to be deleted accounts.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The command menu Telegram was last told to show in their private chat, as
    # handlers.menus.menu_version names it ('agent:1f2e3d4c'); NULL: the default menu.
    # Telegram keeps a chat's menu until told otherwise, so this is what a role change is
    # compared with, and a failed call leaves it as it was, to be tried again.
    command_menu: Mapped[str | None] = mapped_column(String(24))


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
    # A station code's label as it was at binding time: a later /station rename does not
    # rewrite where a resident was signed up.
    label: Mapped[str | None] = mapped_column(String(64))


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


class QualifiedReferee(Base):
    """A level-1 referee whose first loan counts towards their referrer's tier bonuses.

    Written when the first loan is applied, under the referrer the referee had
    then, and deleted when that loan is reversed. A tier decision counts these
    rows (an index range) instead of joining the referrer's referees with the
    first-loan events and their reversals, which grew with the events table.
    The primary key makes a referee count once; the foreign key to `bindings`
    that only a bound referee counts.
    """

    __tablename__ = "qualified_referees"
    __table_args__ = (
        CheckConstraint("referee_id <> referrer_id", name="not_self"),
        Index("ix_qualified_referrer", "referrer_id"),
    )

    referee_id: Mapped[int] = mapped_column(ForeignKey("bindings.referee_id"), primary_key=True, autoincrement=False)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), unique=True)  # the first loan
    qualified_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
        CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'blocked', 'left', 'cancelled')", name="state"),
        Index("ix_outbox_due", "state", "priority", "not_before", "id"),
        # A broadcast's progress is a GROUP BY state over its delivery rows.
        Index("ix_outbox_broadcast_state", "broadcast_id", "state"),
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
    # Set on a broadcast's delivery rows: with dedup_key 'bc:<id>:<chat>' that makes one row
    # per (broadcast, recipient), so a broadcast resumes after a crash without repeats or gaps.
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))
    # The sender instance holding a 'sending' row. On PostgreSQL each instance holds an advisory
    # lock on its number while alive, so a restart takes back a dead instance's rows at once
    # instead of waiting for their lease to lapse.
    claimed_by: Mapped[int | None] = mapped_column(Integer)


class PlatformUserId(Base):
    """Allocates ids for people known only to the platform (no Telegram id yet).

    They become users with id = -allocated; Telegram user ids are always
    positive, so the two can never collide.
    """

    __tablename__ = "platform_user_ids"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)


class ProgramVersion(Base):
    """The reward rules as published; every ledger entry names the version it used."""

    __tablename__ = "program_versions"
    __table_args__ = (CheckConstraint("version >= 1", name="positive"),)

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(Text)  # the TOML as published
    rules: Mapped[dict] = mapped_column(JSON)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who published it, and why it took effect with less than RULE_NOTICE_DAYS' notice.
    published_by: Mapped[int | None] = mapped_column(BigInteger)
    urgent_reason: Mapped[str | None] = mapped_column(Text)


class Event(Base):
    """Every conversion the platform reports, stored once by its id with its raw body."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('applied', 'pending_user', 'pending_target', 'refused', 'ignored')", name="outcome"
        ),
        Index("ix_events_user_type", "user_id", "type", "occurred_at"),
        Index("ix_events_pending", "outcome", "external_id", "telegram_id"),
        Index("ix_events_target", "target_key"),
        # /stats counts today's events by type: a range scan, not a pass over every event.
        Index("ix_events_received", "received_at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)  # the platform's idempotency key
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    external_id: Mapped[str | None] = mapped_column(String(128))
    # The user the event is about, once known (may be a platform-only user, id < 0).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    target_key: Mapped[str | None] = mapped_column(String(128))  # a reversal's event_id
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)  # raw, as received
    canonical: Mapped[str] = mapped_column(Text)  # sorted-key JSON: "same body" means same meaning
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LedgerEntry(Base):
    """Append-only money movements in fen. Triggers refuse UPDATE and DELETE (migration 0002).

    Unique on (event, beneficiary, level, rule): a replayed or concurrent event
    can never pay twice. Reversals and payouts are new entries.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('reward', 'tier_bonus', 'reversal', 'payout')", name="kind"),
        CheckConstraint(
            "(kind IN ('reward', 'tier_bonus') AND amount_fen > 0) OR (kind IN ('reversal', 'payout') AND amount_fen < 0)",
            name="sign",
        ),
        CheckConstraint("level BETWEEN 0 AND 3", name="level"),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_target"),
        UniqueConstraint("event_id", "beneficiary_id", "level", "rule", name="uq_ledger_effect"),
        Index("ix_ledger_beneficiary", "beneficiary_id", "created_at"),
        # Payout sums and per-kind balance reads stay on one beneficiary's rows.
        Index("ix_ledger_beneficiary_kind", "beneficiary_id", "kind"),
        Index("ix_ledger_referee", "referee_id", "rule"),
        Index("ix_ledger_available", "available_at"),
        # What a checkpointed read sums: entries after the checkpoint, entries still in their
        # hold then, and the few a fraud flag holds.
        Index("ix_ledger_beneficiary_id", "beneficiary_id", "id"),
        Index("ix_ledger_beneficiary_available", "beneficiary_id", "available_at"),
        Index("ix_ledger_held", "beneficiary_id", sqlite_where=text("hold_flag_id IS NOT NULL"),
              postgresql_where=text("hold_flag_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    level: Mapped[int] = mapped_column(SmallInteger)  # 1..3 for rewards; 0 for a payout
    rule: Mapped[str] = mapped_column(String(48))
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    program_version: Mapped[int] = mapped_column(ForeignKey("program_versions.version"))
    referee_id: Mapped[int | None] = mapped_column(BigInteger)  # whose conversion earned it
    # An entry is reversed at most once.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # With referrer_requires_credit_check: held until the beneficiary's credit check, lapsing at lapse_at.
    requires_check: Mapped[bool] = mapped_column(Boolean, default=False)
    lapse_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Created while its beneficiary had an open fraud flag: held (pending) while that flag is
    # open, released when an admin approves it, reversed by new entries when one rejects it.
    # The entry never changes; the flag's state does.
    hold_flag_id: Mapped[int | None] = mapped_column(ForeignKey("fraud_flags.id"))


ledger_guard.attach(LedgerEntry.__table__)


class LedgerCheckpoint(Base):
    """A beneficiary's settled sums up to an entry id, so a read sums only what came after.

    Written by bot/services/rewards/checkpoints.py, never updated (triggers, as for the ledger):
    balances stay derived from entries, and `ledger check` recomputes every checkpoint. Settled
    means its state can no longer change except by a later reversal entry (which reads handle
    on their own): a payout, or an earning without a fraud hold, past its hold at `as_of`, and
    not waiting for a credit check (`approved_at`: the approval the sums assumed, set once).
    """

    __tablename__ = "ledger_checkpoints"
    __table_args__ = (UniqueConstraint("beneficiary_id", "upto_entry_id", name="uq_ledger_checkpoints_upto"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    upto_entry_id: Mapped[int] = mapped_column(BigInteger)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tz: Mapped[str] = mapped_column(String(64))  # the zone of the month buckets
    entries: Mapped[int] = mapped_column(Integer)  # how many entries the sums cover
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerCheckpointSum(Base):
    """One checkpoint's settled fen by (state, level, rule, local month the entries were created in)."""

    __tablename__ = "ledger_checkpoint_sums"
    __table_args__ = (CheckConstraint("state IN ('available', 'lapsed', 'paid')", name="state"),)

    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("ledger_checkpoints.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(12), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    rule: Mapped[str] = mapped_column(String(48), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


ledger_guard.attach(LedgerCheckpoint.__table__, ledger_guard.CHECKPOINT_GUARD_DDL)
ledger_guard.attach(LedgerCheckpointSum.__table__, ledger_guard.CHECKPOINT_SUMS_GUARD_DDL)


class RuleAck(Base):
    """A user's "I have read it" for a program version, with its time."""

    __tablename__ = "rule_acks"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(ForeignKey("program_versions.version"), primary_key=True,
                                         autoincrement=False)
    acked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Every admin action, from chat, CLI or API: who, what, when and why. Append-only (triggers)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint("via IN ('chat', 'cli', 'api')", name="via"),
        Index("ix_audit_at", "at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)  # None: an operator at the shell
    via: Mapped[str] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


ledger_guard.attach(AuditEntry.__table__, ledger_guard.AUDIT_GUARD_DDL)


class Broadcast(Base):
    """An admin's message to an audience; its deliveries are outbox rows carrying its id."""

    __tablename__ = "broadcasts"
    __table_args__ = (
        CheckConstraint("state IN ('running', 'done', 'cancelled')", name="state"),
        CheckConstraint("via IN ('chat', 'cli', 'api')", name="via"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    via: Mapped[str] = mapped_column(String(8))
    # {"text": ...} from the CLI, or {"from_chat_id": ..., "message_id": ...} copied with copyMessage.
    content: Mapped[dict] = mapped_column(JSON)
    audience: Mapped[str] = mapped_column(String(32))  # all | lang:<locale> | role:<role> | referrers
    total: Mapped[int] = mapped_column(Integer, default=0)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(12), default="running")
    # The admin's progress message, edited while the broadcast runs.
    status_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    status_message_id: Mapped[int | None] = mapped_column(BigInteger)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChatDraft(Base):
    """A multi-step admin dialogue in progress (/broadcast, /publish): survives a restart."""

    __tablename__ = "chat_drafts"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CodeVisit(Base):
    """Someone opened a station code's link: the first step of an agent's funnel ("joined"),
    counted even when they could not be bound (they had talked to the bot before)."""

    __tablename__ = "code_visits"

    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id"), primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Group(Base):
    """A group or supergroup the bot is (or was) in, with what the bot may do there."""

    __tablename__ = "groups"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(256), default="")
    type: Mapped[str] = mapped_column(String(16))  # group | supergroup
    # The bot's own membership: member | administrator | left | kicked | restricted
    bot_status: Mapped[str] = mapped_column(String(16))
    can_invite: Mapped[bool] = mapped_column(Boolean, default=False)
    top_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    last_top_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GroupMember(Base):
    """Who the bot has seen in a group, so /invite in private can offer the groups they share."""

    __tablename__ = "group_members"
    __table_args__ = (Index("ix_group_members_user", "user_id"),)

    chat_id: Mapped[int] = mapped_column(ForeignKey("groups.chat_id"), primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GroupLink(Base):
    """A member's personal named invite link for one group (createChatInviteLink), made once."""

    __tablename__ = "group_links"
    __table_args__ = (UniqueConstraint("chat_id", "owner_id", name="uq_group_links_chat_owner"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("groups.chat_id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    invite_link: Mapped[str] = mapped_column(String(256), unique=True)
    name: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GroupJoin(Base):
    """A person's first join of a group: one row per (group, person), so leaving and rejoining
    never counts twice. Attributed when they came through one of our links."""

    __tablename__ = "group_joins"
    __table_args__ = (Index("ix_group_joins_link", "link_id", "joined_at"),
                      Index("ix_group_joins_user", "user_id"))

    chat_id: Mapped[int] = mapped_column(ForeignKey("groups.chat_id"), primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("group_links.id"))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The first time they left; a join counts when they stayed GROUP_MIN_STAY_HOURS.
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GroupMove(Base):
    """A group that became a supergroup, by its old id: an update from the old chat that arrives
    after the move (a late or redelivered one) is the supergroup's, and the bot's own "left" there,
    which the upgrade brings, says nothing about the supergroup."""

    __tablename__ = "group_moves"

    old_chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    new_chat_id: Mapped[int] = mapped_column(BigInteger)
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FraudFlag(Base):
    """A suspicion about a referrer, with its evidence, waiting for (or after) an admin's review."""

    __tablename__ = "fraud_flags"
    __table_args__ = (
        CheckConstraint("kind IN ('velocity_hour', 'velocity_day', 'burst', 'idle_tier', 'fake_referees')",
                        name="kind"),
        CheckConstraint("state IN ('open', 'approved', 'rejected')", name="state"),
        # At most one open flag of a kind per user: a second burst adds evidence, not a flag.
        Index("uq_fraud_flags_open", "user_id", "kind", unique=True,
              sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
        Index("ix_fraud_flags_state", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(12), default="open")
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[int | None] = mapped_column(BigInteger)
    decision_reason: Mapped[str | None] = mapped_column(Text)
