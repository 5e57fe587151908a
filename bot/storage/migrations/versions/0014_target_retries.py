"""Each post target counts its Retries, so a failure is announced once per target and try

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 12:00:00
"""

from collections import Counter

import sqlalchemy as sa
from alembic import op

from bot.platforms import registry

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('post_targets', sa.Column('retries', sa.Integer(), nullable=False, server_default='0'))
    # Until now a target's Retries were counted from the audit trail's "retried" entries, which name the account
    # ("X · Acme"): carried over, so the failures already announced keep their place and none is said twice.
    bind = op.get_bind()
    retried = Counter(bind.execute(sa.text(
        "SELECT post_id, change FROM audit_entries WHERE action = 'retried' AND post_id IS NOT NULL")).all())
    if not retried:
        return
    post_ids = sorted({post_id for post_id, _ in retried})
    for start in range(0, len(post_ids), 500):
        rows = bind.execute(sa.text(
            "SELECT t.id, t.post_id, a.platform, a.name FROM post_targets t JOIN accounts a ON a.id = t.account_id "
            "WHERE t.post_id IN :ids").bindparams(sa.bindparam('ids', expanding=True)),
            {"ids": post_ids[start:start + 500]}).all()
        for target_id, post_id, platform, name in rows:
            info = registry.get(platform)
            count = retried.get((post_id, f"{info.name if info else platform} · {name}"), 0)
            if count:
                bind.execute(sa.text("UPDATE post_targets SET retries = :n WHERE id = :id"),
                             {"n": count, "id": target_id})


def downgrade() -> None:
    with op.batch_alter_table('post_targets') as batch:
        batch.drop_column('retries')
