"""Rewards: platform events, program versions, the append-only ledger, platform identities.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

The ledger refuses UPDATE and DELETE with a trigger on both backends (the same
DDL db.ledger_guard attaches to create_all), so "append-only" is the
database's rule, not only the code's.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.ledger_guard import GUARD_DDL


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('platform_user_ids',
    sa.Column('id', AutoId, autoincrement=True, nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_user_ids')),
    sa.UniqueConstraint('external_id', name=op.f('uq_platform_user_ids_external_id'))
    )
    op.create_table('program_versions',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('effective_at', UTC, nullable=False),
    sa.Column('published_at', UTC, nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_program_versions_positive')),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_program_versions'))
    )
    op.create_table('events',
    sa.Column('id', AutoId, autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', UTC, nullable=False),
    sa.Column('received_at', UTC, nullable=False),
    sa.Column('telegram_id', sa.BigInteger(), nullable=True),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('target_key', sa.String(length=128), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('canonical', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('applied_at', UTC, nullable=True),
    sa.CheckConstraint("outcome IN ('applied', 'pending_user', 'pending_target', 'refused', 'ignored')", name=op.f('ck_events_outcome')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('key', name=op.f('uq_events_key'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_pending', ['outcome', 'external_id', 'telegram_id'], unique=False)
        batch_op.create_index('ix_events_target', ['target_key'], unique=False)
        batch_op.create_index('ix_events_user_type', ['user_id', 'type', 'occurred_at'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('id', AutoId, autoincrement=True, nullable=False),
    sa.Column('event_id', AutoId, nullable=False),
    sa.Column('beneficiary_id', sa.BigInteger(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('rule', sa.String(length=48), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('program_version', sa.Integer(), nullable=False),
    sa.Column('referee_id', sa.BigInteger(), nullable=True),
    sa.Column('reverses_id', AutoId, nullable=True),
    sa.Column('available_at', UTC, nullable=False),
    sa.Column('requires_check', sa.Boolean(), nullable=False),
    sa.Column('lapse_at', UTC, nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name=op.f('ck_ledger_entries_reversal_target')),
    sa.CheckConstraint("(kind IN ('reward', 'tier_bonus') AND amount_fen > 0) OR (kind IN ('reversal', 'payout') AND amount_fen < 0)", name=op.f('ck_ledger_entries_sign')),
    sa.CheckConstraint("kind IN ('reward', 'tier_bonus', 'reversal', 'payout')", name=op.f('ck_ledger_entries_kind')),
    sa.CheckConstraint('level BETWEEN 0 AND 3', name=op.f('ck_ledger_entries_level')),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['users.id'], name=op.f('fk_ledger_entries_beneficiary_id_users')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_ledger_entries_event_id_events')),
    sa.ForeignKeyConstraint(['program_version'], ['program_versions.version'], name=op.f('fk_ledger_entries_program_version_program_versions')),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_entries.id'], name=op.f('fk_ledger_entries_reverses_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('event_id', 'beneficiary_id', 'level', 'rule', name='uq_ledger_effect'),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_entries_reverses_id'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_available', ['available_at'], unique=False)
        batch_op.create_index('ix_ledger_beneficiary', ['beneficiary_id', 'created_at'], unique=False)
        batch_op.create_index('ix_ledger_beneficiary_kind', ['beneficiary_id', 'kind'], unique=False)
        batch_op.create_index('ix_ledger_referee', ['referee_id', 'rule'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('credit_approved_at', UTC, nullable=True))
        batch_op.create_index('uq_users_external_id', ['external_id'], unique=True)

    for statement in GUARD_DDL[op.get_bind().dialect.name]["create"]:
        op.execute(statement)


def downgrade() -> None:
    for statement in GUARD_DDL[op.get_bind().dialect.name]["drop"]:
        op.execute(statement)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('uq_users_external_id')
        batch_op.drop_column('credit_approved_at')
        batch_op.drop_column('external_id')

    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_referee')
        batch_op.drop_index('ix_ledger_beneficiary_kind')
        batch_op.drop_index('ix_ledger_beneficiary')
        batch_op.drop_index('ix_ledger_available')

    op.drop_table('ledger_entries')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_user_type')
        batch_op.drop_index('ix_events_target')
        batch_op.drop_index('ix_events_pending')

    op.drop_table('events')
    op.drop_table('program_versions')
    op.drop_table('platform_user_ids')
