"""board links: the language the overview is shown in (Vietnamese for the links issued before)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 10:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('board_link') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='vi'))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('board_link') as batch:
        batch.drop_column('language')
