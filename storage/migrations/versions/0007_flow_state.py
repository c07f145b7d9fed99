"""typed flow state: each flow's own state as JSON in chatstate.flow_state

The step, period, item, pending value and return step were columns read by
every flow in its own way; now each flow keeps a typed model (handlers.flow).
A report under way is carried over (its fields map one to one); a review, a
vote or a deadline change under way ends, and the person starts it again with
its command.

Revision ID: 0007
Revises: 0004, 0005, 0006
Create Date: 2026-12-01 23:00:00.000000
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = ('0004', '0005', '0006')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_COLUMNS = ('step', 'period_id', 'item_code', 'pending', 'return_to')
REPORT_STEPS = {'period', 'value', 'confirm', 'pick', 'evidence', 'summary', 'choose', 'submitted'}


def _report_state(step: str, period_id: int | None, item_code: str | None, pending: str | None,
                  return_to: str | None) -> str | None:
    """The report's typed state (handlers.flows.reporting.ReportState) from the old columns."""
    if step not in REPORT_STEPS:
        return None
    try:
        kept = json.loads(pending) if pending else {}
    except ValueError:
        kept = {}
    state: dict[str, object] = {'step': step, 'period_id': period_id, 'item_code': item_code,
                                'back_to_summary': return_to == 'summary'}
    if step == 'confirm' and 'value' in kept:
        state['value'] = kept['value']
    if step == 'pick' and kept.get('candidates'):
        state['candidates'] = kept['candidates']
    if step in ('confirm', 'pick') and len(state) == 4:
        state['step'] = 'value'  # nothing to confirm or pick: ask for the value again
    return json.dumps(state)


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('chatstate') as batch:
        batch.add_column(sa.Column('flow_state', sa.Text(), nullable=True))
    connection = op.get_bind()
    chatstate = sa.table('chatstate', sa.column('id', sa.Integer), sa.column('flow', sa.String),
                         sa.column('flow_state', sa.Text), sa.column('nonce', sa.String),
                         *(sa.column(name) for name in OLD_COLUMNS))
    rows = connection.execute(sa.select(chatstate).where(chatstate.c.flow.is_not(None))).mappings().all()
    for row in rows:
        stored = _report_state(row['step'], row['period_id'], row['item_code'], row['pending'],
                               row['return_to']) if row['flow'] == 'report' else None
        values = {'flow_state': stored} if stored is not None else {'flow': None, 'flow_state': None, 'nonce': ''}
        connection.execute(sa.update(chatstate).where(chatstate.c.id == row['id']).values(**values))
    with op.batch_alter_table('chatstate') as batch:
        for name in OLD_COLUMNS:
            batch.drop_column(name)


def downgrade() -> None:
    """Revert this migration (a flow under way is ended)."""
    with op.batch_alter_table('chatstate') as batch:
        batch.add_column(sa.Column('step', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('period_id', sa.Integer(), sa.ForeignKey('period.id'), nullable=True))
        batch.add_column(sa.Column('item_code', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('pending', sa.Text(), nullable=True))
        batch.add_column(sa.Column('return_to', sa.String(length=16), nullable=True))
        batch.drop_column('flow_state')
    op.execute("UPDATE chatstate SET flow = NULL, nonce = ''")
