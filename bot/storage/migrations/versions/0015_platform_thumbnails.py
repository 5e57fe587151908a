"""Platform thumbnails: the picture each network shows for a published post, kept with its figures

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 11:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('post_targets', sa.Column('platform_thumbnail_url', sa.Text(), nullable=True))
    op.add_column('post_targets', sa.Column('platform_thumbnail_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('post_targets') as batch:
        batch.drop_column('platform_thumbnail_at')
        batch.drop_column('platform_thumbnail_url')
