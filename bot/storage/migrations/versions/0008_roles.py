"""Roles: Picmim admins, account groups and who may post where

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('workspaces', sa.Column('admin_user_ids', sa.JSON(), nullable=False, server_default='[]'))
    op.add_column('workspaces', sa.Column('admin_usergroup_id', sa.String(length=32), nullable=True))
    op.create_table('account_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('approver_user_ids', sa.JSON(), nullable=False),
    sa.Column('approver_usergroup_id', sa.String(length=32), nullable=True),
    sa.Column('approval_channel_id', sa.String(length=32), nullable=True),
    sa.Column('digest_channel_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'name')
    )
    op.create_index(op.f('ix_account_groups_workspace_id'), 'account_groups', ['workspace_id'], unique=False)
    op.create_table('account_group_members',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['account_groups.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id')
    )
    op.create_index(op.f('ix_account_group_members_group_id'), 'account_group_members', ['group_id'],
                    unique=False)
    op.create_table('role_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('user_ids', sa.JSON(), nullable=False),
    sa.Column('usergroup_id', sa.String(length=32), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['account_groups.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'account_id', 'group_id', 'role')
    )
    op.create_index(op.f('ix_role_grants_workspace_id'), 'role_grants', ['workspace_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_role_grants_workspace_id'), table_name='role_grants')
    op.drop_table('role_grants')
    op.drop_index(op.f('ix_account_group_members_group_id'), table_name='account_group_members')
    op.drop_table('account_group_members')
    op.drop_index(op.f('ix_account_groups_workspace_id'), table_name='account_groups')
    op.drop_table('account_groups')
    with op.batch_alter_table('workspaces') as batch:
        batch.drop_column('admin_usergroup_id')
        batch.drop_column('admin_user_ids')
