"""Read-only queries for quizzes, attempts, item analytics and bank coverage."""

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select

from modules.assessments.models import AttemptQuestion, Question, QuizAttempt
from modules.core.extensions import db
from modules.core.numbers import percent
from modules.people.models import Trust, User
from modules.policies.models import Clause, PolicyVersion, Section
from modules.policies.rendering import clause_anchor


def latest_passed_attempt(user: User, version: PolicyVersion) -> QuizAttempt | None:
    """The person's most recent passed attempt on the version, if any."""
    return db.session.scalar(
        select(QuizAttempt).where(QuizAttempt.user_id == user.id, QuizAttempt.version_id == version.id,
                                  QuizAttempt.passed.is_(True))
        .order_by(QuizAttempt.finished_at.desc(), QuizAttempt.id.desc()).limit(1))


def attempt_for(user: User, attempt_id: int, *, lock: bool = False) -> QuizAttempt | None:
    """The person's own attempt with that id; None for anyone else's, in any trust (shown as 404).

    With lock=True the row is locked for the rest of the transaction (PostgreSQL; SQLite writers
    already hold the database lock), so a double submission is graded once.
    """
    query = select(QuizAttempt).where(QuizAttempt.id == attempt_id, QuizAttempt.user_id == user.id)
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def open_attempt(user: User, version: PolicyVersion) -> QuizAttempt | None:
    """The person's unfinished attempt on the version, if they have one."""
    return db.session.scalar(
        select(QuizAttempt).where(QuizAttempt.user_id == user.id, QuizAttempt.version_id == version.id,
                                  QuizAttempt.finished_at.is_(None))
        .order_by(QuizAttempt.id.desc()).limit(1))


@dataclass(frozen=True)
class Attempts:
    """A person's attempts on a version, as the quiz page shows them."""

    #: Their unfinished attempt, if any (the newest, should there be more than one).
    open: QuizAttempt | None
    #: Their finished attempts, newest first.
    finished: list[QuizAttempt]
    #: Their most recent passed attempt, if any.
    passed: QuizAttempt | None


def attempts_summary(user: User, version: PolicyVersion) -> Attempts:
    """The person's open, finished and latest passed attempts on the version from one read (the quiz page's;
    the same answers as open_attempt, attempts_for and latest_passed_attempt: a passed attempt is finished)."""
    found = list(db.session.scalars(
        select(QuizAttempt).where(QuizAttempt.user_id == user.id, QuizAttempt.version_id == version.id)))
    unfinished = [a for a in found if a.finished_at is None]
    finished = sorted((a for a in found if a.finished_at is not None), key=lambda a: (a.finished_at, a.id),
                      reverse=True)
    return Attempts(open=max(unfinished, key=lambda a: a.id) if unfinished else None, finished=finished,
                    passed=next((a for a in finished if a.passed), None))


def attempts_for(user: User, version: PolicyVersion) -> list[QuizAttempt]:
    """The person's finished attempts on the version, newest first."""
    return list(db.session.scalars(
        select(QuizAttempt).where(QuizAttempt.user_id == user.id, QuizAttempt.version_id == version.id,
                                  QuizAttempt.finished_at.is_not(None))
        .order_by(QuizAttempt.finished_at.desc(), QuizAttempt.id.desc())))


def has_questions(version: PolicyVersion) -> bool:
    """Whether the version has any question that may reach staff."""
    return db.session.scalar(
        select(func.count()).select_from(Question).where(
            Question.version_id == version.id, Question.active.is_(True), Question.reviewed.is_(True),
            Question.ambiguous.is_(False))) > 0


@dataclass
class ClauseLink:
    """Where a cited clause can be read: its ref and the module (section) it sits in."""

    ref: str
    section_id: int | None
    section_heading: str

    @property
    def anchor(self) -> str:
        """The clause's id on its module page."""
        return clause_anchor(self.ref)


def clause_links(version_id: int, refs: list[str]) -> list[ClauseLink]:
    """The modules holding each cited clause of a version, in the order cited."""
    rows = db.session.execute(
        select(Clause.ref, Section.id, Section.number, Section.title)
        .join(Section, Section.id == Clause.section_id)
        .where(Clause.version_id == version_id, Clause.ref.in_(refs)).order_by(Clause.position)).all()
    found: dict[str, ClauseLink] = {}
    for ref, section_id, number, title in rows:
        if ref not in found:
            sep = " – " if number.startswith(("Appendix", "APPENDIX")) else ". "
            found[ref] = ClauseLink(ref, section_id, f"{number}{sep}{title}" if title else number)
    return [found.get(ref, ClauseLink(ref, None, "")) for ref in refs]


# --------------------------------------------------------------------------- analytics

@dataclass
class ItemStat:
    """How often one question (or clause) was answered correctly."""

    label: str
    detail: str
    answered: int
    correct: int

    @property
    def percent(self) -> int:
        """Percentage answered correctly, rounded to the nearest whole per cent."""
        return percent(self.correct, self.answered)


def item_analytics(trust: Trust) -> tuple[list[ItemStat], list[ItemStat]]:
    """Per question (by bank id) and per cited clause: answered and correct, over the trust's finished attempts.

    Each list is sorted with the least-understood first, so confusing clauses stand out.
    """
    counts = db.session.execute(
        select(AttemptQuestion.question_id, func.count(AttemptQuestion.id),
               func.sum(case((AttemptQuestion.correct.is_(True), 1), else_=0)))
        .join(Question, Question.id == AttemptQuestion.question_id)
        .join(PolicyVersion, PolicyVersion.id == Question.version_id)
        .where(PolicyVersion.trust_id == trust.id, AttemptQuestion.correct.is_not(None))
        .group_by(AttemptQuestion.question_id)).all()
    questions = {q.id: q for q in db.session.scalars(
        select(Question).where(Question.id.in_([c[0] for c in counts])))} if counts else {}
    rows = sorted(((qid, questions[qid].key, questions[qid].stem, questions[qid].clause_refs,
                    questions[qid].section.number, answered, correct) for qid, answered, correct in counts))
    by_key: dict[str, ItemStat] = {}
    by_clause: dict[str, ItemStat] = {}
    sections: dict[str, set[str]] = defaultdict(set)
    for _id, key, stem, refs, section, answered, correct in rows:
        stat = by_key.setdefault(key, ItemStat(key, "", 0, 0))
        stat.detail = stem  # rows are in id order, so the newest wording wins
        stat.answered += answered
        stat.correct += int(correct or 0)
        for ref in refs:
            clause = by_clause.setdefault(ref, ItemStat(ref, "", 0, 0))
            clause.answered += answered
            clause.correct += int(correct or 0)
            sections[ref].add(section)
    for ref, clause in by_clause.items():
        clause.detail = ", ".join(sorted(sections[ref]))
    return sorted(by_key.values(), key=_weakest_first), sorted(by_clause.values(), key=_weakest_first)


def _weakest_first(stat: ItemStat) -> tuple:
    return stat.percent, -stat.answered, stat.label


# --------------------------------------------------------------------------- coverage

@dataclass
class SectionCoverage:
    """One module of a version: whether it states an obligation and how many questions it has."""

    heading: str
    has_obligation: bool
    reviewed: int
    unreviewed: int

    @property
    def covered(self) -> bool:
        """An obligation-bearing module needs at least two reviewed, unambiguous questions."""
        return not self.has_obligation or self.reviewed >= 2


def coverage(version: PolicyVersion) -> list[SectionCoverage]:
    """Each module of the version with its live question counts (reviewed and unambiguous, or not)."""
    counts = defaultdict(lambda: [0, 0])
    for section_id, reviewed, ambiguous in db.session.execute(
            select(Question.section_id, Question.reviewed, Question.ambiguous)
            .where(Question.version_id == version.id, Question.active.is_(True))):
        counts[section_id][0 if reviewed and not ambiguous else 1] += 1
    return [SectionCoverage(s.heading, s.has_obligation, *counts[s.id]) for s in version.sections]


#: The modalities that make a clause an obligation every trust's quiz must ask about (or exclude with a reason).
OBLIGATION_MODALITIES = ("must", "must_not")


@dataclass
class ClauseCoverage:
    """One must / must-not clause of a version and the live, reviewed, unambiguous questions citing it."""

    ref: str
    modality: str
    section_heading: str
    questions: list[str]


def clause_coverage(version: PolicyVersion) -> list[ClauseCoverage]:
    """Every must / must-not clause of the version in document order, with the bank ids that examine it."""
    citing: dict[str, list[str]] = defaultdict(list)
    for key, refs in db.session.execute(
            select(Question.key, Question.clause_refs)
            .where(Question.version_id == version.id, Question.active.is_(True), Question.reviewed.is_(True),
                   Question.ambiguous.is_(False)).order_by(Question.source_line, Question.key)):
        for ref in refs:
            citing[ref].append(key)
    rows: dict[str, ClauseCoverage] = {}
    for section in version.sections:
        for clause in section.clauses:
            if clause.modality in OBLIGATION_MODALITIES and clause.ref not in rows:
                rows[clause.ref] = ClauseCoverage(clause.ref, clause.modality, section.heading, citing[clause.ref])
    return list(rows.values())
