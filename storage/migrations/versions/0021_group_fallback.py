"""group fallback: a refused bloc group, what getMe said of each bot, the leader's one notice why

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 10:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('bloc_group') as batch:
        batch.add_column(sa.Column('refused_at', UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        'bot_profile',
        sa.Column('channel', sa.String(length=16), primary_key=True),
        sa.Column('bot', sa.String(length=64), primary_key=True),
        sa.Column('can_join_groups', sa.Boolean(), nullable=False),
        sa.Column('checked_at', UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'group_notice',
        sa.Column('bloc_id', sa.Integer(), sa.ForeignKey('bloc.id'), primary_key=True),
        sa.Column('reason', sa.String(length=16), primary_key=True),
        sa.Column('told_at', UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table('group_notice')
    op.drop_table('bot_profile')
    with op.batch_alter_table('bloc_group') as batch:
        batch.drop_column('refused_at')
