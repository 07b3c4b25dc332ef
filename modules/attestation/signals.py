"""Signals by which attestation tells later packages (certificates, access) about decisions.

Receivers are connected in modules/wiring.py and run inside the transaction that recorded the decision:
anything they add is committed with it, and an exception they raise rolls the whole decision back.
"""

from modules.core.signals import signal

#: Sent after a person acknowledged the policy (all statements ticked, signed). Args: sender=Acknowledgement, now.
acknowledged = signal("acknowledged")

#: Sent after a person declined to acknowledge the policy. Args: sender=Acknowledgement, now.
declined = signal("declined")

#: Sent after a person withdrew their monitoring consent. Args: sender=Acknowledgement (the withdrawal
#: event; its statement's supersedes_id points at the consent withdrawn), now.
withdrawn = signal("withdrawn")

#: Sent after a person gave monitoring consent (with their acknowledgement, or again after declining or
#: withdrawing it). Args: sender=Acknowledgement (decision "consent given"), now.
consent_given = signal("consent-given")

#: Sent after a person declined monitoring consent (a decision separate from acknowledging the policy).
#: Args: sender=Acknowledgement (decision "consent declined"), now.
consent_declined = signal("consent-declined")
