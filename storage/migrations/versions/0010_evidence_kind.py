"""evidence keeps the channel it came from and whether it is a photo, so a reviewer can open it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
# Only the evidence table (0001) is touched; `migrate()` upgrades to every head.
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('evidence') as batch:
        batch.add_column(sa.Column('channel', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('is_photo', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Files kept before this revision came from Telegram, where a photo was named photo-<unique id>.jpg.
    op.execute("UPDATE evidence SET channel = 'telegram' WHERE file_id IS NOT NULL")
    op.execute("UPDATE evidence SET is_photo = true WHERE file_name LIKE 'photo-%.jpg'")


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('evidence') as batch:
        batch.drop_column('is_photo')
        batch.drop_column('channel')
