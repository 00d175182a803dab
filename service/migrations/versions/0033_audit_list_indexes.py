"""The audit log's list at scale: an index for each of its filters, ending in its order.

`GET /api/v1/audit` lists the log newest first (ORDER BY id DESC), filtered by actor, action or
case. Only the single columns actor and instance_id were indexed, and action not at all: with
7 M rows (a million cases' steps and reads), `?action=deploy` (23 rows) read the whole table
backwards along the primary key for its page and again for its capped total, 1.2 s; an actor's
rows came out of their index unordered, to be sorted. Each index now leads with its filter and
ends with id. The index on `at` served no query and cost every append an entry: dropped.

On PostgreSQL the indexes are built under the log's SHARE lock: appends (every completion) wait for
the build, ≈ 15 s per index at 7 M rows on two cores; run it in the upgrade's maintenance window.

Revision ID: 0033
Revises: 0032
Create Date: 2026-11-29 05:10:00
"""
from alembic import op

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_audit_actor', 'audit_log', ['actor', 'id'])
    op.create_index('ix_audit_action', 'audit_log', ['action', 'actor', 'id'])
    op.create_index('ix_audit_instance', 'audit_log', ['instance_id', 'id'])
    op.drop_index('ix_audit_log_actor', table_name='audit_log')
    op.drop_index('ix_audit_log_instance_id', table_name='audit_log')
    op.drop_index('ix_audit_log_at', table_name='audit_log')


def downgrade():
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_index('ix_audit_log_instance_id', 'audit_log', ['instance_id'])
    op.create_index('ix_audit_log_actor', 'audit_log', ['actor'])
    op.drop_index('ix_audit_instance', table_name='audit_log')
    op.drop_index('ix_audit_action', table_name='audit_log')
    op.drop_index('ix_audit_actor', table_name='audit_log')
