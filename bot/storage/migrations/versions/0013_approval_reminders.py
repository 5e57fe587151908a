"""Approval reminders and expiry: the workspace's delays, and each waiting post's reminders

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('workspaces', sa.Column('approval_reminder_hours', sa.Integer(), nullable=False,
                                          server_default='4'))
    op.add_column('workspaces', sa.Column('approval_reminders_max', sa.Integer(), nullable=False,
                                          server_default='2'))
    op.add_column('workspaces', sa.Column('approval_grace_minutes', sa.Integer(), nullable=False,
                                          server_default='60'))
    op.add_column('posts', sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('posts', sa.Column('reminders_sent', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('posts', sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('posts') as batch:
        batch.drop_column('reminded_at')
        batch.drop_column('reminders_sent')
        batch.drop_column('submitted_at')
    with op.batch_alter_table('workspaces') as batch:
        batch.drop_column('approval_grace_minutes')
        batch.drop_column('approval_reminders_max')
        batch.drop_column('approval_reminder_hours')
