"""many bots: an officer's account and a bloc's group remember the bot they talk through

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 07:30:00.000000

NULL (every row before this revision) means: the bot the bloc's file names for
that channel, else the channel's first bot, which is what was used before.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    for table in ('officer_account', 'bloc_group'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('bot', sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    for table in ('officer_account', 'bloc_group'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('bot')
