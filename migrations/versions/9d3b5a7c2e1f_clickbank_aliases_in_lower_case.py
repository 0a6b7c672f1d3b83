"""affiliates: ClickBank nickname aliases in lower case (ClickBank's nicknames ignore case and
notifications name them in lower case, so an alias typed with capitals never matched)

Revision ID: 9d3b5a7c2e1f
Revises: 7c2f4e9a1b3d
Create Date: 2026-11-22 02:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9d3b5a7c2e1f'
down_revision = '7c2f4e9a1b3d'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    affiliates = sa.table('affiliates', sa.column('id'), sa.column('code'),
                          sa.column('clickbank_nickname'))
    rows = bind.execute(
        sa.select(affiliates.c.id, affiliates.c.code, affiliates.c.clickbank_nickname)
        .where(affiliates.c.clickbank_nickname.is_not(None))
    ).all()
    owners: dict[str, list[str]] = {}
    for _, code, nickname in rows:
        owners.setdefault(nickname.strip().lower(), []).append(code)
    clashes = {nick: codes for nick, codes in owners.items() if len(codes) > 1}
    if clashes:
        listed = '; '.join(f'{nick!r}: affiliates {", ".join(codes)}'
                           for nick, codes in sorted(clashes.items()))
        raise RuntimeError(
            'ClickBank nicknames ignore case, and these aliases differ only in case: '
            f'{listed}. Remove all but one of each (affsrv affiliate alias CODE --clickbank \'\'),'
            ' then run affsrv db upgrade again.'
        )
    changed = [{'affiliate_id': id_, 'nickname': nickname.strip().lower()}
               for id_, _, nickname in rows if nickname != nickname.strip().lower()]
    if changed:
        bind.execute(
            affiliates.update().where(affiliates.c.id == sa.bindparam('affiliate_id'))
            .values(clickbank_nickname=sa.bindparam('nickname')),
            changed,
        )


def downgrade():
    pass  # lower-case aliases are valid aliases for the previous version too
