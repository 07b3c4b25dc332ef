"""Question (per policy version, loaded from quizzes/<slug>.yaml), QuizAttempt, the drawn AttemptQuestion, and\nQuizScope (who is asked only about a new version's changes)."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modules.core.extensions import db
from modules.policies.models import PolicyVersion, Section


class Question(db.Model):
    """A bank question as it applies to one policy version (a version containing every clause it cites).

    A question that an attempt has used is never edited: a changed bank entry retires it (active=False)
    and a new row carries the new wording, so old attempts keep the exact question their answers refer to.
    """

    __table_args__ = (
        # At most one live row per bank id and version; retired rows keep their history.
        Index("uq_question_version_key_active", "version_id", "key", unique=True,
              sqlite_where=text("active"), postgresql_where=text("active")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The policy version it applies to.
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_version.id", ondelete="CASCADE"), index=True)
    #: The module (section of that version) it belongs to.
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"), index=True)
    #: The stable id from the bank, e.g. "tkat-pupil-friend-request".
    key: Mapped[str] = mapped_column(String(120))
    #: The shared-core scenario id, same in all five banks; null for trust-specific questions.
    core_id: Mapped[str | None] = mapped_column(String(120))
    #: single / multiple / true_false (see modules/assessments/types.py).
    type: Mapped[str] = mapped_column(String(20))
    #: The scenario in plain words.
    stem: Mapped[str] = mapped_column(Text)
    #: [{"id", "text", "feedback"}] in bank order.
    options: Mapped[list] = mapped_column(JSON)
    #: Ids of the correct options.
    correct: Mapped[list] = mapped_column(JSON)
    #: Why the right answer is right, naming the clause.
    explanation: Mapped[str] = mapped_column(Text)
    #: Words quoted from one of the cited clauses.
    quote: Mapped[str] = mapped_column(Text)
    #: Normalised clause refs it tests, e.g. ["3.3.1"].
    clause_refs: Mapped[list] = mapped_column(JSON)
    #: Only reviewed questions reach staff.
    reviewed: Mapped[bool] = mapped_column(default=False)
    #: Ambiguous or self-contradictory clause: never graded, never drawn.
    ambiguous: Mapped[bool] = mapped_column(default=False)
    #: What is ambiguous and why (required when ambiguous).
    note: Mapped[str] = mapped_column(Text, default="")
    #: The policy says nothing on the scenario (the bank's `silent`): kept so a bank exported from here reads back.
    silent: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: sha256 of the bank entry's content, to tell a changed question from an unchanged one on re-sync.
    content_sha256: Mapped[str] = mapped_column(String(64))
    #: The bank file and line it came from, e.g. "quizzes/tkat.yaml", 12.
    source_file: Mapped[str] = mapped_column(String(300))
    #: Line of the entry in the bank file.
    source_line: Mapped[int]
    #: False once the bank no longer has this wording (removed or changed); kept for old attempts.
    active: Mapped[bool] = mapped_column(default=True)
    #: When this row was loaded, UTC.
    loaded_at: Mapped[datetime]

    version: Mapped[PolicyVersion] = relationship()
    section: Mapped[Section] = relationship()

    @property
    def drawable(self) -> bool:
        """Whether staff may be asked it: live, reviewed and unambiguous."""
        return self.active and self.reviewed and not self.ambiguous


class QuestionAuthorship(db.Model):
    """Who wrote a question in the browser and who reviewed it (none for a bank file's question: the repository's
    review of quizzes/<slug>.yaml is its review)."""

    #: The question.
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), primary_key=True)
    #: Who last wrote or changed it (a reviewer must be someone else).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    #: Who approved it; null while unreviewed.
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    #: When it was approved, UTC.
    reviewed_at: Mapped[datetime | None]
    #: When it was last written or changed, UTC.
    changed_at: Mapped[datetime]

    question: Mapped[Question] = relationship()


class BrowserBank(db.Model):
    """A policy version whose quiz is written in the browser: `flask content sync` leaves its questions and
    exclusions alone (quizzes/<slug>.yaml no longer manages it; export and import carry it as YAML)."""

    #: The version.
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_version.id", ondelete="CASCADE"), primary_key=True)
    #: Who started writing it in the browser.
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    #: When, UTC.
    started_at: Mapped[datetime]


class ClauseExclusion(db.Model):
    """A must / must-not clause of a version that its quiz deliberately does not examine, and why (the bank's
    `not_examined`)."""

    __table_args__ = (UniqueConstraint("version_id", "clause_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The version.
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_version.id", ondelete="CASCADE"), index=True)
    #: The clause's normalised ref.
    clause_ref: Mapped[str] = mapped_column(String(40))
    #: Why it is not examined.
    reason: Mapped[str] = mapped_column(Text)
    #: Who excluded it in the browser; null when it came from the bank file.
    excluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    #: When, UTC.
    created_at: Mapped[datetime]


class ExclusionReview(db.Model):
    """Who approved leaving a clause out of the quiz in the browser (a second person, never who left it out). An
    exclusion from the bank file needs none: the repository's review of quizzes/<slug>.yaml is its review."""

    #: The exclusion.
    exclusion_id: Mapped[int] = mapped_column(ForeignKey("clause_exclusion.id", ondelete="CASCADE"),
                                              primary_key=True)
    #: Who approved it.
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: When, UTC.
    reviewed_at: Mapped[datetime]


class QuizAttempt(db.Model):
    """One sitting of a trust's quiz by one person on one policy version; every attempt is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who sat it.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: The policy version it was drawn from.
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_version.id"), index=True)
    #: When the questions were drawn, UTC.
    started_at: Mapped[datetime]
    #: When the answers were submitted and graded, UTC; null while open.
    finished_at: Mapped[datetime | None]
    #: Percentage correct (0–100, rounded down); null while open.
    score: Mapped[int | None]
    #: Whether the score reached the pass mark; null while open.
    passed: Mapped[bool | None]
    #: The trust's pass mark (per cent) when the attempt started.
    pass_mark: Mapped[int]
    #: "full" (the whole policy) or "changes" (only questions on what changed since the version before).
    scope: Mapped[str] = mapped_column(String(10), default="full", server_default="full")

    version: Mapped[PolicyVersion] = relationship()
    items: Mapped[list["AttemptQuestion"]] = relationship(back_populates="attempt",
                                                          order_by="AttemptQuestion.position",
                                                          cascade="all, delete-orphan")


class QuizScope(db.Model):
    """A person whose quiz on a version asks only about what changed: they held a current acknowledgement of
    the version it replaced when it was published (written by tracking's new-version hook)."""

    __table_args__ = (UniqueConstraint("user_id", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The person.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: The new version.
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_version.id", ondelete="CASCADE"), index=True)
    #: When it was recorded, UTC.
    created_at: Mapped[datetime]


class AttemptQuestion(db.Model):
    """A question drawn for an attempt: its place, the order its options were shown in, and the answer."""

    __table_args__ = (UniqueConstraint("attempt_id", "position"), UniqueConstraint("attempt_id", "question_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The attempt it was drawn for.
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempt.id", ondelete="CASCADE"), index=True)
    #: The question (the exact wording shown).
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    #: 1-based order on the page.
    position: Mapped[int]
    #: Option ids in the shuffled order shown.
    option_order: Mapped[list] = mapped_column(JSON)
    #: Option ids chosen. While the attempt is open: the answer saved so far (a draft; null if none yet);
    #: once submitted: the answer graded.
    chosen: Mapped[list | None] = mapped_column(JSON)
    #: Whether the answer was right; null until submitted.
    correct: Mapped[bool | None]

    attempt: Mapped[QuizAttempt] = relationship(back_populates="items")
    question: Mapped[Question] = relationship()
