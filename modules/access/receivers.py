"""Check every trust's register rules when content is synced, so bad data in trusts.yaml fails loudly there.

Connected to policies' `content_synced` in modules/wiring.py.
"""

from sqlalchemy import select

from modules.access.rules import problems
from modules.core.extensions import db
from modules.people.models import Role, Trust
from modules.policies.services import ContentError


def check_register_rules(sender, **_extra) -> None:
    """Raise ContentError (aborting the sync) when a trust's chain, minimums or forms cannot be used."""
    for trust in db.session.scalars(select(Trust).order_by(Trust.slug)):
        role_scopes = dict(db.session.execute(select(Role.key, Role.scope).where(Role.trust_id == trust.id)).all())
        found = problems(trust.settings or {}, role_scopes)
        if found:
            raise ContentError(f"content/trusts.yaml, trust {trust.slug}: " + "; ".join(found))
