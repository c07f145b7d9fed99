"""offered options: the numbered choices of a channel without buttons (Zalo)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 02:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        'offered_options',
        sa.Column('chat_key', sa.String(length=160), nullable=False),
        sa.Column('options_json', sa.Text(), nullable=False),
        sa.Column('offered_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('chat_key'),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table('offered_options')
