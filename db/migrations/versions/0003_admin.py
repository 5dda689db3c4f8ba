"""Admin work: the audit log, broadcasts and their delivery rows, rule acknowledgements, tips.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

The audit log is append-only by trigger, like the ledger. A broadcast's
deliveries are outbox rows carrying its id, so they share the one rate budget.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.ledger_guard import AUDIT_GUARD_DDL

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)
OLD_STATES = "state IN ('pending', 'sending', 'sent', 'failed', 'blocked')"
# 'left': the recipient's account is gone (deactivated) or the chat no longer exists.
NEW_STATES = "state IN ('pending', 'sending', 'sent', 'failed', 'blocked', 'left', 'cancelled')"


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', AutoId, autoincrement=True, nullable=False),
    sa.Column('at', UTC, nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.CheckConstraint("via IN ('chat', 'cli', 'api')", name=op.f('ck_audit_log_via')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_at', ['at'], unique=False)

    op.create_table('broadcasts',
    sa.Column('id', AutoId, autoincrement=True, nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('audience', sa.String(length=32), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('paid', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('status_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('status_message_id', sa.BigInteger(), nullable=True),
    sa.Column('finished_at', UTC, nullable=True),
    sa.CheckConstraint("state IN ('running', 'done', 'cancelled')", name=op.f('ck_broadcasts_state')),
    sa.CheckConstraint("via IN ('chat', 'cli', 'api')", name=op.f('ck_broadcasts_via')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcasts'))
    )
    op.create_table('chat_drafts',
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_chat_drafts'))
    )
    op.create_table('rule_acks',
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('acked_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_rule_acks_user_id_users')),
    sa.ForeignKeyConstraint(['version'], ['program_versions.version'], name=op.f('fk_rule_acks_version_program_versions')),
    sa.PrimaryKeyConstraint('user_id', 'version', name=op.f('pk_rule_acks'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('broadcast_id', AutoId, nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.Integer(), nullable=True))
        batch_op.create_index('ix_outbox_broadcast_state', ['broadcast_id', 'state'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_broadcast_id_broadcasts'), 'broadcasts', ['broadcast_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_outbox_state'), type_='check')
        batch_op.create_check_constraint('state', NEW_STATES)

    with op.batch_alter_table('program_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_by', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('urgent_reason', sa.Text(), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tips_enabled', sa.Boolean(), server_default=sa.text('true'), nullable=False))
        batch_op.add_column(sa.Column('tips_sent', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('last_tip_at', UTC, nullable=True))

    for statement in AUDIT_GUARD_DDL[op.get_bind().dialect.name]["create"]:
        op.execute(statement)
    # /stats: today's events by type
    op.create_index('ix_events_received', 'events', ['received_at'], unique=False)



def downgrade() -> None:
    op.drop_index('ix_events_received', table_name='events')
    for statement in AUDIT_GUARD_DDL[op.get_bind().dialect.name]["drop"]:
        op.execute(statement)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_tip_at')
        batch_op.drop_column('tips_sent')
        batch_op.drop_column('tips_enabled')

    with op.batch_alter_table('program_versions', schema=None) as batch_op:
        batch_op.drop_column('urgent_reason')
        batch_op.drop_column('published_by')

    op.execute("DELETE FROM outbox WHERE state IN ('cancelled', 'left') OR broadcast_id IS NOT NULL")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_state'), type_='check')
        batch_op.create_check_constraint('state', OLD_STATES)
        batch_op.drop_constraint(batch_op.f('fk_outbox_broadcast_id_broadcasts'), type_='foreignkey')
        batch_op.drop_index('ix_outbox_broadcast_state')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('broadcast_id')

    op.drop_table('rule_acks')
    op.drop_table('chat_drafts')
    op.drop_table('broadcasts')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_at')

    op.drop_table('audit_log')
