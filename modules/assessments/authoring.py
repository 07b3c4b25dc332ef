"""Writing and reviewing a draft version's quiz in the browser (services: add and flush; never commit).

A version's quiz is written in the browser from the first change made there (`BrowserBank`); from then on
`flask content sync` leaves its questions and exclusions alone, and YAML (the bank file format) carries it in
and out: `export_bank` writes it, `import_bank` reads it back. Questions loaded from quizzes/<slug>.yaml by the
sync count as reviewed when the file says `reviewed: true`: that file is reviewed in the repository. A question
written or changed here is unreviewed until someone other than its author approves it.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

import yaml
from sqlalchemy import func, select

from modules.assessments import types
from modules.assessments.bank import (
    Bank,
    BankError,
    BankQuestion,
    VersionText,
    match_versions,
    parse_bank,
    quote_found,
)
from modules.assessments.coverage import BankItem, Coverage, Obligation, coverage
from modules.assessments.draft import draft_bank
from modules.assessments.models import (
    AttemptQuestion,
    BrowserBank,
    ClauseExclusion,
    ExclusionReview,
    Question,
    QuestionAuthorship,
)
from modules.assessments.services import fill_question
from modules.core.extensions import db
from modules.people.models import Trust, User
from modules.people.security import note_event, record_event
from modules.policies.models import Clause, PolicyVersion, Section
from modules.policies.parser import PolicyParseError, parse_policy
from modules.policies.services import PublishGaps

OBLIGATIONS = ("must", "must_not")
#: Where a question written in the browser says it came from (the bank file's name for synced ones).
BROWSER = "browser"
#: Longest reason kept for an exclusion.
REASON_MAX = 2000


class AuthoringError(ValueError):
    """A change to a quiz was refused; the message is for the person and names the field, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass
class QuestionInput:
    """A question as the author gave it (options already lettered a, b, c … or true / false)."""

    type: str
    stem: str
    options: list[dict]
    correct: list[str]
    explanation: str
    quote: str
    clauses: list[str]


@dataclass
class ImportReport:
    """What importing a bank file did."""

    kept: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    exclusions: int = 0
    problems: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- reading

def in_browser(version: PolicyVersion) -> bool:
    """Whether the version's quiz is written in the browser (content sync leaves it alone)."""
    return db.session.get(BrowserBank, version.id) is not None


def browser_version_ids() -> set[int]:
    """Every version whose quiz is written in the browser."""
    return set(db.session.scalars(select(BrowserBank.version_id)))


def questions_of(version: PolicyVersion) -> list[Question]:
    """The version's live questions in bank order."""
    return list(db.session.scalars(select(Question).where(Question.version_id == version.id,
                                                          Question.active.is_(True))
                                   .order_by(Question.source_line, Question.id)))


def authorship(questions: list[Question]) -> dict[int, QuestionAuthorship]:
    """Who wrote and reviewed each question written in the browser, by question id."""
    if not questions:
        return {}
    return {a.question_id: a for a in db.session.scalars(
        select(QuestionAuthorship).where(QuestionAuthorship.question_id.in_([q.id for q in questions])))}


def exclusions_of(version: PolicyVersion) -> list[ClauseExclusion]:
    """The version's clauses deliberately not examined, in ref order of the document."""
    rows = list(db.session.scalars(select(ClauseExclusion).where(ClauseExclusion.version_id == version.id)))
    order = {ref: i for i, ref in enumerate(clause_texts(version))}
    return sorted(rows, key=lambda e: order.get(e.clause_ref, len(order)))


def exclusion_reviews(exclusions: list[ClauseExclusion]) -> dict[int, ExclusionReview]:
    """Who approved each exclusion made in the browser, by exclusion id."""
    if not exclusions:
        return {}
    return {r.exclusion_id: r for r in db.session.scalars(
        select(ExclusionReview).where(ExclusionReview.exclusion_id.in_([e.id for e in exclusions])))}


def counted_exclusions(version: PolicyVersion) -> dict[str, str]:
    """ref → reason for the exclusions that count toward coverage: the bank file's (reviewed in the repository)
    and those left out in the browser that someone else has approved."""
    rows = exclusions_of(version)
    reviews = exclusion_reviews(rows)
    return {e.clause_ref: e.reason for e in rows if e.excluded_by_id is None or e.id in reviews}


def clause_texts(version: PolicyVersion) -> dict[str, str]:
    """The version's clause texts by ref, in document order (a ref used twice: both texts)."""
    texts: dict[str, str] = {}
    for ref, text in db.session.execute(select(Clause.ref, Clause.text).where(Clause.version_id == version.id)
                                        .order_by(Clause.position)):
        texts[ref] = f"{texts[ref]}\n{text}" if ref in texts else text
    return texts


def obligations(version: PolicyVersion) -> list[Obligation]:
    """The version's must / must-not clauses in document order."""
    found: dict[str, Obligation] = {}
    for section in version.sections:
        for clause in section.clauses:
            if clause.modality in OBLIGATIONS and clause.ref not in found:
                found[clause.ref] = Obligation(clause.ref, clause.text, clause.modality)
    return list(found.values())


def version_coverage(version: PolicyVersion) -> Coverage:
    """The version's quiz judged against the publishing rule (see coverage.py)."""
    trust = db.session.get(Trust, version.trust_id)
    bank = [BankItem(q.key, q.section_id, tuple(q.clause_refs), q.drawable) for q in questions_of(version)]
    return coverage(obligations(version), bank, counted_exclusions(version), trust.rules.quiz_questions)


def publish_gate(version: PolicyVersion) -> PublishGaps | None:
    """What stops the version being published to staff (None when nothing does); policies' publish calls it."""
    found = version_coverage(version)
    if found.complete:
        return None
    return PublishGaps(uncovered=[(o.ref, o.text) for o in found.uncovered], problems=list(found.draw_problems))


# --------------------------------------------------------------------------- the bank as YAML

def bank_question(row: Question) -> BankQuestion:
    """A stored question as the bank file states it."""
    return BankQuestion(id=row.key, core_id=row.core_id, section=row.section.number, clauses=tuple(row.clause_refs),
                        type=row.type, stem=row.stem, options=tuple(dict(o) for o in row.options),
                        correct=tuple(row.correct), explanation=row.explanation, quote=row.quote,
                        reviewed=row.reviewed, ambiguous=row.ambiguous, note=row.note or "", silent=row.silent)


def bank_data(version: PolicyVersion) -> dict:
    """The version's quiz in the bank file format (quizzes/<slug>.yaml), as plain data."""
    trust = db.session.get(Trust, version.trust_id)
    questions = []
    for row in questions_of(version):
        content = bank_question(row).content()
        if content["core_id"] is None:
            del content["core_id"]
        questions.append(content)
    data: dict = {"trust": trust.slug, "questions": questions}
    excluded = exclusions_of(version)
    if excluded:
        data["not_examined"] = [{"clause": e.clause_ref, "reason": e.reason} for e in excluded]
    return data


def export_bank(version: PolicyVersion) -> str:
    """The version's quiz as a bank file (the same format as quizzes/<slug>.yaml)."""
    trust = db.session.get(Trust, version.trust_id)
    header = (f"# {trust.short_name} quiz bank for {version.label} of {version.title!r}, exported from PolicyPass.\n"
              "# Format: docs/quiz-bank-format.md. Import it back on the version's quiz page.\n")
    return header + yaml.safe_dump(bank_data(version), sort_keys=False, allow_unicode=True, width=110)


# --------------------------------------------------------------------------- changes

def _version_text(version: PolicyVersion) -> VersionText:
    return VersionText(key=version.id, label=version.label, sections=frozenset(s.number for s in version.sections),
                       clauses=clause_texts(version))


def _check_draft(version: PolicyVersion) -> None:
    if version.status != "draft":
        raise AuthoringError(f"{version.label.capitalize()} is {'published' if version.status == 'published' else 'replaced'}"
                             ", so its quiz can no longer be changed here: questions change with a new version.")


def _used(question: Question) -> bool:
    return db.session.scalar(select(func.count()).select_from(AttemptQuestion)
                             .where(AttemptQuestion.question_id == question.id)) > 0


def take_over(version: PolicyVersion, user: User, *, now: datetime) -> BrowserBank:
    """Write the version's quiz in the browser from now on (idempotent); content sync leaves it alone after."""
    _check_draft(version)
    bank = db.session.get(BrowserBank, version.id)
    if bank is None:
        bank = BrowserBank(version_id=version.id, started_by_id=user.id, started_at=now)
        db.session.add(bank)
        db.session.flush()
    return bank


def _slug(text: str, words: int = 7) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower())[:words]) or "question"


def _new_key(version: PolicyVersion, trust: Trust, stem: str) -> str:
    taken = set(db.session.scalars(select(Question.key).where(Question.version_id == version.id,
                                                              Question.active.is_(True))))
    base = f"{trust.slug}-{_slug(stem)}"[:110].strip("-")
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def _next_line(version: PolicyVersion) -> int:
    return (db.session.scalar(select(func.max(Question.source_line)).where(Question.version_id == version.id,
                                                                           Question.active.is_(True))) or 0) + 1


def _section_of(version: PolicyVersion, ref: str) -> Section:
    return db.session.scalar(select(Section).join(Clause, Clause.section_id == Section.id)
                             .where(Clause.version_id == version.id, Clause.ref == ref)
                             .order_by(Clause.position).limit(1))


def check_question(version: PolicyVersion, data: QuestionInput) -> None:
    """Refuse (AuthoringError on the field) a question that does not fit its type or the version's clauses."""
    if data.type not in types.REGISTRY:
        raise AuthoringError("Choose the type of question", field="type")
    if not data.stem.strip():
        raise AuthoringError("Enter the scenario and question", field="stem")
    for name, reason in types.get(data.type).check([o["id"] for o in data.options], list(data.correct)):
        raise AuthoringError(reason[0].upper() + reason[1:], field="correct" if name == "correct" else "options")
    if not data.explanation.strip():
        raise AuthoringError("Enter why the right answer is right, naming the clause", field="explanation")
    if not data.clauses:
        raise AuthoringError("Choose the clauses that decide the answer", field="clauses")
    texts = clause_texts(version)
    unknown = [ref for ref in data.clauses if ref not in texts]
    if unknown:
        raise AuthoringError(f"Clause {', '.join(unknown)} is not a clause of {version.label}", field="clauses")
    if not data.quote.strip():
        raise AuthoringError("Enter words quoted from one of the clauses you cite", field="quote")
    if not quote_found(data.quote, (texts[ref] for ref in data.clauses)):
        raise AuthoringError(f"The quote is not in the text of clause{'s' if len(data.clauses) > 1 else ''} "
                             f"{', '.join(data.clauses)}: copy the words exactly as the policy gives them",
                             field="quote")


def _fill(row: Question, version: PolicyVersion, question: BankQuestion, section_id: int, now: datetime,
          source_line: int) -> None:
    fill_question(row, question, section_id=section_id, source_file=BROWSER, source_line=source_line, now=now)


def _authored(row: Question, user: User, now: datetime) -> None:
    """The question was written or changed by `user`: it needs someone else's review."""
    entry = db.session.get(QuestionAuthorship, row.id)
    if entry is None:
        entry = QuestionAuthorship(question_id=row.id, changed_at=now)
        db.session.add(entry)
    entry.author_id, entry.reviewed_by_id, entry.reviewed_at, entry.changed_at = user.id, None, None, now


def save_question(version: PolicyVersion, user: User, data: QuestionInput, *, now: datetime,
                  question: Question | None = None) -> Question:
    """Add a question to the version's quiz, or change one: either way it is unreviewed until someone else
    approves it. The quote must be found in the cited clauses' text."""
    _check_draft(version)
    check_question(version, data)
    take_over(version, user, now=now)
    trust = db.session.get(Trust, version.trust_id)
    section = _section_of(version, data.clauses[0])
    if question is None:
        key, line, core_id, note, silent = _new_key(version, trust, data.stem), _next_line(version), None, "", False
    else:
        if question.version_id != version.id or not question.active:
            raise AuthoringError("That question is no longer in this quiz.")
        if _used(question):
            raise AuthoringError("Staff have already answered this question, so it cannot be changed.")
        key, line, core_id, silent = question.key, question.source_line, question.core_id, question.silent
        note = "" if question.note.startswith("Draft from") else question.note
    item = BankQuestion(id=key, core_id=core_id, section=section.number, clauses=tuple(data.clauses), type=data.type,
                        stem=data.stem.strip(), options=tuple({"id": o["id"], "text": o["text"].strip(),
                                                               "feedback": o["feedback"].strip()}
                                                              for o in data.options),
                        correct=tuple(data.correct), explanation=data.explanation.strip(), quote=data.quote.strip(),
                        reviewed=False, ambiguous=False, note=note, silent=silent)
    row = question or Question(version_id=version.id, key=key, active=True)
    _fill(row, version, item, section.id, now, line)
    if question is None:
        db.session.add(row)
    db.session.flush()
    _authored(row, user, now)
    db.session.flush()
    record_event("quiz-question", now=now, actor=user, trust_id=version.trust_id, target=f"{version.label}: {key}",
                 details={"action": "added" if question is None else "changed", "version_id": version.id,
                          "question": key, "clauses": list(data.clauses)})
    return row


def remove_question(question: Question, user: User, *, now: datetime) -> None:
    """Take a question out of a draft version's quiz."""
    version = question.version
    _check_draft(version)
    if not question.active:
        raise AuthoringError("That question has already been removed.")
    if _used(question):
        raise AuthoringError("Staff have already answered this question, so it cannot be removed.")
    take_over(version, user, now=now)
    key = question.key
    db.session.delete(question)
    db.session.flush()
    record_event("quiz-question", now=now, actor=user, trust_id=version.trust_id, target=f"{version.label}: {key}",
                 details={"action": "removed", "version_id": version.id, "question": key})


def approve_question(question: Question, user: User, *, now: datetime) -> None:
    """A second person approves a question: it may then reach staff. Its author cannot approve it."""
    version = question.version
    _check_draft(version)
    if not question.active:
        raise AuthoringError("That question is no longer in this quiz.")
    if question.reviewed:
        raise AuthoringError("That question is already reviewed.")
    entry = db.session.get(QuestionAuthorship, question.id)
    if entry is not None and entry.author_id == user.id:
        note_event("quiz-question-reviewed", now=now, actor=user, trust_id=version.trust_id, outcome="failure",
                   target=f"{version.label}: {question.key}",
                   details={"version_id": version.id, "question": question.key, "reason": "own question"})
        raise AuthoringError("You wrote or last changed this question, so someone else must review it.")
    take_over(version, user, now=now)
    if entry is None:
        entry = QuestionAuthorship(question_id=question.id, changed_at=now)
        db.session.add(entry)
    question.reviewed = True
    question.content_sha256 = bank_question(question).content_sha256()
    entry.reviewed_by_id, entry.reviewed_at = user.id, now
    # A reviewed question now examines its clauses, so they are no longer "not examined".
    for exclusion in db.session.scalars(select(ClauseExclusion).where(
            ClauseExclusion.version_id == version.id, ClauseExclusion.clause_ref.in_(question.clause_refs))):
        db.session.delete(exclusion)
    db.session.flush()
    record_event("quiz-question-reviewed", now=now, actor=user, trust_id=version.trust_id,
                 target=f"{version.label}: {question.key}",
                 details={"version_id": version.id, "question": question.key,
                          "author_id": entry.author_id})


def exclude_clause(version: PolicyVersion, user: User, ref: str, reason: str, *, now: datetime) -> ClauseExclusion:
    """Leave a must / must-not clause out of the quiz, with the reason."""
    _check_draft(version)
    reason = (reason or "").strip()
    wanted = {o.ref for o in obligations(version)}
    if ref not in wanted:
        raise AuthoringError(f"Clause {ref} is not a must or must-not clause of {version.label}", field="clause")
    if not reason:
        raise AuthoringError("Enter why this clause is not examined", field="reason")
    if len(reason) > REASON_MAX:
        raise AuthoringError(f"The reason must be {REASON_MAX} characters or fewer", field="reason")
    found = version_coverage(version)
    if ref in found.covered:
        raise AuthoringError(f"Clause {ref} is already examined by a reviewed question", field="clause")
    if ref in {e.clause_ref for e in exclusions_of(version)}:
        raise AuthoringError(f"Clause {ref} is already left out of the quiz", field="clause")
    take_over(version, user, now=now)
    row = ClauseExclusion(version_id=version.id, clause_ref=ref, reason=reason, excluded_by_id=user.id,
                          created_at=now)
    db.session.add(row)
    db.session.flush()
    record_event("quiz-clause-excluded", now=now, actor=user, trust_id=version.trust_id,
                 target=f"{version.label}: clause {ref}",
                 details={"action": "excluded", "version_id": version.id, "clause": ref, "reason": reason[:300]})
    return row


def approve_exclusion(exclusion: ClauseExclusion, user: User, *, now: datetime) -> None:
    """A second person approves leaving a clause out: it then counts toward coverage. Whoever left it out cannot."""
    version = db.session.get(PolicyVersion, exclusion.version_id)
    _check_draft(version)
    target = f"{version.label}: clause {exclusion.clause_ref}"
    if exclusion.excluded_by_id is None or db.session.get(ExclusionReview, exclusion.id) is not None:
        raise AuthoringError(f"Leaving out clause {exclusion.clause_ref} is already reviewed.")
    if exclusion.excluded_by_id == user.id:
        note_event("quiz-clause-excluded", now=now, actor=user, trust_id=version.trust_id, outcome="failure",
                   target=target, details={"action": "review refused", "version_id": version.id,
                                           "clause": exclusion.clause_ref, "reason": "own exclusion"})
        raise AuthoringError(f"You left clause {exclusion.clause_ref} out, so someone else must review it.")
    take_over(version, user, now=now)
    db.session.add(ExclusionReview(exclusion_id=exclusion.id, reviewed_by_id=user.id, reviewed_at=now))
    db.session.flush()
    record_event("quiz-clause-excluded", now=now, actor=user, trust_id=version.trust_id, target=target,
                 details={"action": "reviewed", "version_id": version.id, "clause": exclusion.clause_ref,
                          "excluded_by_id": exclusion.excluded_by_id})


def remove_exclusion(exclusion: ClauseExclusion, user: User, *, now: datetime) -> None:
    """Put an excluded clause back: the quiz must then examine it."""
    version = db.session.get(PolicyVersion, exclusion.version_id)
    _check_draft(version)
    take_over(version, user, now=now)
    ref = exclusion.clause_ref
    db.session.delete(exclusion)
    db.session.flush()
    record_event("quiz-clause-excluded", now=now, actor=user, trust_id=version.trust_id,
                 target=f"{version.label}: clause {ref}",
                 details={"action": "put back", "version_id": version.id, "clause": ref})


def start_from_draft(version: PolicyVersion, user: User, *, now: datetime) -> int:
    """Add the draft generator's questions (unreviewed, written by `user`) to the version's quiz: a starting point
    to rewrite as real scenarios. Questions already there are kept; returns how many were added."""
    _check_draft(version)
    trust = db.session.get(Trust, version.trust_id)
    try:
        drafted = draft_bank(parse_policy(version.source_text), trust.slug)
    except PolicyParseError as exc:
        raise AuthoringError(f"The draft generator cannot read this version: {exc}") from exc
    take_over(version, user, now=now)
    texts, sections = clause_texts(version), {s.number: s for s in version.sections}
    taken = {q.key for q in questions_of(version)}
    line, added = _next_line(version), 0
    for raw in drafted["questions"]:
        if raw["id"] in taken or raw["section"] not in sections or any(r not in texts for r in raw["clauses"]):
            continue
        if not quote_found(raw["quote"], (texts[r] for r in raw["clauses"])):
            continue
        item = BankQuestion(id=raw["id"], section=raw["section"], clauses=tuple(raw["clauses"]), type=raw["type"],
                            stem=raw["stem"], options=tuple(dict(o) for o in raw["options"]),
                            correct=tuple(raw["correct"]), explanation=raw["explanation"], quote=raw["quote"],
                            reviewed=False, note=raw.get("note", ""))
        row = Question(version_id=version.id, key=item.id, active=True)
        _fill(row, version, item, sections[item.section].id, now, line)
        db.session.add(row)
        db.session.flush()
        _authored(row, user, now)
        line, added = line + 1, added + 1
    db.session.flush()
    record_event("quiz-question", now=now, actor=user, trust_id=version.trust_id,
                 target=f"{version.label}: draft generator",
                 details={"action": "drafted", "version_id": version.id, "added": added})
    return added


def _unreviewed_sha(content: dict) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps({**content, "reviewed": None}, sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


def import_bank(version: PolicyVersion, user: User, text: str, filename: str, *, now: datetime) -> ImportReport:
    """Replace the version's quiz with a bank file's (the quizzes/<slug>.yaml format), checked against the version's
    clauses. A question keeps its review only when the file says reviewed and the same question, word for word,
    is already reviewed here; anything else arrives unreviewed, written by the importer."""
    _check_draft(version)
    trust = db.session.get(Trust, version.trust_id)
    try:
        bank: Bank = parse_bank(text, filename or "bank.yaml", expected_trust=trust.slug)
        match_versions(bank, [_version_text(version)], trust.short_name)
    except BankError as exc:
        raise AuthoringError("The file cannot be imported:\n" + "\n".join(str(p) for p in exc.problems),
                             field="file") from exc
    wanted_refs = {o.ref for o in obligations(version)}
    stray = [e.clause for e in bank.not_examined if e.clause not in wanted_refs]
    if stray:
        raise AuthoringError(f"The file cannot be imported: not_examined lists clause {', '.join(stray)}, which is "
                             f"not a must or must-not clause of {version.label}", field="file")
    take_over(version, user, now=now)
    report = ImportReport()
    existing = {q.key: q for q in questions_of(version)}
    wanted = {q.id: q for q in bank.questions}
    for key, row in existing.items():
        if key not in wanted:
            if _used(row):
                raise AuthoringError(f"Staff have already answered question {key}, so it cannot be removed.",
                                     field="file")
            db.session.delete(row)
            report.removed += 1
    db.session.flush()
    sections = {s.number: s.id for s in version.sections}
    for line, question in enumerate(bank.questions, start=1):
        row = existing.get(question.id)
        same = row is not None and _unreviewed_sha(bank_question(row).content()) == _unreviewed_sha(question.content())
        keeps_review = same and row.reviewed and question.reviewed
        item = BankQuestion(**{**{k: getattr(question, k) for k in (
            "id", "section", "clauses", "type", "stem", "options", "correct", "explanation", "quote", "ambiguous",
            "note", "silent", "core_id")}, "reviewed": keeps_review})
        if row is not None and same and row.reviewed == keeps_review:
            row.source_line = line
            report.kept += 1
            continue
        if row is None:
            row = Question(version_id=version.id, key=question.id, active=True)
            db.session.add(row)
            report.added += 1
        else:
            report.changed += 1
        _fill(row, version, item, sections[question.section], now, line)
        db.session.flush()
        if not keeps_review:
            _authored(row, user, now)
    for exclusion in db.session.scalars(select(ClauseExclusion).where(ClauseExclusion.version_id == version.id)):
        db.session.delete(exclusion)
    db.session.flush()
    for exclusion in bank.not_examined:
        db.session.add(ClauseExclusion(version_id=version.id, clause_ref=exclusion.clause, reason=exclusion.reason,
                                       excluded_by_id=user.id, created_at=now))
        report.exclusions += 1
    db.session.flush()
    record_event("quiz-bank-imported", now=now, actor=user, trust_id=version.trust_id,
                 target=f"{version.label}: {filename}"[:300],
                 details={"version_id": version.id, "kept": report.kept, "added": report.added,
                          "changed": report.changed, "removed": report.removed, "exclusions": report.exclusions})
    return report
