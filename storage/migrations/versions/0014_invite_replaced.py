"""invites: a code replaced by a newer one says so (it is not "expired")

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 03:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('invite') as batch:
        batch.add_column(sa.Column('replaced_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('invite') as batch:
        batch.drop_column('replaced_at')
