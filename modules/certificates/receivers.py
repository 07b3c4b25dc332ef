"""Issue a certificate when a person acknowledges the policy, inside the acknowledging transaction."""

from modules.attestation.signals import acknowledged
from modules.certificates.services import issue_certificate


@acknowledged.connect
def issue_on_acknowledgement(acknowledgement, *, now, **_):
    """An acknowledgement earns a certificate; a failure here rolls the acknowledgement back too."""
    issue_certificate(acknowledgement, now=now)
