"""Edit series: the stopped series names the series that replaced it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 11:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('series') as batch:
        batch.add_column(sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_series_replaced_by_id', 'series', ['replaced_by_id'], ['id'],
                                 ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('series') as batch:
        batch.drop_constraint('fk_series_replaced_by_id', type_='foreignkey')
        batch.drop_column('replaced_by_id')
