"""Capabilities: declared once here, granted by roles in content/trusts.yaml, checked by views."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

#: Every capability the app checks, with what it allows. Roles in trusts.yaml may only name these.
CAPABILITIES: dict[str, str] = {
    "training:take": "read the policy modules, take quizzes and acknowledge the policy",
    "certificates:own": "download and view one's own certificates and receipts",
    "team:view": "see one's line-managed team's training status (also granted by having reports)",
    "academy:view": "see training status across the academies the role covers",
    "staff:manage": "import staff lists and edit people within the role's scope",
    "tracking:view": "see dashboards, overdue lists and exports within the role's scope",
    "evidence:export": "download evidence packs",
    "quizzes:analytics": "see per-question and per-clause results",
    "attestation:record": "record an acknowledgement on someone's behalf from a paper form",
    "certificates:revoke": "revoke a certificate with a reason",
    "policy:publish": "review and publish new policy versions",
    "policies:manage": "upload a policy document, check and correct how it was read, and save it as a draft version",
    "accounts:approve": "approve requests to run official social media accounts",
    "register:view": "see the authorised-user register",
    "register:manage": "register official accounts and keep the authorised-user register",
    "trust:admin": "administer the trust's settings",
    "consent:view": "see staff's monitoring-consent decisions (given, declined, withdrawn) and be told of them",
    "settings:view": "see the trust's settings and rules, read-only (with notes for the DPO)",
    "personal-data:erase": "erase a leaver's personal data on a lawful request, and place or lift legal holds",
    # Held only through the platform's own trust (modules/platform): never by a role of a school trust.
    "platform:manage": "create trusts and their academies and invite their first trust administrator "
                       "(platform administrators; sees no trust's staff)",
}

#: Capabilities only the platform's own trust may grant; trusts.yaml and trust imports refuse them.
PLATFORM_CAPABILITIES = frozenset({"platform:manage"})

#: Granted to anyone who is someone's line manager; line management is a relation, not a role.
LINE_MANAGER_CAPABILITIES = frozenset({"team:view"})


class UnknownCapability(ValueError):
    """A role or a check named a capability that is not declared."""


def check_known(names) -> None:
    """Raise UnknownCapability for any name not declared in CAPABILITIES."""
    unknown = sorted(set(names) - CAPABILITIES.keys())
    if unknown:
        raise UnknownCapability(f"unknown capabilities: {', '.join(unknown)}")


def require(capability: str):
    """View decorator: signed in and holding the capability somewhere in the user's trust, else 403."""
    check_known([capability])

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.can(capability):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_capability = capability
        return wrapped

    return decorator
