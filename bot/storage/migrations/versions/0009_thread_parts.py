"""Threads: each target keeps the parts already live, so an interrupted thread resumes without resending

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('post_targets') as batch:
        batch.add_column(sa.Column('thread_parts', sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('post_targets') as batch:
        batch.drop_column('thread_parts')
