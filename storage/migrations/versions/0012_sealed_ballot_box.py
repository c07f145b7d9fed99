"""sealed ballot box: secret ballots sealed to a per-ballot public key, no counter per vote

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 10:00:00.000000

Self-contained: touches only `ballot` (0006) and creates `ballot_box`. Ballots
opened before it keep no seal key and are still counted from `ballot_tally`.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('ballot') as batch:
        batch.add_column(sa.Column('seal_public_key', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('seal_salt', sa.String(length=64), nullable=True))
    op.create_table('ballot_box',
    sa.Column('slot', sa.String(length=32), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], ),
    sa.PrimaryKeyConstraint('slot'),
    # Rows in the order of their random keys, not of arrival (no hidden rowid).
    sqlite_with_rowid=False,
    )
    op.create_index('ix_ballot_box_ballot_id', 'ballot_box', ['ballot_id'], unique=False)


def downgrade() -> None:
    """Revert this migration (sealed boxes are lost: close and count ballots first)."""
    op.drop_index('ix_ballot_box_ballot_id', table_name='ballot_box')
    op.drop_table('ballot_box')
    with op.batch_alter_table('ballot') as batch:
        batch.drop_column('seal_salt')
        batch.drop_column('seal_public_key')
