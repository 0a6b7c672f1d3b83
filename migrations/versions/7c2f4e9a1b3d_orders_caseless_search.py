"""orders: case-folded copies of the columns orders2 filters match case-insensitively
(neither database's lower() folds case as Python does: SQLite's folds ASCII only)

Revision ID: 7c2f4e9a1b3d
Revises: 1ffa6b197ddb
Create Date: 2026-11-22 02:40:00.000000
"""
import sqlalchemy as sa
from alembic import op

from affsrv.text import fold_case

# revision identifiers, used by Alembic.
revision = '7c2f4e9a1b3d'
down_revision = '1ffa6b197ddb'
branch_labels = None
depends_on = None

SEARCHABLE = ('vendor', 'affiliate_nickname', 'billing_last_name', 'billing_email',
              'billing_postal_code')
BATCH = 1000


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        for name in SEARCHABLE:
            batch_op.add_column(
                sa.Column(f'{name}_folded', sa.Text(), nullable=False, server_default='')
            )

    # The orders already stored get their folded copies, a batch of rows at a time.
    bind = op.get_bind()
    orders = sa.table('orders', sa.column('id'), *(sa.column(n) for n in SEARCHABLE),
                      *(sa.column(f'{n}_folded') for n in SEARCHABLE))
    update = orders.update().where(orders.c.id == sa.bindparam('order_id')).values(
        {f'{n}_folded': sa.bindparam(f'new_{n}') for n in SEARCHABLE}
    )
    last = None
    while True:
        query = sa.select(orders.c.id, *(orders.c[n] for n in SEARCHABLE)).order_by(orders.c.id)
        if last is not None:
            query = query.where(orders.c.id > last)
        rows = bind.execute(query.limit(BATCH)).all()
        if not rows:
            break
        bind.execute(update, [
            {'order_id': row[0],
             **{f'new_{n}': fold_case(value or '') for n, value in zip(SEARCHABLE, row[1:])}}
            for row in rows
        ])
        last = rows[-1][0]

    # Every writer sets them from now on (the Order model does, on every insert and update).
    with op.batch_alter_table('orders', schema=None) as batch_op:
        for name in SEARCHABLE:
            batch_op.alter_column(f'{name}_folded', server_default=None)


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        for name in reversed(SEARCHABLE):
            batch_op.drop_column(f'{name}_folded')
