"""Qualified referees: the rows a tier decision counts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

Tier decisions counted a referrer's qualified referees by joining their level-1
referees with every applied first_loan event and its reversals; its cost grew
with the events table (PostgreSQL spent ~4 ms per first loan at 2,000 events,
most of the database's time in the events benchmark). The new table holds one
row per referee whose first loan counts, written when the loan is applied and
deleted when it is reversed.

The backfill writes what the old count counted: every bound referee with an
applied, unreversed first loan (their first, if several were applied).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

BACKFILL = """
INSERT INTO qualified_referees (referee_id, referrer_id, event_id, qualified_at)
SELECT e.user_id, b.referrer_id, e.id, COALESCE(e.applied_at, e.received_at)
FROM events e JOIN bindings b ON b.referee_id = e.user_id
WHERE e.type = 'first_loan' AND e.outcome = 'applied'
  AND e.id = (SELECT min(f.id) FROM events f
              WHERE f.user_id = e.user_id AND f.type = 'first_loan' AND f.outcome = 'applied')
  AND NOT EXISTS (SELECT 1 FROM events r WHERE r.target_key = e.key AND r.outcome = 'applied')
"""


def upgrade() -> None:
    op.create_table('qualified_referees',
    sa.Column('referee_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('referrer_id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', AutoId, nullable=False),
    sa.Column('qualified_at', UTC, nullable=False),
    sa.CheckConstraint('referee_id <> referrer_id', name=op.f('ck_qualified_referees_not_self')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_qualified_referees_event_id_events')),
    sa.ForeignKeyConstraint(['referee_id'], ['bindings.referee_id'],
                            name=op.f('fk_qualified_referees_referee_id_bindings')),
    sa.ForeignKeyConstraint(['referrer_id'], ['users.id'], name=op.f('fk_qualified_referees_referrer_id_users')),
    sa.PrimaryKeyConstraint('referee_id', name=op.f('pk_qualified_referees')),
    sa.UniqueConstraint('event_id', name=op.f('uq_qualified_referees_event_id'))
    )
    op.create_index('ix_qualified_referrer', 'qualified_referees', ['referrer_id'], unique=False)
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_index('ix_qualified_referrer', table_name='qualified_referees')
    op.drop_table('qualified_referees')
