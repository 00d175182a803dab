"""List indexes for province scale, and the case milestones (accepted_at, decided_at, decision_days).

Every list the API and the pages offer reads its page as one index range in its list order
(tasks by due date, cases newest first, timers by due time), under each filter it offers; the
supervision figures are counted from one covering index. Single-column indexes that became the
prefix of a list index are dropped.

The milestone columns are backfilled from the completed task rows: rows written before the
diagrams declared `milestone` are recognised by the forms that marked acceptance and decision
until now (the acceptance notice, the dibao decision form).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 19:55:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TASK_ORDER = ['due_at', sa.text('priority DESC'), 'created_at', 'id']
INDEXES = [
    ('task', 'ix_task_list', ['state'] + TASK_ORDER),
    ('task', 'ix_task_list_township', ['township', 'state'] + TASK_ORDER),
    ('task', 'ix_task_list_assignee', ['assignee', 'state'] + TASK_ORDER),
    ('task', 'ix_task_list_role', ['role', 'state'] + TASK_ORDER),
    ('task', 'ix_task_list_township_role', ['township', 'role', 'state'] + TASK_ORDER),
    ('timer', 'ix_timer_list', ['due_at', 'id']),
    ('timer', 'ix_timer_list_township', ['township', 'due_at', 'id']),
    ('timer', 'ix_timer_list_township_state', ['township', 'state', 'due_at', 'id']),
    ('process_instance', 'ix_instance_list', ['created_at', 'id']),
    ('process_instance', 'ix_instance_list_status', ['status', 'created_at', 'id']),
    ('process_instance', 'ix_instance_list_township', ['township', 'created_at', 'id']),
    ('process_instance', 'ix_instance_list_township_status', ['township', 'status', 'created_at', 'id']),
    ('process_instance', 'ix_instance_status_updated', ['status', 'updated_at', 'id']),
    ('process_instance', 'ix_instance_figures', ['township', 'status', 'overdue', 'definition_id', 'decision_days',
                                                  'id']),
    ('process_instance', 'ix_instance_overdue', ['status', 'overdue', 'overdue_since', 'id']),
]
# Now the leading column of a list index above.
DROPPED = [
    ('task', 'ix_task_role', ['role']),
    ('task', 'ix_task_assignee', ['assignee']),
    ('timer', 'ix_timer_township', ['township']),
    ('process_instance', 'ix_process_instance_township', ['township']),
    ('process_instance', 'ix_process_instance_status', ['status']),
]
ACCEPTANCE_FORMS = ('acceptance_notice.schema.json',)
DECISION_FORMS = ('dibao_decision.schema.json',)


def upgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('decision_days', sa.Integer(), nullable=True))
    _backfill()
    for table, name, _ in DROPPED:
        op.drop_index(name, table_name=table)
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def _backfill():
    """accepted_at = the first acceptance, decided_at = the last decision, then the working days between."""
    bind = op.get_bind()
    # properties is JSON, stored as its text by both databases (json.dumps: '"milestone": "decision"').
    props = 'CAST(t.properties AS TEXT)' if bind.dialect.name == 'postgresql' else 't.properties'

    def marked(forms, milestone):
        form_list = ', '.join(f"'{f}'" for f in forms)
        return f"""(t.form IN ({form_list}) OR {props} LIKE '%"milestone": "{milestone}"%')"""
    # One pass over the completed task rows (a join, not a subquery per case: millions of cases).
    bind.execute(sa.text(
        'UPDATE process_instance SET accepted_at = m.accepted_at, decided_at = m.decided_at FROM ('
        f" SELECT t.instance_id, min(CASE WHEN {marked(ACCEPTANCE_FORMS, 'acceptance')} THEN t.completed_at END)"
        ' AS accepted_at,'
        f" max(CASE WHEN {marked(DECISION_FORMS, 'decision')} THEN t.completed_at END) AS decided_at"
        f" FROM task t WHERE t.state = 'completed' AND ({marked(ACCEPTANCE_FORMS, 'acceptance')}"
        f" OR {marked(DECISION_FORMS, 'decision')}) GROUP BY t.instance_id) m"
        ' WHERE process_instance.id = m.instance_id'))
    from service.services.milestones import decision_days
    rows = bind.execute(sa.text('SELECT id, accepted_at, decided_at FROM process_instance '
                                'WHERE accepted_at IS NOT NULL AND decided_at IS NOT NULL')).all()
    by_days = {}
    for row in rows:
        days = decision_days(_aware(row.accepted_at), _aware(row.decided_at))
        if days is not None:
            by_days.setdefault(days, []).append(row.id)
    # Few distinct values: one UPDATE per value and 5,000 ids, not one per case.
    for days, ids in by_days.items():
        for start in range(0, len(ids), 5000):
            bind.execute(sa.text('UPDATE process_instance SET decision_days = :days WHERE id IN :ids')
                         .bindparams(sa.bindparam('ids', expanding=True)),
                         {'days': days, 'ids': ids[start:start + 5000]})


def _aware(value):
    from datetime import datetime, timezone
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc)


def downgrade():
    for table, name, _ in INDEXES:
        op.drop_index(name, table_name=table)
    for table, name, columns in DROPPED:
        op.create_index(name, table, columns, unique=False)
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('decision_days')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('accepted_at')
