"""A member of staff's own standing, for their home page: what is due and by when (or overdue since when),
reading and quiz progress, the acknowledgement, the certificate with its status, and what changed since the
version they last signed. Read-only; the training home page receives it through modules/wiring.py."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from modules.assessments.models import QuizAttempt
from modules.assessments.queries import attempts_for, latest_passed_attempt, open_attempt
from modules.attestation.models import ACKNOWLEDGED, Acknowledgement
from modules.attestation.queries import current_acknowledgement
from modules.certificates.queries import CertificateRow, standing
from modules.certificates.services import latest_certificate
from modules.certificates.status import london_day
from modules.core.extensions import db
from modules.people.models import User
from modules.policies.models import PolicySeries, PolicyVersion, Section
from modules.policies.queries import Changes, changes_since, register_series
from modules.tracking.models import Assignment
from modules.training.queries import current_version, modules_for

#: What the person should do next.
READ, QUIZ, ACKNOWLEDGE, DONE = "read", "quiz", "acknowledge", "done"


@dataclass
class StaffStanding:
    """Where the person stands on their trust's policy today."""

    today: date
    version: PolicyVersion | None
    assignment: Assignment | None = None
    #: complete, due, overdue, exempt or unassigned (as on HR's dashboards).
    status: str = "unassigned"
    modules_read: int = 0
    modules_total: int = 0
    #: The first compulsory module not read yet.
    next_module: Section | None = None
    #: Modules whose content changed since the version the person last signed (numbers).
    changed_modules: tuple[str, ...] = ()
    passed: QuizAttempt | None = None
    open_attempt: QuizAttempt | None = None
    attempts: int = 0
    acknowledged_at: datetime | None = None
    certificate: CertificateRow | None = None
    #: What the version in force changed since the one the person last signed (while they retrain).
    changes: Changes | None = None

    @property
    def due_on(self) -> date | None:
        """The last day to complete it on time, while it is open."""
        return self.assignment.due_on if self.status in ("due", "overdue") else None

    @property
    def overdue_since(self) -> date | None:
        """The first day it was overdue (None unless overdue)."""
        return self.assignment.due_on + timedelta(days=1) if self.status == "overdue" else None

    @property
    def deadline_version(self) -> PolicyVersion | None:
        """The earlier version whose deadline still applies (lateness survives a new version), if any."""
        return self.assignment.deadline_version if self.assignment is not None else None

    @property
    def days_left(self) -> int | None:
        """Days until the due date (0 on the day), while it is due."""
        return (self.assignment.due_on - self.today).days if self.status == "due" else None

    @property
    def answered(self) -> int:
        """Questions answered so far in the open attempt (its saved draft)."""
        return sum(1 for item in self.open_attempt.items if item.chosen) if self.open_attempt else 0

    @property
    def next_step(self) -> str:
        """read, quiz, acknowledge or done."""
        if self.acknowledged_at is not None:
            return DONE
        if self.next_module is not None:
            return READ
        return ACKNOWLEDGE if self.passed is not None else QUIZ


def _last_signed_before(user: User, version: PolicyVersion) -> PolicyVersion | None:
    """The latest earlier version of the policy the person acknowledged, if any."""
    number = db.session.scalar(
        select(func.max(PolicyVersion.number)).join(Acknowledgement, Acknowledgement.version_id == PolicyVersion.id)
        .where(Acknowledgement.user_id == user.id, Acknowledgement.decision == ACKNOWLEDGED,
               PolicyVersion.trust_id == user.trust_id, PolicyVersion.series_id == version.series_id,
               PolicyVersion.number < version.number))
    if number is None:
        return None
    return db.session.scalar(select(PolicyVersion).where(PolicyVersion.trust_id == user.trust_id,
                                                         PolicyVersion.number == number))


def staff_standing(user: User, now: datetime, series: PolicySeries | None = None) -> StaffStanding:
    """The person's standing at `now` in one of the trust's policies (default: the register's, see StaffStanding).
    Assignments (deadlines) track the register's policy only; another policy's standing has none."""
    today = london_day(now)
    chosen = series or register_series(user.trust_id)
    version = current_version(user.trust_id, chosen)
    found = StaffStanding(today=today, version=version)
    tracked = series is None or chosen is None or chosen.id == getattr(register_series(user.trust_id), "id", None)
    found.assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == user.id,
                                                                  Assignment.is_current.is_(True))) if tracked else None
    if found.assignment is not None:
        status = found.assignment.status(today)
        found.status = "unassigned" if status == "closed" else status
    latest = latest_certificate(user, chosen.id if chosen is not None else None)
    found.certificate = standing(latest, now) if latest is not None else None
    if version is None:
        return found
    rows = modules_for(user, version)
    found.modules_total = sum(1 for r in rows if r.compulsory)
    found.modules_read = sum(1 for r in rows if r.compulsory and r.read)
    found.next_module = next((r.section for r in rows if r.compulsory and not r.read), None)
    found.passed = latest_passed_attempt(user, version)
    found.open_attempt = open_attempt(user, version)
    found.attempts = len(attempts_for(user, version))
    acknowledgement = current_acknowledgement(user.id, version.id)
    found.acknowledged_at = acknowledgement.created_at if acknowledgement is not None else None
    if found.acknowledged_at is not None:
        found.status = "complete"
    else:
        signed = _last_signed_before(user, version)
        found.changes = changes_since(version, signed) if signed is not None else None
        found.changed_modules = found.changes.sections if found.changes else ()
    return found
