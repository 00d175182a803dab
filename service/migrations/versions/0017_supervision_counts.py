"""Supervision counts kept by the write path (case_count, decision_day_count), filled from the cases.

Revision ID: 0017
Revises: 0009
Create Date: 2026-11-27 23:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_count',
        sa.Column('township', sa.String(length=50), nullable=False),
        sa.Column('definition_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('overdue', sa.Boolean(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('township', 'definition_id', 'status', 'overdue'))
    op.create_table(
        'decision_day_count',
        sa.Column('township', sa.String(length=50), nullable=False),
        sa.Column('definition_id', sa.Integer(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('township', 'definition_id', 'days'))
    # The cases made before this revision, counted once (the write path keeps the counts from here).
    op.execute("INSERT INTO case_count (township, definition_id, status, overdue, n)"
               " SELECT township, definition_id, COALESCE(status, 'running'), COALESCE(overdue, false), count(*)"
               " FROM process_instance GROUP BY township, definition_id, COALESCE(status, 'running'),"
               " COALESCE(overdue, false)")
    op.execute("INSERT INTO decision_day_count (township, definition_id, days, n)"
               " SELECT township, definition_id, decision_days, count(*) FROM process_instance"
               " WHERE decision_days IS NOT NULL GROUP BY township, definition_id, decision_days")


def downgrade():
    op.drop_table('decision_day_count')
    op.drop_table('case_count')
