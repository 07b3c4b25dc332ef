"""Role changes are evidence: each RoleChange (people) is declared an evidence record and gets its ledger
entry in the same transaction.

The people package records the change and sends `roles_changed` (connected to `ledger_role_change` in
modules/wiring.py); people comes before evidence in the import order, so the declaration lives here.
"""

from datetime import datetime

from modules.evidence.records import evidence_record, record
from modules.people.models import RoleChange

KIND = "role_changed"

#: Every column of role_change is covered by the record hash (the id is bound by the entry's record_id).
ROLE_CHANGE_EVIDENCE = evidence_record(
    RoleChange, fields=("trust_id", "user_id", "actor_id", "source", "before", "after", "created_at"))


def ledger_role_change(change: RoleChange, *, now: datetime) -> None:
    """Append the role change to its trust's ledger (add + flush, in the caller's transaction)."""
    record(change, kind=KIND, now=now)
