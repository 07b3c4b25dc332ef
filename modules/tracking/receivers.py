"""Tracking's receivers of earlier packages' signals (connected in modules/wiring.py): acknowledgements
complete assignments; staff imports get assignments, invitations and leaver handling."""

from flask import current_app

from modules.attestation.queries import consent_viewers
from modules.attestation.statements import consent_is_condition
from modules.notifications.services import queue_email
from modules.tracking.mail import INVITATION_REASON, consent_decision, invitation
from modules.tracking.services import close_for_leaver, complete_for_acknowledgement, ensure_assignments

CHUNK = 500


def complete_assignment(acknowledgement, *, now, **_):
    """An acknowledgement completes the person's current assignment, in the acknowledging transaction."""
    complete_for_acknowledgement(acknowledgement)


def tell_hr_and_dpo_of_consent(record, *, now, **_):
    """A decline or withdrawal of monitoring consent is emailed to HR and the DPO (consent:view), in the
    deciding transaction; one email per person told and record."""
    condition = consent_is_condition(record.user.trust)
    for person in consent_viewers(record.trust_id):
        subject, body = consent_decision(record, person, condition=condition)
        queue_email(recipient=person.email, reason=f"consent:{record.id}", subject=subject, body=body, now=now,
                    user=person, trust_id=record.trust_id)


def assign_imported(trust, *, now, user_ids, **_):
    """People an import created, changed or brought back get the assignment their trust's rules give them."""
    ids = list(user_ids)
    for start in range(0, len(ids), CHUNK):
        ensure_assignments(trust, now=now, user_ids=ids[start:start + CHUNK])


def send_invitation(user, *, token, now, **_):
    """Queue the new person's set-password email in the import's transaction."""
    subject, body = invitation(user, token, max_age_hours=current_app.config["SET_PASSWORD_MAX_AGE_HOURS"])
    queue_email(recipient=user.email, reason=INVITATION_REASON, subject=subject, body=body, now=now, user=user)


def close_leaver(user, *, now, **_):
    """A leaver's open assignment closes; their history stays."""
    close_for_leaver(user, now=now)
