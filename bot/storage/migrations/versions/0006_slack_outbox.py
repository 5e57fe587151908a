"""The Slack outbox: messages owed to people that Slack did not take at the first try

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slack_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'delivered', 'refused', name='outboxstate', native_enum=False,
                               create_constraint=False, length=32), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('delivered_channel_id', sa.String(length=32), nullable=True),
    sa.Column('delivered_ts', sa.String(length=32), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_slack_outbox_due', 'slack_outbox', ['state', 'next_attempt_at'], unique=False)
    op.create_index('ix_slack_outbox_key', 'slack_outbox', ['key', 'state'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_slack_outbox_key', table_name='slack_outbox')
    op.drop_index('ix_slack_outbox_due', table_name='slack_outbox')
    op.drop_table('slack_outbox')
