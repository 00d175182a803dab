"""Indexes for the lists that were slow at a million cases (tests/bench/bench_lists.py).

- running overdue cases, newest first: the planner walked every overdue case of any status and sorted;
- a caseworker's own tasks within their township, by due date: assignee AND township were guessed
  rare, bitmap-scanned in full and sorted;
- the cases waiting for a message (the inbox's "awaiting your answer"): a LIKE over every running
  case of the township; on PostgreSQL a GIN index on the message names (models/waiting.py);
- and on PostgreSQL, statistics telling the planner that an assignee implies a township and open tasks.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-28 08:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

TASK_ORDER = ['due_at', sa.text('priority DESC'), 'created_at', 'id']


def upgrade():
    op.create_index('ix_instance_list_overdue', 'process_instance', ['status', 'overdue', 'created_at', 'id'])
    op.create_index('ix_task_list_township_assignee', 'task', ['township', 'assignee', 'state'] + TASK_ORDER)
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_instance_waiting', 'process_instance', [sa.text("string_to_array(waiting_for, ',')")],
                        postgresql_using='gin')
        # As models/tasks.py: the planner learns that an assignee implies a township and open tasks.
        op.execute('CREATE STATISTICS IF NOT EXISTS st_task_people (dependencies) ON township, assignee, state FROM task')
        op.execute('ANALYZE task')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP STATISTICS IF EXISTS st_task_people')
        op.drop_index('ix_instance_waiting', table_name='process_instance')
    op.drop_index('ix_task_list_township_assignee', table_name='task')
    op.drop_index('ix_instance_list_overdue', table_name='process_instance')
