"""Two-step secrets are encrypted at rest (modules/people/secretbox.py); migration 0019 encrypts the secrets
stored before it (and its downgrade decrypts them); a key that cannot open a secret refuses codes, never a 500."""

from datetime import timedelta

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from modules.core.extensions import db
from modules.people import mfa, secretbox, services
from modules.people.models import TotpCredential
from tests.attestation.factories import demo_user


def _enrol(user, now):
    secret = mfa.new_secret()
    services.confirm_two_step(user, secret, mfa.code_at(secret, now), now=now)
    db.session.commit()
    return secret


def test_the_stored_secret_is_encrypted_and_still_checks_codes(app, now):
    staff = demo_user("staff", "tkat")
    secret = _enrol(staff, now)
    stored = db.session.get(TotpCredential, staff.id).secret
    assert stored.startswith(secretbox.PREFIX) and secret not in stored
    later = now + timedelta(minutes=2)
    assert services.check_second_factor(staff, mfa.code_at(secret, later), now=later) == "totp"


def test_another_key_cannot_read_it_and_codes_are_refused(app, now):
    staff = demo_user("staff", "tkat")
    secret = _enrol(staff, now)
    stored = db.session.get(TotpCredential, staff.id).secret
    assert secretbox.unseal(stored, {"TOTP_ENCRYPTION_KEY": None, "SECRET_KEY": app.config["SECRET_KEY"]}) == secret
    try:
        secretbox.unseal(stored, {"TOTP_ENCRYPTION_KEY": "a-different-key", "SECRET_KEY": "x"})
    except secretbox.UnreadableSecret:
        pass
    else:
        raise AssertionError("another key opened the secret")
    app.config["TOTP_ENCRYPTION_KEY"] = "a-dedicated-key-set-after-enrolment"
    later = now + timedelta(minutes=2)
    assert services.check_second_factor(staff, mfa.code_at(secret, later), now=later) is None


def test_migration_0019_encrypts_existing_secrets_and_its_downgrade_decrypts(app, now, backend):
    staff = demo_user("staff", "tkat")
    secret = _enrol(staff, now)
    staff_id = staff.id
    db.session.remove()
    downgrade(revision="0018")
    clear = db.session.scalar(sa.text("SELECT secret FROM totp_credential WHERE user_id = :id"), {"id": staff_id})
    assert clear == secret
    teacher_id = demo_user("teacher", "tkat").id
    old = mfa.new_secret()  # a secret stored in clear before this migration
    db.session.execute(sa.text("INSERT INTO totp_credential (user_id, secret, enabled_at, last_step) "
                               "VALUES (:id, :secret, :at, NULL)"), {"id": teacher_id, "secret": old, "at": now})
    db.session.commit()
    db.session.remove()
    upgrade()
    rows = dict(db.session.execute(select(TotpCredential.user_id, TotpCredential.secret)).all())
    assert all(value.startswith(secretbox.PREFIX) for value in rows.values())
    assert secret not in rows[staff_id] and old not in rows[teacher_id]
    assert (secretbox.unseal(rows[staff_id]), secretbox.unseal(rows[teacher_id])) == (secret, old)
