"""web links: personal, expiring, revocable links to the web pages

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 07:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        'web_link',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('officer_id', sa.Integer(), sa.ForeignKey('officer.id'), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('sent_to', sa.String(length=80), nullable=True),
    )
    op.create_index('ix_web_link_officer_id', 'web_link', ['officer_id'])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index('ix_web_link_officer_id', table_name='web_link')
    op.drop_table('web_link')
