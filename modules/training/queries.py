"""Read-only queries for training pages."""

from dataclasses import dataclass
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from modules.core.extensions import db
from modules.people.models import Trust, User
from modules.policies.models import PolicySeries, PolicyVersion, Section
from modules.policies.queries import published_version
from modules.training.models import ModuleProgress


@dataclass
class ModuleRow:
    """A module in the list, with whether the person has read it and whether it must be read."""

    section: Section
    read: bool
    compulsory: bool = True


def current_version(trust_id: int, series: PolicySeries | None = None) -> PolicyVersion | None:
    """The published version of one of the trust's policies (default: the series that gates the register)."""
    return published_version(trust_id, series)


def read_section_ids(user: User, version: PolicyVersion) -> set[int]:
    """Ids of the version's sections the person has marked read."""
    return set(db.session.scalars(
        select(ModuleProgress.section_id).join(Section, Section.id == ModuleProgress.section_id)
        .where(ModuleProgress.user_id == user.id, Section.version_id == version.id)))


def is_compulsory(section: Section, trust: Trust) -> bool:
    """Whether the module must be read: all are, except an appendix that is a blank form or a template,
    unless the trust's rule form_appendices_compulsory says those must be read too."""
    return not section.is_form or trust.rules.form_appendices_compulsory


def online_form_for(section: Section, trust: Trust) -> str | None:
    """The title of the trust's online request form, when it is this appendix made online (the rule
    request_form cites the appendix), else None."""
    form = trust.rules.request_form
    return form.title if form and section.is_form and section.number in form.clauses else None


def compulsory_section_ids(version: PolicyVersion) -> set[int]:
    """Ids of the version's modules that must be read before the quiz."""
    trust = db.session.get(Trust, version.trust_id)
    return {s.id for s in version.sections if is_compulsory(s, trust)}


def modules_for(user: User, version: PolicyVersion) -> list[ModuleRow]:
    """The version's modules in document order, each with the person's progress and whether it is compulsory."""
    done = read_section_ids(user, version)
    compulsory = compulsory_section_ids(version)
    return [ModuleRow(section=s, read=s.id in done, compulsory=s.id in compulsory) for s in version.sections]


@cache
def _section_with_version():
    # Built once and reused (the module page's main read): SQLAlchemy neither rebuilds it nor works out its cache
    # key on each view. The page shows the version and its neighbouring modules: loaded with it, not lazily.
    return (select(Section).where(Section.id == bindparam("section_id"))
            .options(joinedload(Section.version).selectinload(PolicyVersion.sections)))


def section_in_trust(user: User, section_id: int) -> Section | None:
    """A module of any version of the person's own trust's policy; None for another trust's (shown as 404)."""
    section = db.session.scalar(_section_with_version(), {"section_id": section_id})
    return section if section is not None and section.version.trust_id == user.trust_id else None


def section_for_user(user: User, section_id: int) -> Section | None:
    """A module of the person's own trust's current version; None for anything else (shown as 404)."""
    section = db.session.get(Section, section_id)
    if section is None or section.version.trust_id != user.trust_id or section.version.status != "published":
        return None
    return section


def all_read(user: User, version: PolicyVersion) -> bool:
    """Whether the person has read every compulsory module of the version."""
    return compulsory_section_ids(version) <= read_section_ids(user, version)


def reading_progress(user: User, version: PolicyVersion) -> tuple[int, int]:
    """(compulsory modules read, compulsory modules) for the version."""
    compulsory = compulsory_section_ids(version)
    return len(compulsory & read_section_ids(user, version)), len(compulsory)
