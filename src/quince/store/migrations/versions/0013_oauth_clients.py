"""oauth clients: OAuth 2.0 client credentials for the REST API

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 18:40:00

A REST API client may now fetch a Bearer token with OAuth 2.0 client credentials, as Workspace ONE
scripts do (docs/api.md). `oauth_clients` holds the clients (an OG, a role, the SHA-256 of the
secret shown once), `oauth_tokens` the SHA-256 of each access token issued, with its expiry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'oauth_clients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('og_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=160), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['og_id'], ['organization_groups.id'],
                                name=op.f('fk_oauth_clients_og_id_organization_groups'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_clients')),
        sa.UniqueConstraint('client_id', name=op.f('uq_oauth_clients_client_id')),
    )
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_clients_og_id'), ['og_id'], unique=False)

    op.create_table(
        'oauth_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('oauth_client_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['oauth_client_id'], ['oauth_clients.id'],
                                name=op.f('fk_oauth_tokens_oauth_client_id_oauth_clients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_oauth_tokens_token_hash')),
    )
    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_tokens_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_tokens_oauth_client_id'), ['oauth_client_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_tokens_oauth_client_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_tokens_expires_at'))
    op.drop_table('oauth_tokens')
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_clients_og_id'))
    op.drop_table('oauth_clients')
