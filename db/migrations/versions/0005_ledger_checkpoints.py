"""Ledger checkpoints: a big referrer's settled sums, so balances need not read every entry.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

Both tables are append-only (the ledger's triggers). `ledger_entries` gains the
indexes a checkpointed read walks: by beneficiary and id (entries after a
checkpoint), by beneficiary and available_at (entries still in their hold),
and a partial one for the entries a fraud flag holds.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.ledger_guard import CHECKPOINT_GUARD_DDL, CHECKPOINT_SUMS_GUARD_DDL

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table('ledger_checkpoints',
    sa.Column('id', AutoId, autoincrement=True, nullable=False),
    sa.Column('beneficiary_id', sa.BigInteger(), nullable=False),
    sa.Column('upto_entry_id', sa.BigInteger(), nullable=False),
    sa.Column('as_of', UTC, nullable=False),
    sa.Column('approved_at', UTC, nullable=True),
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['users.id'], name=op.f('fk_ledger_checkpoints_beneficiary_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_checkpoints')),
    sa.UniqueConstraint('beneficiary_id', 'upto_entry_id', name='uq_ledger_checkpoints_upto')
    )
    op.create_table('ledger_checkpoint_sums',
    sa.Column('checkpoint_id', AutoId, nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('rule', sa.String(length=48), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("state IN ('available', 'lapsed', 'paid')", name=op.f('ck_ledger_checkpoint_sums_state')),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['ledger_checkpoints.id'],
                            name=op.f('fk_ledger_checkpoint_sums_checkpoint_id_ledger_checkpoints')),
    sa.PrimaryKeyConstraint('checkpoint_id', 'state', 'level', 'rule', 'month', name=op.f('pk_ledger_checkpoint_sums'))
    )
    op.create_index('ix_ledger_beneficiary_id', 'ledger_entries', ['beneficiary_id', 'id'], unique=False)
    op.create_index('ix_ledger_beneficiary_available', 'ledger_entries', ['beneficiary_id', 'available_at'],
                    unique=False)
    op.create_index('ix_ledger_held', 'ledger_entries', ['beneficiary_id'], unique=False,
                    sqlite_where=sa.text('hold_flag_id IS NOT NULL'),
                    postgresql_where=sa.text('hold_flag_id IS NOT NULL'))
    for ddl in (CHECKPOINT_GUARD_DDL, CHECKPOINT_SUMS_GUARD_DDL):
        for statement in ddl[dialect]["create"]:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for ddl in (CHECKPOINT_SUMS_GUARD_DDL, CHECKPOINT_GUARD_DDL):
        for statement in ddl[dialect]["drop"]:
            op.execute(statement)
    op.drop_index('ix_ledger_held', table_name='ledger_entries')
    op.drop_index('ix_ledger_beneficiary_available', table_name='ledger_entries')
    op.drop_index('ix_ledger_beneficiary_id', table_name='ledger_entries')
    op.drop_table('ledger_checkpoint_sums')
    op.drop_table('ledger_checkpoints')
