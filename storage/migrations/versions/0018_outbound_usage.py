"""outbound usage: messages per bot per month, and the leader's notices about the quota

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 08:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        'outbound_usage',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('bot', sa.String(length=64), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('messages', sa.Integer(), nullable=False),
        sa.Column('near_told_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('exceeded_told_at', UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint('channel', 'bot', 'month'),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table('outbound_usage')
