"""The reform page's step figures kept by the write path: counters on the case row, sums per township.

The page counted steps, hand-offs and county steps with a window over every completed task of the
district: about 30 s per view at a million cases. Each case row now carries its own counters
(services/steps.py) and `step_count` their sums per township and definition version
(services/figures.py), both filled here from the task rows.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-28 09:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

# The county's roles when this was written (services/users.py COUNTY_ROLES).
COUNTY_ROLES = "'admin', 'county_supervisor', 'county_verifier', 'designer', 'disability_federation'"

PER_CASE = f"""
SELECT instance_id,
       count(*) AS steps,
       sum(CASE WHEN previous IS NOT NULL AND role IS NOT NULL AND role <> previous THEN 1 ELSE 0 END) AS handoffs,
       sum(CASE WHEN role IN ({COUNTY_ROLES}) THEN 1 ELSE 0 END) AS county,
       max(CASE WHEN newest = 1 THEN coalesce(role, '') END) AS last_role
FROM (SELECT instance_id, role,
             lag(role) OVER (PARTITION BY instance_id ORDER BY completed_at, created_at, id) AS previous,
             row_number() OVER (PARTITION BY instance_id ORDER BY completed_at DESC, created_at DESC, id DESC) AS newest
      FROM task WHERE state = 'completed') AS done
GROUP BY instance_id
"""


def upgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('steps_done', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('handoffs', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('county_steps', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_role', sa.String(length=50), nullable=True))
    op.create_table(
        'step_count',
        sa.Column('township', sa.String(length=50), nullable=False),
        sa.Column('definition_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('township', 'definition_id', 'kind'))
    op.execute(f"""
UPDATE process_instance SET steps_done = s.steps, handoffs = s.handoffs, county_steps = s.county,
                            last_role = s.last_role
FROM ({PER_CASE}) AS s WHERE process_instance.id = s.instance_id""")
    for kind, column in (('steps', 'sum(steps_done)'), ('handoffs', 'sum(handoffs)'),
                         ('county_steps', 'sum(county_steps)'), ('cases', 'count(*)')):
        op.execute(f"""
INSERT INTO step_count (township, definition_id, kind, n)
SELECT township, definition_id, '{kind}', {column} FROM process_instance WHERE steps_done > 0
GROUP BY township, definition_id HAVING {column} <> 0""")


def downgrade():
    op.drop_table('step_count')
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('last_role')
        batch_op.drop_column('county_steps')
        batch_op.drop_column('handoffs')
        batch_op.drop_column('steps_done')
