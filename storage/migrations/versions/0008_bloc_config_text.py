"""bloc configuration text in a table of its own, out of the bloc row every turn reads

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
# Only the bloc table (0001) is touched; `migrate()` upgrades to every head.
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('bloc_config_text',
    sa.Column('bloc_id', sa.Integer(), nullable=False),
    sa.Column('config_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['bloc_id'], ['bloc.id'], ),
    sa.PrimaryKeyConstraint('bloc_id')
    )
    op.execute("INSERT INTO bloc_config_text (bloc_id, config_json) SELECT id, config_json FROM bloc")
    with op.batch_alter_table('bloc') as batch:
        batch.drop_column('config_json')


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('bloc') as batch:
        batch.add_column(sa.Column('config_json', sa.Text(), nullable=True))
    op.execute("UPDATE bloc SET config_json = (SELECT config_json FROM bloc_config_text "
               "WHERE bloc_config_text.bloc_id = bloc.id)")
    with op.batch_alter_table('bloc') as batch:
        batch.alter_column('config_json', existing_type=sa.Text(), nullable=False)
    op.drop_table('bloc_config_text')
