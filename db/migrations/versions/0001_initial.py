"""Initial schema: users, codes, the referral forest (bindings, closure, counts),
handled updates and the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Mirrors db/models.py exactly (tests/unit/test_migrations.py compares the two on
SQLite and PostgreSQL). Every constraint carries the name the models' naming
convention gives it, spelled out with op.f() so this file never depends on the
convention staying the same. Time columns are DateTime(timezone=True), the
storage type of db.types.UTCDateTime; migrations don't import application types.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT (db.types.AutoId).
AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("first_name", sa.String(length=128), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("tg_language", sa.String(length=16), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("role", sa.String(length=8), server_default="user", nullable=False),
        sa.Column("status", sa.String(length=8), server_default="active", nullable=False),
        sa.Column("first_seen_at", UTC, nullable=False),
        sa.Column("rules_version_ack", sa.Integer(), nullable=True),
        sa.CheckConstraint("role IN ('user', 'agent', 'admin')", name=op.f("ck_users_role")),
        sa.CheckConstraint("status IN ('active', 'frozen', 'blocked')", name=op.f("ck_users_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )

    op.create_table(
        "codes",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("qr_file_id", sa.String(length=256), nullable=True),
        sa.CheckConstraint("length(code) BETWEEN 1 AND 64", name=op.f("ck_codes_length")),
        sa.CheckConstraint("kind IN ('personal', 'station')", name=op.f("ck_codes_kind")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_codes_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_codes_code")),
    )
    op.create_index(op.f("ix_codes_owner_id"), "codes", ["owner_id"], unique=False)
    # One personal code per user; agents may own many station codes.
    op.create_index(
        op.f("uq_codes_personal_owner"), "codes", ["owner_id"], unique=True,
        sqlite_where=sa.text("kind = 'personal'"), postgresql_where=sa.text("kind = 'personal'"),
    )

    # The referral edge: the primary key on referee_id is "one referrer per user".
    op.create_table(
        "bindings",
        sa.Column("referee_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("referrer_id", sa.BigInteger(), nullable=False),
        sa.Column("code_id", AutoId, nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("bound_at", UTC, nullable=False),
        sa.CheckConstraint("referee_id <> referrer_id", name=op.f("ck_bindings_not_self")),
        sa.CheckConstraint("source IN ('link', 'bind', 'platform', 'group', 'seed')", name=op.f("ck_bindings_source")),
        sa.ForeignKeyConstraint(["referee_id"], ["users.id"], name=op.f("fk_bindings_referee_id_users")),
        sa.ForeignKeyConstraint(["referrer_id"], ["users.id"], name=op.f("fk_bindings_referrer_id_users")),
        sa.ForeignKeyConstraint(["code_id"], ["codes.id"], name=op.f("fk_bindings_code_id_codes")),
        sa.PrimaryKeyConstraint("referee_id", name=op.f("pk_bindings")),
    )
    op.create_index(op.f("ix_bindings_referrer_bound"), "bindings", ["referrer_id", "bound_at"], unique=False)

    # (descendant, depth) is the key: a user's upline can never fork.
    op.create_table(
        "referral_closure",
        sa.Column("descendant_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("depth", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("ancestor_id", sa.BigInteger(), nullable=False),
        sa.Column("bound_at", UTC, nullable=False),
        sa.CheckConstraint("depth BETWEEN 1 AND 3", name=op.f("ck_referral_closure_depth")),
        sa.CheckConstraint("ancestor_id <> descendant_id", name=op.f("ck_referral_closure_not_self")),
        sa.ForeignKeyConstraint(["descendant_id"], ["users.id"], name=op.f("fk_referral_closure_descendant_id_users")),
        sa.ForeignKeyConstraint(["ancestor_id"], ["users.id"], name=op.f("fk_referral_closure_ancestor_id_users")),
        sa.PrimaryKeyConstraint("descendant_id", "depth", name=op.f("pk_referral_closure")),
    )
    op.create_index(op.f("ix_closure_ancestor"), "referral_closure", ["ancestor_id", "depth", "bound_at"], unique=False)

    op.create_table(
        "referral_counts",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("depth", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("count >= 0", name=op.f("ck_referral_counts_nonneg")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_referral_counts_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "depth", name=op.f("pk_referral_counts")),
    )

    op.create_table(
        "handled_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("handled_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_handled_updates")),
    )
    op.create_index(op.f("ix_handled_updates_handled_at"), "handled_updates", ["handled_at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("text_key", sa.String(length=64), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(length=128), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", UTC, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'blocked')", name=op.f("ck_outbox_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_outbox_dedup_key")),
    )
    op.create_index(op.f("ix_outbox_due"), "outbox", ["state", "priority", "not_before", "id"], unique=False)
    op.create_index(op.f("ix_outbox_chat_state"), "outbox", ["chat_id", "state"], unique=False)


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("handled_updates")
    op.drop_table("referral_counts")
    op.drop_table("referral_closure")
    op.drop_table("bindings")
    op.drop_table("codes")
    op.drop_table("users")
