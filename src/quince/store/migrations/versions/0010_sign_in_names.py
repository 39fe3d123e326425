"""sign-in names: one name, one person, install-wide

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 16:00:00

Every name an enrollment user signs in with (username, email, managed Apple ID) becomes a row
whose key is unique across the install. Existing users are copied in resolving each name exactly
as sign-in did before (managed Apple ID, then email, then username; a name two users shared at
the same rank named nobody), so nobody's sign-in changes. Names several users share are left
to `quince doctor`, which lists them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    op.create_table(
        'sign_in_names',
        sa.Column('name_key', sa.String(length=254), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['enrollment_users.id'],
                                name=op.f('fk_sign_in_names_user_id_enrollment_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('name_key', name=op.f('pk_sign_in_names')),
    )
    with op.batch_alter_table('sign_in_names', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_names_user_id'), ['user_id'], unique=False)
    _copy_existing_users()


def _copy_existing_users() -> None:
    users = sa.table('enrollment_users', sa.column('id', sa.Integer), sa.column('username', sa.String),
                     sa.column('email', sa.String), sa.column('managed_apple_id', sa.String))
    names = sa.table('sign_in_names', sa.column('name_key', sa.String), sa.column('user_id', sa.Integer))
    bind = op.get_bind()
    # by_rank[rank][name] = the users holding `name` in that column (0: managed Apple ID, 1: email,
    # 2: username): the order the old sign-in looked names up in.
    by_rank: list[dict[str, set[int]]] = [{}, {}, {}]
    for row in bind.execute(sa.select(users.c.id, users.c.managed_apple_id, users.c.email,
                                      users.c.username)):
        for rank, value in enumerate((row.managed_apple_id, row.email, row.username)):
            key = (value or '').strip().casefold()[:254]
            if key:
                by_rank[rank].setdefault(key, set()).add(row.id)
    resolved: dict[str, int] = {}
    every_name: set[str] = set().union(*by_rank)
    for key in every_name:
        for holding in by_rank:
            holders = holding.get(key)
            if holders:
                if len(holders) == 1:
                    resolved[key] = next(iter(holders))
                break  # shared at the first rank that has it: it named nobody, and still does
    rows = [{'name_key': k, 'user_id': u} for k, u in sorted(resolved.items())]
    for start in range(0, len(rows), BATCH):
        bind.execute(names.insert(), rows[start:start + BATCH])


def downgrade() -> None:
    with op.batch_alter_table('sign_in_names', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_names_user_id'))
    op.drop_table('sign_in_names')
