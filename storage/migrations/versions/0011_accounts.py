"""chat accounts per channel: officer_account and bloc_group, platform ids as strings

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 02:00:00.000000

A person's account on a channel (Telegram's integer user id, Zalo's string id)
links to an officer in `officer_account`, replacing `officer.telegram_user_id`;
a bloc's group is one per channel in `bloc_group`, replacing
`bloc.group_chat_id`. The existing links are carried over as Telegram's.
Chat and message ids kept elsewhere become strings.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TO_TEXT = (("chatstate", "user_id"), ("sentref", "chat_id"), ("sentref", "message_id"), ("reminderlog", "chat_id"))


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        'officer_account',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('external_id', sa.String(length=64), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('linked_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['officer_id'], ['officer.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel', 'external_id'),
        sa.UniqueConstraint('channel', 'officer_id'),
    )
    op.create_index('ix_officer_account_officer_id', 'officer_account', ['officer_id'])
    op.execute("INSERT INTO officer_account (channel, external_id, officer_id, linked_at) "
               "SELECT 'telegram', CAST(telegram_user_id AS VARCHAR(64)), id, CURRENT_TIMESTAMP FROM officer "
               "WHERE telegram_user_id IS NOT NULL")
    op.create_table(
        'bloc_group',
        sa.Column('bloc_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('chat_id', sa.String(length=64), nullable=False),
        sa.Column('bound_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['bloc_id'], ['bloc.id']),
        sa.PrimaryKeyConstraint('bloc_id', 'channel'),
    )
    op.execute("INSERT INTO bloc_group (bloc_id, channel, chat_id, bound_at) "
               "SELECT id, 'telegram', CAST(group_chat_id AS VARCHAR(64)), CURRENT_TIMESTAMP FROM bloc "
               "WHERE group_chat_id IS NOT NULL")
    with op.batch_alter_table('officer') as batch:
        batch.drop_column('telegram_user_id')
    with op.batch_alter_table('bloc') as batch:
        batch.drop_column('group_chat_id')
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, column in _TO_TEXT:
        with op.batch_alter_table(table) as batch:
            if postgresql:
                batch.alter_column(column, existing_type=sa.BigInteger(), type_=sa.String(length=64),
                                   existing_nullable=False, postgresql_using=f"{column}::text")
            else:
                batch.alter_column(column, existing_type=sa.BigInteger(), type_=sa.String(length=64),
                                   existing_nullable=False)
    with op.batch_alter_table('reminderlog') as batch:
        batch.add_column(sa.Column('channel', sa.String(length=16), nullable=False, server_default='telegram'))


def downgrade() -> None:
    """Revert this migration (Telegram's links only; other channels' are dropped)."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('reminderlog') as batch:
        batch.drop_column('channel')
    for table, column in _TO_TEXT:
        with op.batch_alter_table(table) as batch:
            if postgresql:
                batch.alter_column(column, existing_type=sa.String(length=64), type_=sa.BigInteger(),
                                   existing_nullable=False, postgresql_using=f"{column}::bigint")
            else:
                batch.alter_column(column, existing_type=sa.String(length=64), type_=sa.BigInteger(),
                                   existing_nullable=False)
    with op.batch_alter_table('bloc') as batch:
        batch.add_column(sa.Column('group_chat_id', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('officer') as batch:
        batch.add_column(sa.Column('telegram_user_id', sa.BigInteger(), nullable=True))
    op.execute("UPDATE bloc SET group_chat_id = (SELECT CAST(chat_id AS BIGINT) FROM bloc_group "
               "WHERE bloc_group.bloc_id = bloc.id AND channel = 'telegram')")
    op.execute("UPDATE officer SET telegram_user_id = (SELECT CAST(external_id AS BIGINT) FROM officer_account "
               "WHERE officer_account.officer_id = officer.id AND channel = 'telegram')")
    op.drop_table('bloc_group')
    op.drop_index('ix_officer_account_officer_id', table_name='officer_account')
    op.drop_table('officer_account')
