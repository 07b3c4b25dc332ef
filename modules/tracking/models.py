"""Assignment: a person must complete the policy training (read, pass, acknowledge) by a date.

A person has at most one *current* assignment (a partial unique index); the ones before it are history,
kept when they leave. Whether an assignment is overdue is derived from `due_on` and the day asked, never
stored, so it cannot go stale.
"""

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modules.core.extensions import db
from modules.people.models import User
from modules.policies.models import PolicyVersion

INDUCTION, REFRESH, NEW_VERSION = "induction", "refresh", "new_version"
KINDS = {INDUCTION: "Induction", REFRESH: "Annual refresh", NEW_VERSION: "New policy version"}

#: Why an assignment stopped being open without being completed. "exempt": HR exempted the person (with a
#: reason, reversible), e.g. for long-term absence.
CLOSED_LEFT, CLOSED_REPLACED, CLOSED_EXEMPT = "left", "replaced", "exempt"

#: What HR can do about a person's training (TrackingAction.kind), as the history names it.
ACTIONS = {"reminder": "Reminder sent", "invitation": "Set-password invitation sent again",
           "extend": "Deadline extended", "exempt": "Exempted", "unexempt": "Exemption ended",
           "leaver": "Marked as a leaver", "escalation": "Escalated"}


class Assignment(db.Model):
    """Training a person must complete on a policy version (or a later one) by `due_on`."""

    __table_args__ = (
        # A person's history, newest first (the drill-down, completion on acknowledgement).
        Index("ix_assignment_user_id", "user_id", "id"),
        # One current assignment per person.
        Index("uq_assignment_current_user", "user_id", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
        # Dashboards: a trust's open (or complete) current assignments by due date: the overdue list and its
        # count read only the rows they show (bench/dashboard.py).
        Index("ix_assignment_trust_open", "trust_id", "is_current", "completed_at", "closed_on", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust of the person (every dashboard query starts here).
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"))
    #: Who must complete it.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    #: The policy version current when it was assigned; acknowledging it or any later version completes it.
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_version.id"), index=True)
    #: "induction", "refresh" or "new_version".
    kind: Mapped[str] = mapped_column(String(20))
    #: The London date it was assigned on.
    assigned_on: Mapped[date]
    #: The last London date on which completing it is on time.
    due_on: Mapped[date]
    #: True for the person's current assignment; older ones are history.
    is_current: Mapped[bool] = mapped_column(default=True)
    #: When it was completed (the acknowledgement's time, UTC); null while open.
    completed_at: Mapped[datetime | None]
    #: The acknowledgement that completed it.
    acknowledgement_id: Mapped[int | None] = mapped_column(ForeignKey("acknowledgement.id"))
    #: When it stopped being open without completion (the person left, or a new version replaced it).
    closed_on: Mapped[date | None]
    #: "left" or "replaced".
    closed_reason: Mapped[str | None] = mapped_column(String(20))
    #: When the row was written, UTC.
    created_at: Mapped[datetime]
    #: Set when `due_on` is an earlier version's deadline that had already passed when this version was
    #: assigned: lateness is never wiped by a new version. Null: the deadline is this assignment's own.
    deadline_version_id: Mapped[int | None] = mapped_column(ForeignKey("policy_version.id"))

    user: Mapped[User] = relationship()
    version: Mapped[PolicyVersion] = relationship(foreign_keys=[version_id])
    deadline_version: Mapped[PolicyVersion | None] = relationship(foreign_keys=[deadline_version_id])

    @property
    def kind_label(self) -> str:
        """How the kind is named in the interface, e.g. "Annual refresh"."""
        return KINDS.get(self.kind, self.kind)

    def status(self, today: date) -> str:
        """complete, exempt, closed, overdue or due on the given London date."""
        if self.completed_at is not None:
            return "complete"
        if self.closed_reason == CLOSED_EXEMPT:
            return "exempt"
        if self.closed_on is not None:
            return "closed"
        return "overdue" if self.due_on < today else "due"


#: Indexes the dashboards need on other features' tables, declared here with the queries that use them
#: (created by migration 0005; measured with bench/dashboard.py at 50,000 staff):
#: - a trust's active staff in name order: the staff list's first page without sorting 50,000 rows, and
#:   index-only head counts.
USER_TRUST_ACTIVE_NAME = Index("ix_user_trust_active_name", User.__table__.c.trust_id, User.__table__.c.active,
                               User.__table__.c.name)


class TrackingAction(db.Model):
    """Something done about a person's training on HR's initiative (or the escalation rule's): the audit trail
    shown on their history. Never edited; a reversal (ending an exemption) is an action of its own."""

    __table_args__ = (Index("ix_tracking_action_user_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust of the person acted on.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"))
    #: Who it was about.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    #: Who did it; null for the daily run's escalations.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: One of ACTIONS.
    kind: Mapped[str] = mapped_column(String(20))
    #: The reason HR gave (extensions and exemptions), as typed.
    reason: Mapped[str | None] = mapped_column(Text)
    #: What changed, e.g. {"from": "2026-10-01", "to": "2026-12-01"} or {"to": "line_manager"}.
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    #: When, UTC.
    created_at: Mapped[datetime]

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])

    @property
    def label(self) -> str:
        """How the history names the action."""
        return ACTIONS.get(self.kind, self.kind)


#: TrackingTally.due_on of the states that have no due date (the key columns cannot be NULL).
NO_DATE = date(1900, 1, 1)


class TrackingTally(db.Model):
    """How many active people of a trust, academy and line manager are in each state: the dashboards' counts
    without reading every person. Kept by database triggers on "user" and assignment (migration 0024) in the
    same transaction as every change; never written by the app. Rows whose count fell to 0 stay, harmlessly."""

    __tablename__ = "tracking_tally"

    #: The trust.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), primary_key=True)
    #: The people's academy; 0 for the central team (no academy).
    academy_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: Their line manager; 0 for none.
    manager_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: "complete", "exempt", "unassigned" or "open" (due or overdue: it depends on the day asked).
    state: Mapped[str] = mapped_column(String(12), primary_key=True)
    #: An open assignment's last day on time; NO_DATE for the other states.
    due_on: Mapped[date] = mapped_column(primary_key=True)
    #: How many people.
    people: Mapped[int]


class TrackingCompletionDay(db.Model):
    """How many active people of a trust and academy completed their current assignment on a day: the
    completion-over-time chart without reading every person. Kept by the same triggers as TrackingTally."""

    __tablename__ = "tracking_completion_day"

    #: The trust.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), primary_key=True)
    #: Their academy; 0 for the central team.
    academy_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: The UTC date of the completion.
    completed_on: Mapped[date] = mapped_column(primary_key=True)
    #: Completed 23:00-23:59 UTC: the next London day when London is on summer time.
    late: Mapped[bool] = mapped_column(primary_key=True)
    #: How many people.
    people: Mapped[int]


class TrackingTallyAcademy(db.Model):
    """TrackingTally with line managers summed out: active people per trust, academy, state and due date (the
    headline and completion by academy read a row per academy and due date, not one per line manager too).
    Kept by triggers on tracking_tally (migration 0029), in the same transaction; never written by the app."""

    __tablename__ = "tracking_tally_academy"

    #: The trust.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), primary_key=True)
    #: The people's academy; 0 for the central team.
    academy_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: As TrackingTally.state.
    state: Mapped[str] = mapped_column(String(12), primary_key=True)
    #: As TrackingTally.due_on.
    due_on: Mapped[date] = mapped_column(primary_key=True)
    #: How many people.
    people: Mapped[int]


class TrackingTallyTeam(db.Model):
    """TrackingTally with due dates summed out: active people per trust, line manager, academy and state ("open"
    is due or overdue), for per cent complete by team. Kept by triggers on tracking_tally (migration 0029)."""

    __tablename__ = "tracking_tally_team"

    #: The trust.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), primary_key=True)
    #: Their line manager; 0 for none (first, so a trust's rows come in team order).
    manager_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: Their academy; 0 for the central team.
    academy_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: As TrackingTally.state.
    state: Mapped[str] = mapped_column(String(12), primary_key=True)
    #: How many people.
    people: Mapped[int]
