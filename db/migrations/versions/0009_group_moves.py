"""Groups that became supergroups, by their old id.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

An upgraded group's records move to the supergroup's id and the old id keeps
nothing (0004's groups tables). Without a record of the move, an update from the
old chat that arrived late (or was redelivered) made it a group again: the bot's
own "left" there recreated a row that said the bot had left. Moves made before
this revision left no record, so only later ones are covered.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'group_moves',
        sa.Column('old_chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('new_chat_id', sa.BigInteger(), nullable=False),
        sa.Column('moved_at', UTC, nullable=False),
        sa.PrimaryKeyConstraint('old_chat_id', name=op.f('pk_group_moves')),
    )


def downgrade() -> None:
    op.drop_table('group_moves')
