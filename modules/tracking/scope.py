"""Whose training a viewer may see: the whole trust, some academies, or their own line-managed team."""

from dataclasses import dataclass

from modules.people.models import User


@dataclass(frozen=True)
class Scope:
    """The people a dashboard covers: active staff of one trust, narrowed to academies or a manager's team."""

    #: The trust (every query is limited to it).
    trust_id: int
    #: Academies covered; None means the whole trust (the central team included).
    academy_ids: frozenset[int] | None
    #: When set, only the people this person line-manages.
    manager_id: int | None
    #: How the scope is named on the page, e.g. "North Park Academy" or "Your team".
    label: str

    @property
    def is_team(self) -> bool:
        """Whether this is a line manager's team view."""
        return self.manager_id is not None


def scope_for(user: User, *, team: bool = False) -> Scope | None:
    """The viewer's scope: tracking:view where held (trust-wide or per academy), else their team; None if neither.

    With team=True it is always the viewer's own team (for line managers who also hold wider views).
    """
    if not team and user.can("tracking:view"):
        academies = user.academy_scope("tracking:view")
        if academies is None:
            return Scope(user.trust_id, None, None, user.trust.name)
        names = sorted(a.academy.name for a in user.role_assignments
                       if a.academy_id in academies and a.academy is not None)
        return Scope(user.trust_id, frozenset(academies), None, ", ".join(dict.fromkeys(names)) or "Your academies")
    if user.can("team:view"):
        return Scope(user.trust_id, None, user.id, "Your team")
    return None


def evidence_scope(user: User) -> Scope | None:
    """Where the viewer may export evidence packs from (evidence:export), or None."""
    if not user.can("evidence:export"):
        return None
    academies = user.academy_scope("evidence:export")
    if academies is None:
        return Scope(user.trust_id, None, None, user.trust.name)
    return Scope(user.trust_id, frozenset(academies), None, "Your academies")
