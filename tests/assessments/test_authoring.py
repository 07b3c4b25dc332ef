"""Issue 14 point 5: writing and reviewing a draft version's quiz, the coverage rule that gates publishing, and YAML
export / import round-trips (the seed banks too)."""

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from modules.assessments import authoring
from modules.assessments.authoring import AuthoringError, QuestionInput
from modules.assessments.bank import match_versions, parse_bank, read_bank
from modules.assessments.coverage import BankItem, Obligation, coverage
from modules.assessments.models import BrowserBank, ClauseExclusion, Question, QuestionAuthorship
from modules.assessments.services import BankSyncReport, sync_banks, sync_trust_bank, version_texts
from modules.core.extensions import db
from modules.people.models import SecurityEvent, Trust
from modules.policies.models import PolicyVersion
from modules.policies.services import PublishBlocked, london_date, publish_draft, save_draft, upload_source
from modules.training.queries import current_version
from tests.assessments.factories import demo_user

ROOT = Path(__file__).resolve().parents[2]
SLUGS = ["tkat", "e-act", "tasmat", "tsat", "agora"]

#: A small policy with four must / must-not clauses in two modules (2.1, 2.2, 3.1, 3.2).
POLICY = b"""Staff Social Media Policy

1 Scope

1.1 This policy applies to all staff of the trust.

2 Personal use

2.1 Staff must not accept friend requests from pupils on personal accounts.
2.2 Staff must report any contact from a pupil to their line manager on the same day.
2.3 Staff may use social media in their own time.

3 Official accounts

3.1 Staff must not post photographs of pupils without the consent of their parents.
3.2 Every official account must have two administrators.
"""


def trust(slug: str) -> Trust:
    """A trust by slug."""
    return db.session.scalar(select(Trust).where(Trust.slug == slug))


def draft_version(slug: str, now, data: bytes = POLICY, draw: int | None = 3) -> PolicyVersion:
    """Upload a policy and save it as the trust's next version, a draft (committed); optionally set the trust's
    draw (quiz_questions) so a small bank can fill it."""
    db.session.commit()
    found = trust(slug)
    if draw is not None:
        found.settings = {**(found.settings or {}), "quiz_questions": draw}
    source = upload_source(found, demo_user("hr", slug), filename="policy.txt", data=data, now=now)
    version = save_draft(source, now=now)
    db.session.commit()
    return version


def question(clauses=("2.1",), quote="must not accept friend requests from pupils", kind="single") -> QuestionInput:
    """A valid question citing the small policy."""
    if kind == "true_false":
        options = [{"id": "true", "text": "True", "feedback": "No. 2.2 says report it the same day."},
                   {"id": "false", "text": "False", "feedback": "Yes. 2.2 says the same day."}]
        correct = ["false"]
    else:
        options = [{"id": "a", "text": "Accept it", "feedback": "No. 2.1 forbids it."},
                   {"id": "b", "text": "Decline it", "feedback": "Yes. 2.1 says so."},
                   {"id": "c", "text": "Ask a colleague", "feedback": "No. 2.1 decides it."}]
        correct = ["b"] if kind == "single" else ["b", "c"]
    return QuestionInput(type=kind, stem=f"A pupil sends you a friend request ({'/'.join(clauses)}). What now?",
                         options=options, correct=correct, explanation="2.1 says staff must not accept.",
                         quote=quote, clauses=list(clauses))


# --------------------------------------------------------------------------- the coverage rule (pure)

OBLIGATIONS = [Obligation("2.1", "Staff must not …", "must_not"), Obligation("2.2", "Staff must …", "must"),
               Obligation("3.1", "Staff must not …", "must_not")]


def test_coverage_needs_every_obligation_examined_or_excluded():
    bank = [BankItem("q1", "s2", ("2.1",), True), BankItem("q2", "s2", ("2.2",), False)]
    found = coverage(OBLIGATIONS, bank, {}, draw=1)
    assert [o.ref for o in found.uncovered] == ["2.2", "3.1"]  # q2 is not reviewed, so 2.2 is not covered
    assert dict(found.covered) == {"2.1": ("q1",)} and not found.complete
    found = coverage(OBLIGATIONS, bank, {"2.2": "trust duty", "3.1": "covered in induction"}, draw=1)
    assert found.complete and found.excluded == {"2.2": "trust duty", "3.1": "covered in induction"}


def test_coverage_needs_a_bank_large_enough_for_the_draw():
    bank = [BankItem(f"q{i}", f"s{i % 3}", ("2.1", "2.2", "3.1"), True) for i in range(3)]
    assert coverage(OBLIGATIONS, bank, {}, draw=3).complete
    short = coverage(OBLIGATIONS, bank, {}, draw=4)
    assert not short.complete and "only 3 reviewed questions are ready" in short.draw_problems[0]
    # Three modules cannot all be asked about in two questions.
    spread = coverage(OBLIGATIONS, bank, {}, draw=2)
    assert not spread.complete and "at least 3" in spread.draw_problems[0]
    assert not coverage(OBLIGATIONS, [], {}, draw=1).complete


def test_an_exclusion_does_not_count_a_clause_twice_and_a_covered_clause_is_covered():
    bank = [BankItem("q1", "s", ("2.1", "2.2", "3.1"), True)]
    found = coverage(OBLIGATIONS + [Obligation("2.1", "again", "must")], bank, {"2.1": "ignored"}, draw=1)
    assert found.complete and not found.excluded and list(found.covered) == ["2.1", "2.2", "3.1"]


# --------------------------------------------------------------------------- writing and reviewing

def test_author_writes_a_question_and_a_second_person_approves_it(app, now):
    version = draft_version("tkat", now)
    hr, admin = demo_user("hr", "tkat"), demo_user("admin", "tkat")
    row = authoring.save_question(version, hr, question(), now=now)
    db.session.commit()
    assert (row.reviewed, row.section.number, row.source_file) == (False, "2", "browser")
    assert authoring.in_browser(version)
    with pytest.raises(AuthoringError, match="someone else must review it"):
        authoring.approve_question(row, hr, now=now)
    db.session.rollback()
    authoring.approve_question(row, admin, now=now)
    db.session.commit()
    entry = db.session.get(QuestionAuthorship, row.id)
    assert row.reviewed and (entry.author_id, entry.reviewed_by_id) == (hr.id, admin.id)
    # Changing an approved question returns it to unreviewed, with the editor as its author.
    changed = question(clauses=("2.1", "2.2"), quote="Staff must report any contact from a pupil")
    authoring.save_question(version, admin, changed, now=now, question=row)
    db.session.commit()
    entry = db.session.get(QuestionAuthorship, row.id)
    assert not row.reviewed and (entry.author_id, entry.reviewed_by_id) == (admin.id, None)
    assert row.clause_refs == ["2.1", "2.2"]
    kinds = list(db.session.scalars(select(SecurityEvent.kind).where(SecurityEvent.trust_id == version.trust_id,
                                                                      SecurityEvent.kind.like("quiz-%"))
                                    .order_by(SecurityEvent.id)))
    assert kinds[:1] == ["quiz-question"] and "quiz-question-reviewed" in kinds


def test_a_quote_not_in_the_cited_clauses_is_refused(app, now):
    version = draft_version("tkat", now)
    hr = demo_user("hr", "tkat")
    with pytest.raises(AuthoringError, match="quote is not in the text of clause 2.1") as refused:
        authoring.save_question(version, hr, question(quote="must never use social media"), now=now)
    assert refused.value.field == "quote"
    with pytest.raises(AuthoringError, match="not a clause of version 2"):
        authoring.save_question(version, hr, question(clauses=("9.9",)), now=now)
    # Typographic quotes and line breaks do not matter.
    row = authoring.save_question(version, hr, question(quote="must  not accept\nfriend requests"), now=now)
    assert row.quote == "must  not accept\nfriend requests"
    for kind in ("multiple", "true_false"):
        assert authoring.save_question(version, hr, question(kind=kind), now=now).type == kind


def test_questions_change_only_on_drafts(app, now):
    version = draft_version("tkat", now)
    published = current_version(trust("tkat").id)
    hr = demo_user("hr", "tkat")
    with pytest.raises(AuthoringError, match="can no longer be changed"):
        authoring.save_question(published, hr, question(), now=now)
    row = authoring.save_question(version, hr, question(), now=now)
    authoring.remove_question(row, hr, now=now)
    db.session.commit()
    assert authoring.questions_of(version) == []


def test_publishing_is_refused_until_the_quiz_covers_every_obligation(app, now):
    version = draft_version("tkat", now)
    hr, admin = demo_user("hr", "tkat"), demo_user("admin", "tkat")
    today = london_date(now)
    with pytest.raises(PublishBlocked) as blocked:
        publish_draft(version, effective_on=today, now=now, gate=authoring.publish_gate)
    assert [ref for ref, _ in blocked.value.gaps.uncovered] == ["2.1", "2.2", "3.1", "3.2"]
    assert "Every official account must have two administrators." in dict(blocked.value.gaps.uncovered)["3.2"]
    db.session.rollback()
    for clauses, quote in ((("2.1",), "must not accept"), (("2.2",), "must report any contact"),
                           (("3.1",), "must not post photographs")):
        row = authoring.save_question(version, hr, question(clauses=clauses, quote=quote), now=now)
        authoring.approve_question(row, admin, now=now)
    db.session.commit()
    with pytest.raises(PublishBlocked) as blocked:
        publish_draft(version, effective_on=today, now=now, gate=authoring.publish_gate)
    assert [ref for ref, _ in blocked.value.gaps.uncovered] == ["3.2"]
    db.session.rollback()
    with pytest.raises(AuthoringError, match="not a must or must-not clause"):
        authoring.exclude_clause(version, hr, "2.3", "optional", now=now)
    with pytest.raises(AuthoringError, match="already examined"):
        authoring.exclude_clause(version, hr, "2.1", "covered", now=now)
    left_out = authoring.exclude_clause(version, hr, "3.2", "A rule for the trust's communications team, not staff.",
                                        now=now)
    db.session.commit()
    # Leaving a clause out is reviewed as a question is: not by whoever left it out, and it counts only after.
    with pytest.raises(PublishBlocked) as blocked:
        publish_draft(version, effective_on=today, now=now, gate=authoring.publish_gate)
    assert [ref for ref, _ in blocked.value.gaps.uncovered] == ["3.2"]
    db.session.rollback()
    with pytest.raises(AuthoringError, match="You left clause 3.2 out, so someone else must review it"):
        authoring.approve_exclusion(left_out, hr, now=now)
    with pytest.raises(AuthoringError, match="already left out"):
        authoring.exclude_clause(version, admin, "3.2", "again", now=now)
    authoring.approve_exclusion(left_out, admin, now=now)
    db.session.commit()
    with pytest.raises(AuthoringError, match="already reviewed"):
        authoring.approve_exclusion(left_out, admin, now=now)
    assert authoring.version_coverage(version).excluded == {"3.2": left_out.reason}
    assert publish_draft(version, effective_on=today, now=now, gate=authoring.publish_gate)
    db.session.commit()
    assert version.status == "published"


def test_the_draft_generator_starts_the_quiz(app, now):
    version = draft_version("tkat", now)
    hr = demo_user("hr", "tkat")
    added = authoring.start_from_draft(version, hr, now=now)
    db.session.commit()
    rows = authoring.questions_of(version)
    assert added == len(rows) >= 4 and not any(q.reviewed for q in rows)
    assert {"2.1", "2.2", "3.1", "3.2"} <= {ref for q in rows for ref in q.clause_refs}
    assert authoring.start_from_draft(version, hr, now=now) == 0  # nothing added twice


def test_content_sync_leaves_a_quiz_written_in_the_browser_alone(app, now):
    """The uploaded draft has no bank file behind it: a sync must neither delete its questions nor fail on its
    small bank (its publishing check covers it)."""
    version = draft_version("tkat", now, draw=None)
    row = authoring.save_question(version, demo_user("hr", "tkat"), question(), now=now)
    db.session.commit()
    sync_banks(ROOT / "quizzes", now=now)
    db.session.commit()
    assert [q.id for q in authoring.questions_of(version)] == [row.id]


# --------------------------------------------------------------------------- YAML round-trips

@pytest.mark.parametrize("slug", SLUGS)
def test_a_seed_version_exports_as_its_bank_file(app, slug):
    """Each seed trust's current version exports as exactly the questions and exclusions of quizzes/<slug>.yaml
    that apply to it, reviewed as the repository says."""
    version = current_version(trust(slug).id)
    exported = parse_bank(authoring.export_bank(version), "export", expected_trust=slug)
    original = read_bank(ROOT / "quizzes" / f"{slug}.yaml")
    applies = match_versions(original, version_texts(trust(slug)))
    wanted = [q.content() for q in original.questions if version.id in applies[q.id]]
    assert [q.content() for q in exported.questions] == wanted
    refs = set(authoring.clause_texts(version))
    assert exported.exclusions() == {k: v for k, v in original.exclusions().items() if k in refs}


def test_export_then_import_is_identical(app, now):
    """E-ACT's version 2 draft (the seed bank), taken over by an import of its own export, exports the same bytes,
    keeps every review, and the sync then leaves it alone."""
    e_act = trust("e-act")
    draft = db.session.scalar(select(PolicyVersion).where(PolicyVersion.trust_id == e_act.id,
                                                          PolicyVersion.status == "draft"))
    before = authoring.export_bank(draft)
    reviewed = {q.key for q in authoring.questions_of(draft) if q.reviewed}
    report = authoring.import_bank(draft, demo_user("hr", "e-act"), before, "e-act.yaml", now=now)
    db.session.commit()
    assert (report.added, report.changed, report.removed) == (0, 0, 0)
    assert authoring.in_browser(draft) and authoring.export_bank(draft) == before
    assert {q.key for q in authoring.questions_of(draft) if q.reviewed} == reviewed
    sync_trust_bank(e_act, read_bank(ROOT / "quizzes" / "e-act.yaml"), now=now, report=BankSyncReport())
    db.session.commit()
    assert authoring.export_bank(draft) == before


def test_a_browser_written_quiz_round_trips_and_an_import_is_checked(app, now):
    version = draft_version("tkat", now)
    hr, admin = demo_user("hr", "tkat"), demo_user("admin", "tkat")
    row = authoring.save_question(version, hr, question(), now=now)
    authoring.approve_question(row, admin, now=now)
    authoring.save_question(version, hr, question(kind="true_false", clauses=("2.2",), quote="same day"), now=now)
    authoring.exclude_clause(version, hr, "3.2", "The trust's duty.", now=now)
    db.session.commit()
    text = authoring.export_bank(version)
    data = yaml.safe_load(text)
    assert data["not_examined"] == [{"clause": "3.2", "reason": "The trust's duty."}]
    assert [q["reviewed"] for q in data["questions"]] == [True, False]
    authoring.import_bank(version, admin, text, "tkat.yaml", now=now)
    db.session.commit()
    assert authoring.export_bank(version) == text
    # A changed question arrives unreviewed, whatever the file says, written by the importer.
    data["questions"][0]["stem"] = "A pupil asks to follow you. What now?"
    report = authoring.import_bank(version, admin, yaml.safe_dump(data), "tkat.yaml", now=now)
    db.session.commit()
    assert report.changed == 1
    first = authoring.questions_of(version)[0]
    assert not first.reviewed and db.session.get(QuestionAuthorship, first.id).author_id == admin.id
    # A quote that is not in the clause, or another trust's file, is refused and changes nothing.
    data["questions"][0]["quote"] = "words the policy never says"
    with pytest.raises(AuthoringError, match="quote not found"):
        authoring.import_bank(version, admin, yaml.safe_dump(data), "tkat.yaml", now=now)
    db.session.rollback()
    with pytest.raises(AuthoringError, match="trust is 'tkat' but the file is for 'e-act'"):
        authoring.import_bank(db.session.scalar(select(PolicyVersion).where(
            PolicyVersion.trust_id == trust("e-act").id, PolicyVersion.status == "draft")), demo_user("hr", "e-act"),
            text, "x.yaml", now=now)
    db.session.rollback()
    assert db.session.scalar(select(BrowserBank).where(BrowserBank.version_id == version.id)) is not None
    assert len(list(db.session.scalars(select(ClauseExclusion).where(ClauseExclusion.version_id == version.id)))) == 1
    assert all(q.active for q in db.session.scalars(select(Question).where(Question.version_id == version.id)))


# --------------------------------------------------------------------------- the pages: tampered forms are 400s

def _form(client, url: str) -> dict:
    from tests.helpers import csrf_token

    return {"csrf_token": csrf_token(client.get(url).get_data(as_text=True))}


def test_tampered_or_wrong_forms_are_clear_400s_and_change_nothing(client, login, now):
    version = draft_version("tkat", now)
    other = db.session.scalar(select(PolicyVersion).where(PolicyVersion.trust_id == trust("e-act").id,
                                                          PolicyVersion.status == "draft"))
    foreign = authoring.questions_of(other)[0].id
    login("hr", "tkat")
    base = f"/hr/policy/versions/{version.id}/quiz"
    token = _form(client, f"{base}/questions/new")
    good = {**token, "type": "single", "stem": "A pupil asks to follow you.", "text_a": "Accept", "feedback_a": "No.",
            "text_b": "Decline", "feedback_b": "Yes.", "text_c": "Ignore", "feedback_c": "No.", "correct": ["b"],
            "explanation": "2.1 decides it.", "clauses": ["2.1"], "quote": "must not accept friend requests"}
    for tampered in ({"type": "essay"}, {"clauses": ["9.9"]}, {"correct": ["z"]}, {"clauses": []},
                     {"quote": "not in the clause"}, {"text_c": "", "feedback_c": ""}, {"feedback_b": ""},
                     {"stem": "x" * 5000}):
        response = client.post(f"{base}/questions/new", data={**good, **tampered})
        assert response.status_code == 400, tampered
        assert "There is a problem" in response.get_data(as_text=True)
    db.session.rollback()
    assert authoring.questions_of(version) == []
    assert client.post(f"{base}/questions/new", data=good).status_code == 302
    db.session.rollback()
    (row,) = authoring.questions_of(version)
    assert client.post(f"{base}/questions/{foreign}/approve", data=token).status_code == 404
    assert client.post(f"{base}/questions/{row.id}/approve", data={}).status_code == 400  # no CSRF token
    refused = client.post(f"{base}/questions/{row.id}/approve", data=token, follow_redirects=True)
    assert "someone else must review it" in refused.get_data(as_text=True)
    assert client.post(f"{base}/exclusions", data={**token, "clause": "9.9", "reason": "x"}).status_code == 400
    assert client.post(f"{base}/exclusions", data={**token, "clause": "3.2", "reason": ""}).status_code == 400
    assert client.post(f"{base}/exclusions/999999/remove", data=token).status_code == 404
    for content in (b"\xff\xfe not text", b"trust: [", b"trust: tkat\nquestions: []\n"):
        from io import BytesIO

        response = client.post(f"{base}/import", data={**token, "file": (BytesIO(content), "bank.yaml")},
                               content_type="multipart/form-data")
        assert response.status_code == 400 and "There is a problem" in response.get_data(as_text=True)
    db.session.rollback()
    assert [q.reviewed for q in authoring.questions_of(version)] == [False]
    assert authoring.exclusions_of(version) == []
    exported = client.get(f"{base}.yaml")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    assert yaml.safe_load(exported.get_data(as_text=True))["questions"][0]["clauses"] == ["2.1"]


def test_publish_refusal_reads_as_one_sentence_when_nothing_is_reviewed_yet():
    """The refusal joins its parts with semicolons in lower case, and says 'no question is reviewed yet' rather
    than 'only 0 reviewed questions'."""
    from types import SimpleNamespace

    from modules.policies.services import PublishBlocked, PublishGaps

    found = coverage([Obligation("2.1", "Staff must not post.", "must_not")],
                     [BankItem("q1", 1, ("2.1",), False)], {}, 3)
    assert found.draw_problems == ("The trust's quiz asks 3 questions, but no question is reviewed yet: someone "
                                   "other than each question's author must approve at least 3.",)
    message = str(PublishBlocked(SimpleNamespace(label="version 1"),
                                 PublishGaps(uncovered=[("2.1", "Staff must not post.")],
                                             problems=list(found.draw_problems))))
    assert message == ("Version 1 cannot be published until its quiz is ready: 1 must or must-not clause is not "
                       "examined by a reviewed question or excluded with a reason; the trust's quiz asks 3 questions, "
                       "but no question is reviewed yet: someone other than each question's author must approve at "
                       "least 3.")
