"""Connect tracking to earlier packages' signals: acknowledgements complete assignments."""

from modules.attestation.signals import acknowledged
from modules.tracking.services import complete_for_acknowledgement


@acknowledged.connect
def complete_assignment(acknowledgement, *, now, **_):
    """An acknowledgement completes the person's current assignment, in the acknowledging transaction."""
    complete_for_acknowledgement(acknowledgement)
