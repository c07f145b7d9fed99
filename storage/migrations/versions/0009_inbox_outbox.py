"""inbox and outbox: every update kept before it is acknowledged, every reply kept until delivered

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:40:00.000000

The processed-update keys of 0002 were the bare update id (`tg:<id>`): they are
not carried over. The inbox's key is (channel, bot, update id); an update that
arrived before this migration and is delivered again is at worst answered twice.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        'inbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('bot', sa.String(length=64), nullable=False),
        sa.Column('update_id', sa.String(length=64), nullable=False),
        sa.Column('chat_key', sa.String(length=160), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('received_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('processed_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel', 'bot', 'update_id'),
    )
    op.create_index('ix_inbox_chat_key', 'inbox', ['chat_key'])
    op.create_index('ix_inbox_processed_at', 'inbox', ['processed_at'])
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('bot', sa.String(length=64), nullable=False),
        sa.Column('chat_key', sa.String(length=160), nullable=False),
        sa.Column('chat_id', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('leased_until', UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('edit_key', sa.String(length=96), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_outbox_chat_key', 'outbox', ['chat_key'])
    op.create_index('ix_outbox_edit_key', 'outbox', ['edit_key'])
    op.create_index('ix_outbox_state', 'outbox', ['state'])
    op.create_table(
        'send_budget',
        sa.Column('scope', sa.String(length=160), nullable=False),
        sa.Column('window', sa.BigInteger(), nullable=False),
        sa.Column('used', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('scope', 'window'),
    )
    op.drop_table('processedupdate')


def downgrade() -> None:
    """Revert this migration."""
    op.create_table(
        'processedupdate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('update_key', sa.String(length=64), nullable=False),
        sa.Column('processed_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('update_key'),
    )
    op.drop_table('send_budget')
    op.drop_index('ix_outbox_state', table_name='outbox')
    op.drop_index('ix_outbox_edit_key', table_name='outbox')
    op.drop_index('ix_outbox_chat_key', table_name='outbox')
    op.drop_table('outbox')
    op.drop_index('ix_inbox_processed_at', table_name='inbox')
    op.drop_index('ix_inbox_chat_key', table_name='inbox')
    op.drop_table('inbox')
