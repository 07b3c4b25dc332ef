"""totp encrypted: two-step secrets are stored encrypted at rest

- totp_credential.secret widens to 255 characters and every stored secret is encrypted ("enc1:" + a Fernet token
  under a key derived with HKDF-SHA256 from TOTP_ENCRYPTION_KEY, else SECRET_KEY, of the app running the upgrade).
  The downgrade decrypts them again.

Revision ID: 0019
Revises: 0018
"""
import base64
import os

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# Frozen copy of modules/people/secretbox.py when this migration was written (migrations never import live code).
PREFIX = 'enc1:'
INFO = b'policypass totp secret encryption v1'


def _material() -> bytes:
    try:
        from flask import current_app
        config = current_app.config
        material = config.get('TOTP_ENCRYPTION_KEY') or config.get('SECRET_KEY')
    except RuntimeError:  # plain alembic, outside `flask db upgrade`
        material = os.environ.get('TOTP_ENCRYPTION_KEY') or os.environ.get('SECRET_KEY')
    if not material:
        raise RuntimeError('migration 0019 needs TOTP_ENCRYPTION_KEY or SECRET_KEY to encrypt two-step secrets: '
                           'run it with `flask db upgrade`')
    return material.encode()


def _fernet():
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(_material())
    return Fernet(base64.urlsafe_b64encode(key))


_TABLE = sa.table('totp_credential', sa.column('user_id', sa.Integer), sa.column('secret', sa.String))


def _rewrite(change) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_TABLE.c.user_id, _TABLE.c.secret)).all()
    for user_id, secret in rows:
        new = change(secret)
        if new != secret:
            bind.execute(_TABLE.update().where(_TABLE.c.user_id == user_id).values(secret=new))


def upgrade():
    with op.batch_alter_table('totp_credential') as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=False)
    box = _fernet()
    _rewrite(lambda s: s if s.startswith(PREFIX) else PREFIX + box.encrypt(s.encode()).decode('ascii'))


def downgrade():
    box = _fernet()
    _rewrite(lambda s: box.decrypt(s[len(PREFIX):].encode('ascii')).decode() if s.startswith(PREFIX) else s)
    with op.batch_alter_table('totp_credential') as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=False)
