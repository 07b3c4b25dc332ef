"""Signals by which people tells later packages about imports and password changes, without importing them.

Receivers are connected in modules/wiring.py and run inside the sender's transaction.
"""

from modules.core.signals import signal

#: Sent once per applied import with the people it created, updated or brought back. Args: sender=Trust, now,
#: user_ids (all of them), created_ids, returned_ids.
staff_imported = signal("staff-imported")

#: Sent for each new person, with the set-password token for their invitation. Args: sender=User, token, now.
staff_invited = signal("staff-invited")

#: Sent for each person a full import marked as a leaver. Args: sender=User, now.
staff_left = signal("staff-left")

#: Sent when a reset link was made for a person. Args: sender=User, token (for the link), reset_id (the stored
#: hash of the token), now, expires_at.
password_reset_requested = signal("password-reset-requested")

#: Sent when a person's password was changed or reset. Args: sender=User, now, how ("changed" or "reset").
password_changed = signal("password-changed")
#: Sent after a RoleChange is added (sender=RoleChange, now): the ledger records it in the same transaction.
roles_changed = signal("roles-changed")
