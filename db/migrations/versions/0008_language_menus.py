"""Command menus follow /language: the reconcile also reads users who chose a language.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

Telegram picks a menu by the app's language unless the chat has one of its own
with no language code. Someone who chose a language with /language now gets
that: their role's menu in their language. The partial index that the reconcile
reads is widened to cover them. Nobody's record changes here, so everyone who
chose a language is due a menu at the next start.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

MENU_DUE = "role <> 'user' OR command_menu IS NOT NULL OR language IS NOT NULL"
MENU_DUE_0007 = "role <> 'user' OR command_menu IS NOT NULL"


def _index(where: str) -> None:
    op.drop_index('ix_users_menu', table_name='users')
    op.create_index('ix_users_menu', 'users', ['id'], unique=False,
                    sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade() -> None:
    _index(MENU_DUE)


def downgrade() -> None:
    _index(MENU_DUE_0007)
