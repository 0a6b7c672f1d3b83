"""indexes (filter, bucket) on the wide report rollups, one per filter a report takes: a
report narrowed to one affiliate (the affiliate's own pages), product, country or account
reads its rows in the range, not every row of the range (the keys lead with the bucket).

Revision ID: c4d8e2a6f1b9
Revises: a7c2e9f4b1d3
Create Date: 2026-12-07 03:35:00
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4d8e2a6f1b9'
down_revision = 'a7c2e9f4b1d3'
branch_labels = None
depends_on = None

_SALES = ('account', 'product', 'affiliate', 'country')
_INDEXES = {
    'report_sales_q': _SALES,
    'report_sales_d': _SALES,
    'report_postal_q': _SALES,
    'report_postal_d': _SALES,
    'report_clicks_q': ('affiliate_id', 'product_id', 'country'),
    'report_clicks_d': ('affiliate_id', 'product_id', 'country'),
}


def upgrade():
    for table, columns in _INDEXES.items():
        for column in columns:
            op.create_index(f'ix_{table}_{column}_bucket', table, [column, 'bucket'])


def downgrade():
    for table, columns in _INDEXES.items():
        for column in columns:
            op.drop_index(f'ix_{table}_{column}_bucket', table_name=table)
