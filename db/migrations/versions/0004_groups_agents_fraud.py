"""Groups, station visits, anti-fraud flags, and the holds they put on ledger entries.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

`ledger_entries` gains `hold_flag_id`. On SQLite adding a foreign key means
rebuilding the table, which drops its append-only triggers, so they are
dropped first and created again after the rebuild.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.ledger_guard import GUARD_DDL

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table('code_visits',
    sa.Column('code_id', AutoId, autoincrement=False, nullable=False),
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('visited_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['code_id'], ['codes.id'], name=op.f('fk_code_visits_code_id_codes')),
    sa.PrimaryKeyConstraint('code_id', 'user_id', name=op.f('pk_code_visits'))
    )
    op.create_table('groups',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('title', sa.String(length=256), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('bot_status', sa.String(length=16), nullable=False),
    sa.Column('can_invite', sa.Boolean(), nullable=False),
    sa.Column('top_enabled', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('last_top_at', UTC, nullable=True),
    sa.Column('updated_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('chat_id', name=op.f('pk_groups'))
    )
    op.create_table('group_members',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['groups.chat_id'], name=op.f('fk_group_members_chat_id_groups')),
    sa.PrimaryKeyConstraint('chat_id', 'user_id', name=op.f('pk_group_members'))
    )
    op.create_index('ix_group_members_user', 'group_members', ['user_id'], unique=False)
    op.create_table('group_links',
    sa.Column('id', AutoId, autoincrement=True, nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('owner_id', sa.BigInteger(), nullable=False),
    sa.Column('invite_link', sa.String(length=256), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['groups.chat_id'], name=op.f('fk_group_links_chat_id_groups')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_group_links_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_links')),
    sa.UniqueConstraint('chat_id', 'owner_id', name='uq_group_links_chat_owner'),
    sa.UniqueConstraint('invite_link', name=op.f('uq_group_links_invite_link'))
    )
    op.create_table('group_joins',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('link_id', AutoId, nullable=True),
    sa.Column('is_bot', sa.Boolean(), nullable=False),
    sa.Column('joined_at', UTC, nullable=False),
    sa.Column('left_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['chat_id'], ['groups.chat_id'], name=op.f('fk_group_joins_chat_id_groups')),
    sa.ForeignKeyConstraint(['link_id'], ['group_links.id'], name=op.f('fk_group_joins_link_id_group_links')),
    sa.PrimaryKeyConstraint('chat_id', 'user_id', name=op.f('pk_group_joins'))
    )
    op.create_index('ix_group_joins_link', 'group_joins', ['link_id', 'joined_at'], unique=False)
    op.create_index('ix_group_joins_user', 'group_joins', ['user_id'], unique=False)
    op.create_table('fraud_flags',
    sa.Column('id', AutoId, autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('reviewed_at', UTC, nullable=True),
    sa.Column('reviewed_by', sa.BigInteger(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('velocity_hour', 'velocity_day', 'burst', 'idle_tier', 'fake_referees')",
                       name=op.f('ck_fraud_flags_kind')),
    sa.CheckConstraint("state IN ('open', 'approved', 'rejected')", name=op.f('ck_fraud_flags_state')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_fraud_flags_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_flags'))
    )
    op.create_index('uq_fraud_flags_open', 'fraud_flags', ['user_id', 'kind'], unique=True,
                    sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
    op.create_index('ix_fraud_flags_state', 'fraud_flags', ['state', 'created_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deactivated_at', UTC, nullable=True))
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label', sa.String(length=64), nullable=True))

    for statement in GUARD_DDL[dialect]["drop"]:
        op.execute(statement)
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_flag_id', AutoId, nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ledger_entries_hold_flag_id_fraud_flags'), 'fraud_flags',
                                    ['hold_flag_id'], ['id'])
    for statement in GUARD_DDL[dialect]["create"]:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in GUARD_DDL[dialect]["drop"]:
        op.execute(statement)
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_entries_hold_flag_id_fraud_flags'), type_='foreignkey')
        batch_op.drop_column('hold_flag_id')
    for statement in GUARD_DDL[dialect]["create"]:
        op.execute(statement)
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        batch_op.drop_column('label')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('deactivated_at')
    op.drop_index('ix_fraud_flags_state', table_name='fraud_flags')
    op.drop_index('uq_fraud_flags_open', table_name='fraud_flags')
    op.drop_table('fraud_flags')
    op.drop_index('ix_group_joins_user', table_name='group_joins')
    op.drop_index('ix_group_joins_link', table_name='group_joins')
    op.drop_table('group_joins')
    op.drop_table('group_links')
    op.drop_index('ix_group_members_user', table_name='group_members')
    op.drop_table('group_members')
    op.drop_table('groups')
    op.drop_table('code_visits')
