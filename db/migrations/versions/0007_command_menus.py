"""Command menus per role: which one each user's private chat was last given.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28

`users.command_menu` names the chat-scoped menu Telegram was told to show the
user (NULL: none, so the bot's default menu). Existing agents and admins start
with NULL, so the first start after this migration gives each of them their menu.
The partial index covers the few rows a reconcile reads: agents, admins, and
anyone who still has a menu of their own.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

MENU_DUE = "role <> 'user' OR command_menu IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('command_menu', sa.String(length=24), nullable=True))
    op.create_index('ix_users_menu', 'users', ['id'], unique=False,
                    sqlite_where=sa.text(MENU_DUE), postgresql_where=sa.text(MENU_DUE))


def downgrade() -> None:
    op.drop_index('ix_users_menu', table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('command_menu')
