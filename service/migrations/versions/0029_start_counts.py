"""The phase report's counts kept by the write path: cases started per township, version and month.

The report (services/entrustments.py phase_report) grouped every case by township, definition and
month started, Beijing time: 1.4–2 s per view at a million cases. `start_count` holds those groups
(services/figures.py keeps it), filled here from the cases by one GROUP BY.

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-28 11:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

# The month started in Beijing time, as services/figures.py month_started writes it ('' without a time).
MONTH = {'sqlite': "coalesce(strftime('%Y-%m', created_at, '+8 hours'), '')",
         'postgresql': "coalesce(to_char(created_at + interval '8 hours', 'YYYY-MM'), '')"}


def upgrade():
    op.create_table(
        'start_count',
        sa.Column('township', sa.String(length=50), nullable=False),
        sa.Column('definition_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('township', 'definition_id', 'month'))
    month = MONTH[op.get_bind().dialect.name]
    op.execute(f"""
INSERT INTO start_count (township, definition_id, month, n)
SELECT township, definition_id, {month}, count(*) FROM process_instance GROUP BY 1, 2, 3""")


def downgrade():
    op.drop_table('start_count')
