"""Posting slots: each account's preferred weekly posting times

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('posting_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('time_of_day', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'weekday', 'time_of_day')
    )
    op.create_index(op.f('ix_posting_slots_account_id'), 'posting_slots', ['account_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_posting_slots_account_id'), table_name='posting_slots')
    op.drop_table('posting_slots')
