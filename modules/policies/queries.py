"""Read-only queries about policy versions: which to compare, the comparison, and review dates."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from modules.core.extensions import db
from modules.policies.diff import Comparison, compare
from modules.policies.models import PolicySeries, PolicySource, PolicyVersion

#: HR is reminded this many days before a version's next review date.
REVIEW_REMINDER_DAYS = 60
#: The outbox reason of a review reminder starts with this; the rest names the version and the date.
REVIEW_REMINDER_PREFIX = "policy-review:"


# --------------------------------------------------------------------------- series (a trust's policies)


def series_of(trust_id: int) -> list[PolicySeries]:
    """The trust's policies (series), in order."""
    return list(db.session.scalars(select(PolicySeries).where(PolicySeries.trust_id == trust_id)
                                   .order_by(PolicySeries.position, PolicySeries.id)))


def series_by_slug(trust_id: int, slug: str | None) -> PolicySeries | None:
    """The trust's series with this slug; None for an unknown slug or another trust's (shown as 404)."""
    if not slug:
        return None
    return db.session.scalar(select(PolicySeries).where(PolicySeries.trust_id == trust_id, PolicySeries.slug == slug))


def register_series(trust_id: int) -> PolicySeries | None:
    """The series whose certificate gates the authorised-user register: the one the trust setting
    `register_policy` names, else the trust's first series."""
    from modules.people.models import Trust

    trust = db.session.get(Trust, trust_id)
    slug = trust.rules.register_policy if trust is not None else None
    return (series_by_slug(trust_id, slug) if slug else None) or next(iter(series_of(trust_id)), None)


def is_register_version(version: PolicyVersion) -> bool:
    """Whether the version belongs to the series that gates the register (tracked by assignments)."""
    series = register_series(version.trust_id)
    return series is None or version.series_id in (None, series.id)


def in_audience(series: PolicySeries, user) -> bool:
    """Whether the person must complete the series: their roles and academy are in its audience (an empty list
    in the audience means any)."""
    roles, academies = series.audience_roles, series.audience_academies
    if roles and not {a.role.key for a in user.role_assignments} & set(roles):
        return False
    if academies:
        slug = user.academy.slug if getattr(user, "academy", None) is not None else None
        if slug not in academies:
            return False
    return True


def _series_id(trust_id: int, series: PolicySeries | None) -> int | None:
    chosen = series if series is not None else register_series(trust_id)
    return chosen.id if chosen is not None else None


def versions_of(trust_id: int, series: PolicySeries | None = None) -> list[PolicyVersion]:
    """The trust's versions of a series (default: the register series), newest first."""
    return list(db.session.scalars(select(PolicyVersion).where(
        PolicyVersion.trust_id == trust_id, PolicyVersion.series_id == _series_id(trust_id, series))
        .order_by(PolicyVersion.number.desc())))


def published_version(trust_id: int, series: PolicySeries | None = None) -> PolicyVersion | None:
    """The current (published) version of one of the trust's series (default: the register series), if any."""
    return db.session.scalar(select(PolicyVersion).where(
        PolicyVersion.trust_id == trust_id, PolicyVersion.series_id == _series_id(trust_id, series),
        PolicyVersion.status == "published"))


def version_in_trust(trust_id: int, version_id: int, *, lock: bool = False) -> PolicyVersion | None:
    """The version with that id if it belongs to the trust; None otherwise (shown as 404).

    With lock=True the row is locked for the rest of the transaction (PostgreSQL; SQLite writers already
    hold the database lock), so two publish requests are handled one after the other.
    """
    query = select(PolicyVersion).where(PolicyVersion.id == version_id, PolicyVersion.trust_id == trust_id)
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def base_version(version: PolicyVersion) -> PolicyVersion | None:
    """What a version is compared with: for a draft, the current version; otherwise the one it replaced."""
    if version.status == "draft":
        current = published_version(version.trust_id, version.series)
        return current if current is not None and current.number < version.number else None
    return db.session.scalar(
        select(PolicyVersion).where(PolicyVersion.trust_id == version.trust_id,
                                    PolicyVersion.series_id == version.series_id,
                                    PolicyVersion.number < version.number, PolicyVersion.published_at.is_not(None))
        .order_by(PolicyVersion.number.desc()).limit(1))


def comparison(base: PolicyVersion, version: PolicyVersion) -> Comparison:
    """The clause-level comparison of two versions of a policy (see modules/policies/diff.py)."""
    return compare(base.sections, version.sections)


@dataclass(frozen=True)
class VersionComparison:
    """A version, what it is compared with, and the comparison (None when there is nothing before it)."""

    version: PolicyVersion
    base: PolicyVersion | None
    comparison: Comparison | None


def compared(version: PolicyVersion) -> VersionComparison:
    """The version against its base version (see `base_version`)."""
    base = base_version(version)
    return VersionComparison(version, base, comparison(base, version) if base is not None else None)


# --------------------------------------------------------------------------- review dates


def policy_past_review(version: PolicyVersion, today: date) -> bool:
    """Whether the version's next review date has gone by on `today` (a London date); False if none is known.

    A month-only date in the document is due at the end of that month (see services.review_due), so a
    review "December 2025" is past from 1 January 2026.
    """
    return version.next_review_on is not None and version.next_review_on < today


def review_reminder_on(version: PolicyVersion, days: int = REVIEW_REMINDER_DAYS) -> date | None:
    """The day HR is first reminded of the version's next review: `days` before it."""
    return version.next_review_on - timedelta(days=days) if version.next_review_on else None


def review_reminder_due(version: PolicyVersion, today: date, days: int = REVIEW_REMINDER_DAYS) -> bool:
    """Whether HR should have a review reminder for the version by `today` (pure).

    Only for the current version, from `days` before the review date until it is due; a sender that missed
    the first day still sends, so it must send once per `review_reminder_reason`, not once per day.
    """
    return (version.status == "published" and version.next_review_on is not None
            and review_reminder_on(version, days) <= today <= version.next_review_on)


def review_reminder_reason(version: PolicyVersion) -> str:
    """The outbox reason of the version's review reminder: a new review date is a new reminder."""
    return f"{REVIEW_REMINDER_PREFIX}{version.id}:{version.next_review_on.isoformat()}"


def versions_due_review_reminder(today: date, days: int = REVIEW_REMINDER_DAYS) -> list[PolicyVersion]:
    """Every trust's current version whose review reminder is due by `today` (see review_reminder_due)."""
    return list(db.session.scalars(
        select(PolicyVersion).where(PolicyVersion.status == "published", PolicyVersion.next_review_on.is_not(None),
                                    PolicyVersion.next_review_on >= today,
                                    PolicyVersion.next_review_on <= today + timedelta(days=days))
        .order_by(PolicyVersion.trust_id)))


def past_review(trust_id: int, today: date) -> PolicyVersion | None:
    """The trust's current version if it is past its review date (for dashboards), else None."""
    version = published_version(trust_id)
    return version if version is not None and policy_past_review(version, today) else None


def source_in_trust(trust_id: int, source_id: int, *, lock: bool = False) -> PolicySource | None:
    """An uploaded policy source of this trust (None for another trust's id)."""
    query = select(PolicySource).where(PolicySource.id == source_id, PolicySource.trust_id == trust_id)
    return db.session.scalar(query.with_for_update() if lock else query)


def version_from_source(source: PolicySource) -> PolicyVersion | None:
    """The version an upload was saved as, if it has been."""
    return db.session.scalar(select(PolicyVersion).where(PolicyVersion.trust_id == source.trust_id,
                                                         PolicyVersion.source_sha256 == source.sha256))


def superseding_version(version: PolicyVersion) -> PolicyVersion | None:
    """The first later version of the trust's policy to take effect (the one that replaced `version`), if any."""
    return db.session.scalar(select(PolicyVersion).where(
        PolicyVersion.trust_id == version.trust_id, PolicyVersion.series_id == version.series_id,
        PolicyVersion.number > version.number, PolicyVersion.in_force_at.is_not(None)).order_by(PolicyVersion.in_force_at, PolicyVersion.number).limit(1))


@dataclass(frozen=True)
class Changes:
    """What a published version changed since the one it replaced: the clauses added or reworded (new refs),
    and the module numbers whose content changed."""

    #: The version compared with, and its label ("version 1"): plain values, so a cached entry holds no rows.
    base_id: int
    base_label: str
    refs: frozenset[str]
    sections: tuple[str, ...]
    comparison: Comparison


#: Comparisons of published versions, keyed by both versions' ids and source hashes (published text never
#: changes, so an entry never goes stale; a comparison costs a few milliseconds, a module page should not).
_CHANGES: dict[tuple, Changes] = {}


def changes_since(version: PolicyVersion, base: PolicyVersion | None = None) -> Changes | None:
    """What `version` changed since `base` (by default the version it replaced); None when there is none."""
    base = base or base_version(version)
    if base is None or base.id == version.id:
        return None
    key = (version.id, version.source_sha256, base.id, base.source_sha256)
    if key not in _CHANGES:
        if len(_CHANGES) > 64:
            _CHANGES.clear()
        found = comparison(base, version)
        _CHANGES[key] = Changes(base.id, base.label, found.changed_new_refs, tuple(found.changed_sections), found)
    return _CHANGES[key]
