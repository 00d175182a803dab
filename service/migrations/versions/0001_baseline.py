"""Baseline: the schema as `db.create_all()` made it before migrations existed.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

An un-versioned database equal to this (service/migrations/baseline_check.py) is stamped with
this revision by `jiuzhu db upgrade`. Never edit this file: every change is a new revision.
The audit log's triggers are the ones of service/models/audit_guard.py, written out here so the
baseline stays what it was when that module changes.
"""
from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

TABLES = ('timer', 'task', 'case_exclusion', 'process_instance', 'process_definition', 'close_relative',
          'calendar_start', 'audit_log', 'app_user')


def upgrade():
    # The tables as `db.create_all()` made them before migrations, in the order their keys need.
    op.create_table('app_user',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('display_name', sa.String(length=100), nullable=False),
        sa.Column('password_hash', sa.String(length=300), nullable=False),
        sa.Column('role', sa.String(length=50), nullable=False),
        sa.Column('township', sa.String(length=50), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username')
    )
    op.create_table('audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=True),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('action', sa.String(length=50), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=True),
        sa.Column('task_id', sa.String(length=36), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('remote_addr', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_log_actor', 'audit_log', ['actor'])
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_index('ix_audit_log_instance_id', 'audit_log', ['instance_id'])
    op.create_table('calendar_start',
        sa.Column('business_key', sa.String(length=100), nullable=False),
        sa.Column('process_key', sa.String(length=100), nullable=False),
        sa.Column('township', sa.String(length=50), nullable=False),
        sa.Column('period', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('business_key')
    )
    op.create_table('close_relative',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_username', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('id_number', sa.String(length=18), nullable=False),
        sa.Column('relation', sa.String(length=50), nullable=False),
        sa.Column('registered_by', sa.String(length=100), nullable=False),
        sa.Column('registered_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('staff_username', 'id_number')
    )
    op.create_index('ix_close_relative_id_number', 'close_relative', ['id_number'])
    op.create_index('ix_close_relative_staff_username', 'close_relative', ['staff_username'])
    op.create_table('process_definition',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('category', sa.String(length=50), nullable=True),
        sa.Column('variant', sa.String(length=50), nullable=True),
        sa.Column('file', sa.String(length=300), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('dependencies', sa.JSON(), nullable=False),
        sa.Column('spec_json', sa.Text(), nullable=False),
        sa.Column('deployed_at', sa.DateTime(), nullable=True),
        sa.Column('deployed_by', sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key', 'sha256'),
        sa.UniqueConstraint('key', 'version')
    )
    op.create_index('ix_process_definition_key', 'process_definition', ['key'])
    op.create_table('process_instance',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('definition_id', sa.Integer(), nullable=False),
        sa.Column('process_key', sa.String(length=100), nullable=False),
        sa.Column('business_key', sa.String(length=100), nullable=True),
        sa.Column('township', sa.String(length=50), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('overdue', sa.Boolean(), nullable=False),
        sa.Column('overdue_since', sa.DateTime(), nullable=True),
        sa.Column('review_required', sa.Boolean(), nullable=False),
        sa.Column('waiting_for', sa.String(length=300), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.Column('state', sa.Text(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('started_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.Column('completed_at', sa.DateTime(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['definition_id'], ['process_definition.id']),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_process_instance_business_key', 'process_instance', ['business_key'])
    op.create_index('ix_process_instance_definition_id', 'process_instance', ['definition_id'])
    op.create_index('ix_process_instance_overdue', 'process_instance', ['overdue'])
    op.create_index('ix_process_instance_process_key', 'process_instance', ['process_key'])
    op.create_index('ix_process_instance_status', 'process_instance', ['status'])
    op.create_index('ix_process_instance_township', 'process_instance', ['township'])
    op.create_table('case_exclusion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('reason', sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('instance_id', 'username')
    )
    op.create_index('ix_case_exclusion_instance_id', 'case_exclusion', ['instance_id'])
    op.create_index('ix_case_exclusion_username', 'case_exclusion', ['username'])
    op.create_table('task',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('bpmn_id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('lane', sa.String(length=100), nullable=True),
        sa.Column('role', sa.String(length=50), nullable=True),
        sa.Column('township', sa.String(length=50), nullable=False),
        sa.Column('form', sa.String(length=200), nullable=True),
        sa.Column('ui_form', sa.String(length=200), nullable=True),
        sa.Column('properties', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('assignee', sa.String(length=100), nullable=True),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('due_at', sa.DateTime(), nullable=True),
        sa.Column('overdue', sa.Boolean(), nullable=False),
        sa.Column('completed_at', sa.DateTime(), nullable=True),
        sa.Column('completed_by', sa.String(length=100), nullable=True),
        sa.Column('data', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id']),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_task_assignee', 'task', ['assignee'])
    op.create_index('ix_task_due_at', 'task', ['due_at'])
    op.create_index('ix_task_instance_id', 'task', ['instance_id'])
    op.create_index('ix_task_role', 'task', ['role'])
    op.create_index('ix_task_state_township', 'task', ['state', 'township'])
    op.create_table('timer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('bpmn_id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('attached_to', sa.String(length=100), nullable=True),
        sa.Column('scope_task_id', sa.String(length=36), nullable=True),
        sa.Column('township', sa.String(length=50), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=True),
        sa.Column('estimated', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('fired_at', sa.DateTime(), nullable=True),
        sa.Column('claimed_by', sa.String(length=100), nullable=True),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id']),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_timer_instance_id', 'timer', ['instance_id'])
    op.create_index('ix_timer_state_due', 'timer', ['state', 'due_at'])
    op.create_index('ix_timer_township', 'timer', ['township'])
    _create_audit_log_guard()


def _create_audit_log_guard():
    """Raw SQL (a psql session, a script) cannot rewrite the audit log either."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
CREATE OR REPLACE FUNCTION jiuzhu_audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION jiuzhu_audit_log_append_only();
""")
    elif op.get_bind().dialect.name == 'sqlite':
        op.execute("""
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
""")
        op.execute("""
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
""")


def downgrade():
    # Back to an empty database: every case is lost. Dropping a table drops its indexes and triggers.
    for table in TABLES:
        op.drop_table(table)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS jiuzhu_audit_log_append_only()')
