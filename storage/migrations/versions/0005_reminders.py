"""reminders: the scheduler's sent-log

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-28 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0005'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('reminderlog',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bloc_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('days_before', sa.Integer(), nullable=False),
    sa.Column('deadline', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('slot_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=False),
    sa.Column('finished_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['bloc_id'], ['bloc.id'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ),
    sa.ForeignKeyConstraint(['period_id'], ['period.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period_id', 'unit_id', 'kind', 'days_before', 'deadline', 'officer_id',
                        name='uq_reminderlog_key')
    )
    op.create_index(op.f('ix_reminderlog_bloc_id'), 'reminderlog', ['bloc_id'], unique=False)
    op.create_index(op.f('ix_reminderlog_period_id'), 'reminderlog', ['period_id'], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index(op.f('ix_reminderlog_period_id'), table_name='reminderlog')
    op.drop_index(op.f('ix_reminderlog_bloc_id'), table_name='reminderlog')
    op.drop_table('reminderlog')
