"""each target keeps its platform's own settings (title, board, privacy…)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 05:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('post_targets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('post_targets', schema=None) as batch_op:
        batch_op.drop_column('settings')
