"""votes: ballots, who voted, secret tallies, open votes

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-28 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0006'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('ballot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bloc_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('secret', sa.Boolean(), nullable=False),
    sa.Column('token', sa.String(length=16), nullable=False),
    sa.Column('subject_unit_id', sa.Integer(), nullable=True),
    sa.Column('candidates', sa.Text(), nullable=False),
    sa.Column('members', sa.Text(), nullable=False),
    sa.Column('rules_json', sa.Text(), nullable=False),
    sa.Column('opened_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('closes_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('remind_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=True),
    sa.Column('result_json', sa.Text(), nullable=True),
    sa.Column('winner_unit_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['bloc_id'], ['bloc.id'], ),
    sa.ForeignKeyConstraint(['subject_unit_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['winner_unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bloc_id', 'year', 'kind', 'round', name='uq_ballot_round')
    )
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_bloc_id'), ['bloc_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballot_closes_at'), ['closes_at'], unique=False)

    op.create_table('ballot_tally',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=32), nullable=False),
    sa.Column('votes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ballot_id', 'choice', name='uq_ballot_tally_choice')
    )
    with op.batch_alter_table('ballot_tally', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_tally_ballot_id'), ['ballot_id'], unique=False)

    op.create_table('ballot_voter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ballot_id', 'unit_id', name='uq_ballot_voter_unit')
    )
    with op.batch_alter_table('ballot_voter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_voter_ballot_id'), ['ballot_id'], unique=False)

    op.create_table('open_vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=32), nullable=False),
    sa.Column('voted_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ballot_id', 'unit_id', name='uq_open_vote_unit')
    )
    with op.batch_alter_table('open_vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_vote_ballot_id'), ['ballot_id'], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('open_vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_vote_ballot_id'))

    op.drop_table('open_vote')
    with op.batch_alter_table('ballot_voter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_voter_ballot_id'))

    op.drop_table('ballot_voter')
    with op.batch_alter_table('ballot_tally', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_tally_ballot_id'))

    op.drop_table('ballot_tally')
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_closes_at'))
        batch_op.drop_index(batch_op.f('ix_ballot_bloc_id'))

    op.drop_table('ballot')
