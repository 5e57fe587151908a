"""Requests already acted on (replayed Slack requests and compose submissions act once)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('seen_requests',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index(op.f('ix_seen_requests_seen_at'), 'seen_requests', ['seen_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_seen_requests_seen_at'), table_name='seen_requests')
    op.drop_table('seen_requests')
