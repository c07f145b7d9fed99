"""preferred channel: where the bot writes to an officer first (None: the channel used last)

The command menus gained `/channel`, so each account's menu is owed again.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 13:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('officer') as batch:
        batch.add_column(sa.Column('preferred_channel', sa.String(length=16), nullable=True))
    # The command menu gained /channel: every chat is owed its menu again (storage.roles.stale_menus).
    op.execute("UPDATE officer_account SET menu = NULL")


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('officer') as batch:
        batch.drop_column('preferred_channel')
