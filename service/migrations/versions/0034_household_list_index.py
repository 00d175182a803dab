"""The household register's order, indexed: (township, id).

The register pages (GET /api/v1/households, /households) in (township, id) order. With only
(township, status, id), a township's register without a status filter read all its households and
sorted them for every page, and the county's unfiltered register sorted every household, once for
the page and once more for its capped total.

Revision ID: 0034
Revises: 0033
Create Date: 2026-11-29 05:00:00
"""
from alembic import op

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_household_list', 'household', ['township', 'id'])


def downgrade():
    op.drop_index('ix_household_list', table_name='household')
