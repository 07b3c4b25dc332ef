"""When HR publishes a new policy version (policies' `version_published`, connected in modules/wiring.py):
new-version assignments, and reading credit carried over for the modules that did not change.

Who counts as holding a current acknowledgement: people whose latest acknowledgement is of the version just
replaced (or later) and whose latest certificate is still valid (not expired or revoked). They keep the
modules the comparison finds unchanged (policies.diff.kept_sections), so only the changed ones are left to
read, and their quiz asks only about the changes (assessments' QuizScope); everyone else starts the new
version from nothing. All must acknowledge the new version: the assignment is complete only when they do. The old acknowledgements and
certificates are left as they are (certificates derive "superseded" after the trust's grace period).
"""

from datetime import datetime

from sqlalchemy import insert, select

from modules.assessments.services import limit_to_changes
from modules.core.extensions import db
from modules.policies.models import PolicyVersion, Section
from modules.policies.queries import base_version, comparison, is_register_version
from modules.tracking.queries import valid_certificate_holders
from modules.tracking.services import _acknowledged, assign_new_version
from modules.training.models import ModuleProgress

#: Rows per bulk insert / IN list (SQLite's parameter limit is the tightest).
CHUNK = 400


def holders(version: PolicyVersion, base: PolicyVersion, now: datetime) -> list[int]:
    """Ids of the trust's people whose latest acknowledgement is of `base` or a later version and whose latest
    certificate is still valid at `now` (someone whose training had lapsed retrains on the whole version)."""
    acknowledged = _acknowledged(version.trust_id, min_number=base.number)
    return sorted(acknowledged.keys() & valid_certificate_holders(version.trust_id, now)) if acknowledged else []


def carry_reading_credit(version: PolicyVersion, base: PolicyVersion, user_ids: list[int]) -> int:
    """Copy the people's reading of unchanged modules from `base` to `version` (keeping when they read them).

    Idempotent: a module already read on the new version is left alone. Returns the rows written.
    """
    kept = comparison(base, version).kept_sections  # new module number -> old module number
    new_ids = {s.number: s.id for s in version.sections}
    old_to_new = {old.id: new_ids[new] for new, number in kept.items()
                  for old in base.sections if old.number == number}
    if not old_to_new or not user_ids:
        return 0
    written = 0
    for start in range(0, len(user_ids), CHUNK):
        chunk = user_ids[start:start + CHUNK]
        done = set(db.session.execute(select(ModuleProgress.user_id, ModuleProgress.section_id)
                                      .where(ModuleProgress.user_id.in_(chunk),
                                             ModuleProgress.section_id.in_(list(old_to_new.values())))).all())
        rows = [{"user_id": user_id, "section_id": old_to_new[section_id], "read_at": read_at}
                for user_id, section_id, read_at in db.session.execute(
                    select(ModuleProgress.user_id, ModuleProgress.section_id, ModuleProgress.read_at)
                    .where(ModuleProgress.user_id.in_(chunk), ModuleProgress.section_id.in_(list(old_to_new))))
                if (user_id, old_to_new[section_id]) not in done]
        if rows:
            db.session.execute(insert(ModuleProgress), rows)
            written += len(rows)
    db.session.flush()
    return written


def on_version_published(version: PolicyVersion, *, now: datetime, **_) -> None:
    """Holders keep credit for unchanged modules and are quizzed only on the changes; everyone gets a
    new-version assignment. A trust's first
    version (published by content sync) has nothing before it: inductions come from ensure_assignments."""
    base = base_version(version)
    if base is None:
        return
    held = holders(version, base, now)
    carry_reading_credit(version, base, held)
    limit_to_changes(version, held, now=now)
    if is_register_version(version):  # assignments track the register's policy only (not other series)
        assign_new_version(version, now=now)


def modules_left(user_id: int, version: PolicyVersion) -> list[Section]:
    """The version's modules the person has not read yet (after any credit carried over)."""
    read = set(db.session.scalars(select(ModuleProgress.section_id).where(
        ModuleProgress.user_id == user_id, ModuleProgress.section_id.in_([s.id for s in version.sections]))))
    return [s for s in version.sections if s.id not in read]
