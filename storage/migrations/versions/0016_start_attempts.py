"""start attempts: wrong invite codes counted per account (a pause after a few); a code shown in a group is
revoked; the command menu last set for each account

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 07:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        'start_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('external_id', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failed_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('paused_until', UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel', 'external_id'),
    )
    with op.batch_alter_table('invite') as batch:
        batch.add_column(sa.Column('revoked_at', UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('officer_account') as batch:
        batch.add_column(sa.Column('menu', sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('officer_account') as batch:
        batch.drop_column('menu')
    with op.batch_alter_table('invite') as batch:
        batch.drop_column('revoked_at')
    op.drop_table('start_attempt')
