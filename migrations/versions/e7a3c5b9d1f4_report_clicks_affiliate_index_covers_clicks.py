"""on PostgreSQL the wide click rollups' affiliate index carries the click count (INCLUDE):
an affiliate's own reports (the portal's pages) read the index alone, not a table page per
row. Nothing changes on SQLite (no INCLUDE there; its reads of these rows measured under the
target).

Revision ID: e7a3c5b9d1f4
Revises: b5e1d9c3a7f2
Create Date: 2026-12-07 13:00:00
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e7a3c5b9d1f4'
down_revision = 'b5e1d9c3a7f2'
branch_labels = None
depends_on = None

_TABLES = ('report_clicks_q', 'report_clicks_d')


def _rebuild(include):
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in _TABLES:
        name = f'ix_{table}_affiliate_id_bucket'
        op.drop_index(name, table_name=table)
        op.create_index(name, table, ['affiliate_id', 'bucket'], postgresql_include=include)


def upgrade():
    _rebuild(['clicks'])


def downgrade():
    _rebuild([])
