"""Sign-in links name the Slack workspace and the person who asked for them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('oauth_states', sa.Column('workspace_name', sa.String(length=255), nullable=True))
    op.add_column('oauth_states', sa.Column('requested_by_name', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('oauth_states') as batch:
        batch.drop_column('requested_by_name')
        batch.drop_column('workspace_name')
