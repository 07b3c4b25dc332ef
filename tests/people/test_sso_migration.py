"""Migration 0017 (the single sign-on identities) goes down and up again on both databases."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from modules.core.extensions import db


def test_sso_identity_migration_downgrades_and_upgrades(empty_app, backend):
    assert "sso_identity" in sa.inspect(db.engine).get_table_names()
    db.session.remove()
    downgrade(revision="0016")
    assert "sso_identity" not in sa.inspect(db.engine).get_table_names()
    upgrade()
    inspector = sa.inspect(db.engine)
    assert "sso_identity" in inspector.get_table_names()
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("sso_identity")}
    assert {("trust_id", "issuer", "subject"), ("user_id", "issuer")} <= uniques
