"""Read-only queries for training pages."""

from dataclasses import dataclass

from sqlalchemy import select

from modules.core.extensions import db
from modules.people.models import User
from modules.policies.models import PolicyVersion, Section
from modules.training.models import ModuleProgress


@dataclass
class ModuleRow:
    """A module in the list, with whether the person has read it."""

    section: Section
    read: bool


def current_version(trust_id: int) -> PolicyVersion | None:
    """The trust's published policy version, if any."""
    return db.session.scalar(select(PolicyVersion).where(PolicyVersion.trust_id == trust_id,
                                                         PolicyVersion.status == "published"))


def read_section_ids(user: User, version: PolicyVersion) -> set[int]:
    """Ids of the version's sections the person has marked read."""
    return set(db.session.scalars(
        select(ModuleProgress.section_id).join(Section, Section.id == ModuleProgress.section_id)
        .where(ModuleProgress.user_id == user.id, Section.version_id == version.id)))


def modules_for(user: User, version: PolicyVersion) -> list[ModuleRow]:
    """The version's modules in document order, each with the person's progress."""
    done = read_section_ids(user, version)
    return [ModuleRow(section=s, read=s.id in done) for s in version.sections]


def section_for_user(user: User, section_id: int) -> Section | None:
    """A module of the person's own trust's current version; None for anything else (shown as 404)."""
    section = db.session.get(Section, section_id)
    if section is None or section.version.trust_id != user.trust_id or section.version.status != "published":
        return None
    return section


def all_read(user: User, version: PolicyVersion) -> bool:
    """Whether the person has read every module of the version."""
    return len(read_section_ids(user, version)) == len(version.sections)
