"""typed flow state: each flow's own state as JSON in chatstate.flow_state

Revision ID: 0007
Revises: 0004, 0005, 0006
Create Date: 2026-12-01 23:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = ('0004', '0005', '0006')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('chatstate') as batch:
        batch.add_column(sa.Column('flow_state', sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('chatstate') as batch:
        batch.drop_column('flow_state')
