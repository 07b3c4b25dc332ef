"""Issue a certificate when a person acknowledges the policy, inside the acknowledging transaction.

Connected to attestation's `acknowledged` in modules/wiring.py.
"""

from modules.certificates.services import issue_certificate


def issue_on_acknowledgement(acknowledgement, *, now, **_):
    """An acknowledgement earns a certificate; a failure here rolls the acknowledgement back too."""
    issue_certificate(acknowledgement, now=now)
