"""Recurring posts: a series and its occurrences (posts made from it, once each)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('author_user_id', sa.String(length=32), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('frequency', sa.String(length=16), nullable=False),
    sa.Column('weekdays', sa.JSON(), nullable=False),
    sa.Column('day_of_month', sa.Integer(), nullable=True),
    sa.Column('time_of_day', sa.String(length=5), nullable=False),
    sa.Column('ends_on', sa.String(length=10), nullable=True),
    sa.Column('max_count', sa.Integer(), nullable=True),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('next_index', sa.Integer(), nullable=False),
    sa.Column('next_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_series_workspace_id'), 'series', ['workspace_id'], unique=False)
    with op.batch_alter_table('posts') as batch:
        batch.add_column(sa.Column('series_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('series_index', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_posts_series_id', 'series', ['series_id'], ['id'], ondelete='SET NULL')
        batch.create_unique_constraint('uq_posts_series_occurrence', ['series_id', 'series_index'])
        batch.create_index(batch.f('ix_posts_series_id'), ['series_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('posts') as batch:
        batch.drop_index(batch.f('ix_posts_series_id'))
        batch.drop_constraint('uq_posts_series_occurrence', type_='unique')
        batch.drop_constraint('fk_posts_series_id', type_='foreignkey')
        batch.drop_column('series_index')
        batch.drop_column('series_id')
    op.drop_index(op.f('ix_series_workspace_id'), table_name='series')
    op.drop_table('series')
