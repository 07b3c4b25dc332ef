"""Assessment use-cases: load quiz banks at content sync, start and submit attempts. Add and flush; never commit."""

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import exists, func, select

from modules.assessments import types
from modules.assessments.bank import Bank, BankError, VersionText, match_versions, read_bank
from modules.assessments.drawing import draw, shuffled
from modules.assessments.grading import Grade, ItemKey, grade
from modules.assessments.models import (
    AttemptQuestion,
    BrowserBank,
    ClauseExclusion,
    Question,
    QuizAttempt,
    QuizScope,
)
from modules.assessments.types import AnswerError
from modules.core.extensions import db
from modules.people.models import Trust, User
from modules.policies.diff import questions_citing_changes
from modules.policies.models import PolicyVersion
from modules.policies.queries import base_version, comparison
from modules.policies.services import ContentError
from modules.training.queries import all_read

#: Form fields a quiz submission may carry besides its answers.
SUBMISSION_EXTRAS = frozenset({"csrf_token"})


class QuizError(ValueError):
    """A quiz use-case was refused; the message is for the person."""


class QuizNotOpen(QuizError):
    """The quiz is not open to this person yet (modules unread, or no questions)."""


class TamperedSubmission(QuizError):
    """A submission no honest form could have sent; it is refused with a 400 and nothing is recorded."""


@dataclass
class BankSyncReport:
    """What loading the quiz banks did, per trust slug."""

    loaded: dict[str, int] = field(default_factory=dict)
    added: int = 0
    updated: int = 0
    retired: int = 0
    removed: int = 0


def field_name(item: AttemptQuestion) -> str:
    """The form field that carries the answer to a drawn question."""
    return f"q{item.position}"


# --------------------------------------------------------------------------- loading banks

def version_texts(trust: Trust) -> list[VersionText]:
    """The trust's policy versions as the bank checker needs them."""
    texts = []
    for version in db.session.scalars(select(PolicyVersion).where(PolicyVersion.trust_id == trust.id)
                                      .order_by(PolicyVersion.number)):
        clauses: dict[str, str] = {}
        for section in version.sections:
            for clause in section.clauses:
                clauses[clause.ref] = f"{clauses[clause.ref]}\n{clause.text}" if clause.ref in clauses else clause.text
        texts.append(VersionText(key=version.id, label=version.label,
                                 sections=frozenset(s.number for s in version.sections), clauses=clauses))
    return texts


def _used_question_ids(question_ids: Sequence[int]) -> set[int]:
    if not question_ids:
        return set()
    return set(db.session.scalars(select(AttemptQuestion.question_id)
                                  .where(AttemptQuestion.question_id.in_(question_ids)).distinct()))


def fill_question(row: Question, question, *, section_id: int, source_file: str, source_line: int,
                  now: datetime) -> None:
    """Write a bank question (from a file or the browser) onto its row."""
    row.section_id = section_id
    row.core_id = question.core_id
    row.type = question.type
    row.stem = question.stem
    row.options = [dict(o) for o in question.options]
    row.correct = list(question.correct)
    row.explanation = question.explanation
    row.quote = question.quote
    row.clause_refs = list(question.clauses)
    row.reviewed = question.reviewed
    row.ambiguous = question.ambiguous
    row.note = question.note
    row.silent = question.silent
    row.content_sha256 = question.content_sha256()
    row.source_file = source_file
    row.source_line = source_line
    row.loaded_at = now


def _fill(row: Question, bank: Bank, question, section_id: int, now: datetime) -> None:
    fill_question(row, question, section_id=section_id, source_file=bank.file, source_line=question.line, now=now)


def sync_trust_bank(trust: Trust, bank: Bank | None, *, now: datetime, report: BankSyncReport) -> None:
    """Make the trust's live questions match its bank, version by version.

    Unchanged questions are left alone (re-sync is idempotent). A changed question is updated in place
    while no attempt has used it; once used it is retired and its new wording becomes a new row, so an
    old attempt always shows the question its answers were given to. No bank means no live questions.
    A version whose quiz is written in the browser (BrowserBank) is left alone: the file no longer manages it.
    The bank's `not_examined` clauses are recorded for each version that has them (ClauseExclusion).
    """
    applies = match_versions(bank, version_texts(trust), trust.short_name) if bank else {}
    versions = db.session.scalars(select(PolicyVersion).where(PolicyVersion.trust_id == trust.id)).all()
    in_browser = set(db.session.scalars(select(BrowserBank.version_id)))
    for version in versions:
        if version.id in in_browser:
            continue
        _sync_exclusions(version, bank, now=now)
        section_ids = {s.number: s.id for s in version.sections}
        wanted = {q.id: q for q in (bank.questions if bank else []) if version.id in applies.get(q.id, [])}
        existing = {row.key: row for row in db.session.scalars(
            select(Question).where(Question.version_id == version.id, Question.active.is_(True)))}
        used = _used_question_ids([row.id for row in existing.values()])
        for key, row in existing.items():
            question = wanted.get(key)
            if question is not None and row.content_sha256 == question.content_sha256():
                row.source_file, row.source_line = bank.file, question.line
                row.silent = question.silent  # rows loaded before the column existed
                continue
            if row.id in used:
                row.active = False
                report.retired += 1
            elif question is None:
                db.session.delete(row)
                report.removed += 1
            else:
                _fill(row, bank, question, section_ids[question.section], now)
                report.updated += 1
        db.session.flush()  # retired rows leave the partial unique index before their successors arrive
        for key, question in wanted.items():
            row = existing.get(key)
            if row is not None and row.active:
                continue  # unchanged, or updated in place above
            new = Question(version_id=version.id, key=key, active=True)
            _fill(new, bank, question, section_ids[question.section], now)
            db.session.add(new)
            report.added += 1
        db.session.flush()
    if bank:
        report.loaded[trust.slug] = len(bank.questions)


def _sync_exclusions(version: PolicyVersion, bank: Bank | None, *, now: datetime) -> None:
    """Make the version's excluded clauses match the bank's not_examined (those the version has)."""
    refs = {c.ref for s in version.sections for c in s.clauses}
    wanted = {e.clause: e.reason for e in (bank.not_examined if bank else []) if e.clause in refs}
    for row in db.session.scalars(select(ClauseExclusion).where(ClauseExclusion.version_id == version.id)):
        if wanted.get(row.clause_ref) == row.reason:
            del wanted[row.clause_ref]
        else:
            db.session.delete(row)
    db.session.flush()
    db.session.add_all(ClauseExclusion(version_id=version.id, clause_ref=ref, reason=reason, created_at=now)
                       for ref, reason in wanted.items())


def draw_size_problems(trust: Trust) -> list[str]:
    """Reasons the trust's N (quiz_questions) cannot draw a covering quiz from its live versions (a draft written in
    the browser is left to its publishing check)."""
    problems = []
    n = trust.rules.quiz_questions  # its type and range are checked with the rest of the rules
    in_browser = set(db.session.scalars(select(BrowserBank.version_id)))
    for version in db.session.scalars(select(PolicyVersion).where(PolicyVersion.trust_id == trust.id,
                                                                  PolicyVersion.status != "superseded")):
        if version.status == "draft" and version.id in in_browser:
            continue
        pool = drawable_questions(version)
        if not pool:
            continue
        modules = {q.section_id for q in pool}
        if len(modules) > n:
            problems.append(
                f"content/trusts.yaml: {trust.short_name} draws {n} questions per attempt (quiz_questions), "
                f"but {len(modules)} modules of {version.label} have reviewed, unambiguous questions and every "
                f"attempt must cover each of them: set quiz_questions to at least {len(modules)}")
        elif len(pool) < n:
            problems.append(
                f"content/trusts.yaml: {trust.short_name} draws {n} questions per attempt (quiz_questions), "
                f"but {version.label} has only {len(pool)} reviewed, unambiguous questions")
    return problems


def quiz_size_problems(trust: Trust, n: int) -> list[str]:
    """Why the trust's published quizzes (one per policy) cannot ask `n` questions per attempt (empty when they
    can): a draft's quiz is checked when it is published."""
    problems = []
    for version in db.session.scalars(select(PolicyVersion).where(PolicyVersion.trust_id == trust.id,
                                                                  PolicyVersion.status == "published")
                                      .order_by(PolicyVersion.id)):
        pool = drawable_questions(version)
        if not pool:
            continue
        modules = len({q.section_id for q in pool})
        if len(pool) < n:
            problems.append(f"The published quiz of {version.title} ({version.label}) has {len(pool)} reviewed "
                            f"questions, so each attempt can ask at most {len(pool)}")
        elif modules > n:
            problems.append(f"Every attempt asks about each of the {modules} modules of {version.title} "
                            f"({version.label}) with reviewed questions, so each attempt must ask at least {modules}")
    return problems


def sync_banks(quizzes_dir: Path, *, now: datetime) -> BankSyncReport:
    """Load quizzes/<slug>.yaml for every trust; any problem raises ContentError and nothing should be kept."""
    report = BankSyncReport()
    problems: list[str] = []
    trusts = db.session.scalars(select(Trust).where(Trust.platform.is_(False)).order_by(Trust.slug)).all()
    slugs = {t.slug for t in trusts}
    for path in sorted(quizzes_dir.glob("*.yaml")):
        if path.stem not in slugs:
            problems.append(f"{_display(path)}:1: no trust {path.stem!r} in content/trusts.yaml for this bank")
    for trust in trusts:
        path = quizzes_dir / f"{trust.slug}.yaml"
        try:
            bank = read_bank(path, _display(path)) if path.exists() else None
            sync_trust_bank(trust, bank, now=now, report=report)
        except BankError as exc:
            problems.extend(str(p) for p in exc.problems)
            continue
        problems.extend(draw_size_problems(trust))
    if problems:
        raise ContentError("quiz banks:\n" + "\n".join(problems))
    return report


def _display(path: Path) -> str:
    """A bank's path as shown in messages: relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- attempts

def drawable_questions(version: PolicyVersion) -> list[Question]:
    """The version's questions that may reach staff: live, reviewed and unambiguous."""
    return list(db.session.scalars(select(Question).where(*_drawable(version)).order_by(Question.id)))


def _drawable(version: PolicyVersion) -> tuple:
    """The conditions on Question for drawable_questions (one definition, also counted by quiz_outline)."""
    return (Question.version_id == version.id, Question.active.is_(True), Question.reviewed.is_(True),
            Question.ambiguous.is_(False))


FULL, CHANGES = "full", "changes"


@dataclass(frozen=True)
class QuizPlan:
    """What the person's next attempt on a version draws from, and how many questions it asks."""

    scope: str
    pool: list[Question]
    size: int


def quiz_plan(user: User, version: PolicyVersion) -> QuizPlan:
    """The whole bank, or, for someone recorded as re-training on the changes (QuizScope), only the questions
    citing clauses added or reworded since the version before; the whole bank if none does."""
    pool = drawable_questions(version)
    size = user.trust.rules.quiz_questions
    limited = db.session.scalar(select(QuizScope.id).where(QuizScope.user_id == user.id,
                                                           QuizScope.version_id == version.id))
    base = base_version(version) if limited is not None and pool else None
    if base is not None:
        changed = questions_citing_changes(comparison(base, version), pool)
        if changed:
            modules = len({q.section_id for q in changed})
            return QuizPlan(CHANGES, changed, min(len(changed), max(size, modules)))
    return QuizPlan(FULL, pool, min(size, len(pool)))


@dataclass(frozen=True)
class QuizOutline:
    """What the quiz page says of the person's next attempt: its scope, how many questions it asks, and how many
    questions may reach staff at all (0: the quiz is not ready)."""

    scope: str
    size: int
    available: int


def quiz_outline(user: User, version: PolicyVersion) -> QuizOutline:
    """quiz_plan's scope and size without loading the bank: one COUNT, unless the person re-trains on the changes
    (then the plan itself, which must read the questions' clauses)."""
    # Both figures in one statement (the quiz page's own reads), not a statement each.
    available, limited = db.session.execute(select(
        select(func.count()).select_from(Question).where(*_drawable(version)).scalar_subquery(),
        exists().where(QuizScope.user_id == user.id, QuizScope.version_id == version.id))).one()
    if available and limited:
        plan = quiz_plan(user, version)
        return QuizOutline(plan.scope, plan.size, available)
    return QuizOutline(FULL, min(user.trust.rules.quiz_questions, available), available)


def limit_to_changes(version: PolicyVersion, user_ids: Sequence[int], *, now: datetime) -> int:
    """Record that these people's quiz on the version asks only about its changes (idempotent); returns
    how many were new."""
    known = set(db.session.scalars(select(QuizScope.user_id).where(QuizScope.version_id == version.id)))
    rows = [QuizScope(user_id=user_id, version_id=version.id, created_at=now)
            for user_id in dict.fromkeys(user_ids) if user_id not in known]
    db.session.add_all(rows)
    db.session.flush()
    return len(rows)


def start_attempt(user: User, version: PolicyVersion, *, now: datetime,
                  rng: random.Random | None = None) -> QuizAttempt:
    """Draw a fresh attempt: N questions covering every module that has one (or, for someone re-training on a
    new version's changes, the questions on those changes), options shuffled.

    Refused (QuizNotOpen) until the person has read every module of the version.
    """
    if version.trust_id != user.trust_id:
        raise QuizError("That quiz is not for your trust.")
    if not all_read(user, version):
        raise QuizNotOpen("Read every module before you take the quiz.")
    plan = quiz_plan(user, version)
    if not plan.pool:
        raise QuizNotOpen("Your trust's quiz is not ready yet. Ask your HR team.")
    rng = rng or random.SystemRandom()
    drawn = draw([(q, q.section_id) for q in plan.pool], plan.size, rng)
    attempt = QuizAttempt(user_id=user.id, version_id=version.id, started_at=now, pass_mark=user.trust.rules.pass_mark,
                          scope=plan.scope)
    for position, question in enumerate(drawn, start=1):
        attempt.items.append(AttemptQuestion(question=question, position=position,
                                             option_order=shuffled([o["id"] for o in question.options], rng)))
    db.session.add(attempt)
    db.session.flush()
    return attempt


def start_or_resume(user: User, version: PolicyVersion, *, now: datetime,
                    rng: random.Random | None = None) -> QuizAttempt:
    """The person's open attempt on the version, else a fresh one (see start_attempt).

    The person's row is locked first (PostgreSQL; SQLite writers already hold the database lock), so a
    double click cannot open two attempts at once.
    """
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    existing = db.session.scalar(
        select(QuizAttempt).where(QuizAttempt.user_id == user.id, QuizAttempt.version_id == version.id,
                                  QuizAttempt.finished_at.is_(None)).order_by(QuizAttempt.id.desc()).limit(1))
    return existing or start_attempt(user, version, now=now, rng=rng)


def read_answers(attempt: QuizAttempt, posted: Mapping[str, list[str]]) -> list[list[str]]:
    """The answers in a posted form, by position; TamperedSubmission for anything an honest form cannot send.

    That is: an attempt already submitted, a field that is not one of this attempt's questions, an option
    that was not drawn for the question, an option twice, or two options for a one-answer question.
    Unanswered questions come back as empty lists (the form asks for them again).
    """
    if attempt.finished_at is not None:
        raise TamperedSubmission("This quiz attempt has already been submitted, so it cannot be changed. "
                                 "Start a new attempt if you want to try again.")
    names = {field_name(item): item for item in attempt.items}
    unknown = sorted(set(posted) - names.keys() - SUBMISSION_EXTRAS)
    if unknown:
        raise TamperedSubmission("The answers sent did not match the questions you were asked, so nothing was "
                                 "recorded. Go back to the quiz and try again.")
    answers = []
    for name, item in names.items():
        chosen = [value for value in posted.get(name, []) if value != ""]
        many = types.get(item.question.type).many
        if (len(set(chosen)) != len(chosen) or any(c not in item.option_order for c in chosen)
                or (not many and len(chosen) > 1)):
            raise TamperedSubmission("The answers sent included an option you were not offered, so nothing was "
                                     "recorded. Go back to the quiz and try again.")
        answers.append(chosen)
    return answers


def save_draft(attempt: QuizAttempt, answers: Sequence[Sequence[str]], *, now: datetime) -> int:
    """Keep the answers given so far on an open attempt, so leaving the page loses nothing (they are shown again
    when the person comes back); returns how many questions are answered. Nothing is graded."""
    if attempt.finished_at is not None:
        raise TamperedSubmission("This quiz attempt has already been submitted, so it cannot be changed.")
    for item, chosen in zip(attempt.items, answers, strict=True):
        item.chosen = list(chosen) or None
    db.session.flush()
    return sum(1 for chosen in answers if chosen)


def submit_attempt(attempt: QuizAttempt, answers: Sequence[Sequence[str]], *, now: datetime) -> Grade:
    """Grade the answers (purely), then record them, the score and the finish time on the attempt."""
    if attempt.finished_at is not None:
        raise TamperedSubmission("This quiz attempt has already been submitted.")
    keys = [ItemKey(type=item.question.type, options=tuple(item.option_order),
                    correct=frozenset(item.question.correct)) for item in attempt.items]
    try:
        result = grade(keys, answers, attempt.pass_mark)
    except AnswerError as exc:
        raise TamperedSubmission(f"The answers sent could not be marked: {exc}.") from exc
    for item, chosen, mark in zip(attempt.items, answers, result.marks, strict=True):
        item.chosen = list(chosen)
        item.correct = mark
    attempt.finished_at = now
    attempt.score = result.score
    attempt.passed = result.passed
    db.session.flush()
    return result
