"""The audit trail, review links for reviewers outside Slack, and room for a review link's reviewer name in
approval decisions

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=160), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('change', sa.Text(), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('connection_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_audit_entries_at'), 'audit_entries', ['at'], unique=False)
    op.create_index(op.f('ix_audit_entries_connection_id'), 'audit_entries', ['connection_id'], unique=False)
    op.create_index(op.f('ix_audit_entries_post_id'), 'audit_entries', ['post_id'], unique=False)
    op.create_index('ix_audit_entries_workspace_at', 'audit_entries', ['workspace_id', 'at'], unique=False)
    op.create_table('review_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('post_version', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('reviewer', sa.String(length=120), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_review_links_post_id'), 'review_links', ['post_id'], unique=False)
    # A decision made through a review link is signed "<name> (review link)", longer than a Slack user id.
    with op.batch_alter_table('approval_decisions', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.String(length=32), type_=sa.String(length=160),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('approval_decisions', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.String(length=160), type_=sa.String(length=32),
                              existing_nullable=False)
    op.drop_index(op.f('ix_review_links_post_id'), table_name='review_links')
    op.drop_table('review_links')
    op.drop_index('ix_audit_entries_workspace_at', table_name='audit_entries')
    op.drop_index(op.f('ix_audit_entries_post_id'), table_name='audit_entries')
    op.drop_index(op.f('ix_audit_entries_connection_id'), table_name='audit_entries')
    op.drop_index(op.f('ix_audit_entries_at'), table_name='audit_entries')
    op.drop_table('audit_entries')
