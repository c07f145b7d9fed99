"""review: published ranking snapshots

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('publishedranking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('published_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.String(length=64), nullable=False),
    sa.Column('ranking_json', sa.Text(), nullable=False),
    sa.Column('reopened_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reopened_by', sa.String(length=64), nullable=True),
    sa.Column('reopen_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['period_id'], ['period.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period_id', 'version')
    )
    with op.batch_alter_table('publishedranking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publishedranking_period_id'), ['period_id'], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('publishedranking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publishedranking_period_id'))
    op.drop_table('publishedranking')
