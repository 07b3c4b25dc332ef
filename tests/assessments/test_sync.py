"""Loading banks at `flask content sync`: per version, idempotent, versioned once used, all-or-nothing."""

import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from modules.assessments.models import AttemptQuestion, Question, QuizAttempt
from modules.assessments.services import sync_banks
from modules.core.extensions import db
from modules.people.models import Trust
from modules.policies.services import ContentError, create_version, sync_content
from tests.assessments.factories import demo_user

ROOT = Path(__file__).resolve().parents[2]
SLUGS = ["tkat", "e-act", "tasmat", "tsat", "agora"]


def question_count() -> int:
    """Every question row, live or retired."""
    return db.session.scalar(select(func.count()).select_from(Question))


def live(key: str, version_id: int | None = None) -> Question | None:
    """The live row of a bank question (in the trust's first version unless another is named)."""
    query = select(Question).where(Question.key == key, Question.active.is_(True))
    if version_id is not None:
        query = query.where(Question.version_id == version_id)
    return db.session.scalars(query.order_by(Question.version_id)).first()


@pytest.fixture
def quizzes(app, tmp_path) -> Path:
    """A copy of quizzes/ that the app loads from, for a test to edit."""
    target = tmp_path / "quizzes"
    shutil.copytree(ROOT / "quizzes", target)
    app.config["QUIZZES_DIR"] = str(target)
    return target


def edit(path: Path, old: str, new: str, first: bool = False) -> None:
    """Replace text in a file: text that occurs exactly once, or its first occurrence."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1 or (first and old in text), old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def sync(app, now) -> None:
    """Run the content sync as the CLI does (the quiz loader runs inside it)."""
    sync_content(Path(app.config["CONTENT_DIR"]), now=now, app=app)


def test_sync_loads_every_bank_into_the_version_of_its_seed(app):
    """Every question of every bank is in the database, in its trust's seed version and the right module."""
    from modules.policies.models import PolicyVersion

    for slug in SLUGS:
        trust = db.session.scalar(select(Trust).where(Trust.slug == slug))
        version = db.session.scalar(select(PolicyVersion).where(PolicyVersion.trust_id == trust.id,
                                                                PolicyVersion.source_file == f"policies/{slug}.txt"))
        expected = yaml.safe_load((ROOT / "quizzes" / f"{slug}.yaml").read_text(encoding="utf-8"))["questions"]
        mine = db.session.scalars(select(Question).where(Question.version_id == version.id,
                                                         Question.active.is_(True))).all()
        assert sorted(q.key for q in mine) == sorted(q["id"] for q in expected)
        by_id = {q["id"]: q for q in expected}
        for q in mine:
            assert q.section.version_id == q.version_id and q.section.number == by_id[q.key]["section"]
            assert q.source_file.endswith(f"quizzes/{slug}.yaml") and q.source_line > 0


def test_resync_is_idempotent(app, now):
    """Syncing again adds, changes and removes nothing."""
    before = {(q.id, q.key, q.content_sha256) for q in db.session.scalars(select(Question))}
    sync(app, now)
    db.session.commit()
    assert {(q.id, q.key, q.content_sha256) for q in db.session.scalars(select(Question))} == before


def test_a_changed_question_updates_in_place_until_an_attempt_uses_it(app, quizzes, now):
    """Unused: the row is updated. Used: it is retired, keeping the wording the attempt answered."""
    key = "tkat-pupil-friend-request"
    original = live(key)
    stem = original.stem
    edit(quizzes / "tkat.yaml", "sends a friend request and a short message", "sends a friend request and a message")
    sync(app, now)
    db.session.commit()
    updated = live(key)
    assert updated.id == original.id and "and a message" in updated.stem

    user = demo_user("staff", "tkat")
    attempt = QuizAttempt(user_id=user.id, version_id=updated.version_id, started_at=now, pass_mark=80)
    attempt.items.append(AttemptQuestion(question=updated, position=1, option_order=["a", "b", "c", "d", "e"]))
    db.session.add(attempt)
    db.session.commit()

    edit(quizzes / "tkat.yaml", "sends a friend request and a message", "sends a friend request")
    count = question_count()
    sync(app, now)
    db.session.commit()
    old = db.session.get(Question, original.id)
    new = live(key)
    assert not old.active and "and a message" in old.stem
    assert new.id != old.id and new.active and "and a message" not in new.stem and new.stem != stem
    assert attempt.items[0].question_id == old.id
    assert question_count() == count + 1


def test_a_removed_question_is_deleted_or_retired(app, quizzes, now):
    """A question taken out of the bank disappears when unused (and would be retired if used)."""
    text = (quizzes / "agora.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    gone = data["questions"].pop()
    (quizzes / "agora.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    sync(app, now)
    db.session.commit()
    assert live(gone["id"]) is None


def test_a_broken_bank_fails_the_sync_with_file_line_and_reason_and_nothing_is_loaded(app, quizzes, now):
    """Problems in two banks are all reported as file:line: reason; a valid edit elsewhere is not kept."""
    edit(quizzes / "agora.yaml", "Which of these people does Agora's social media policy cover?",
         "Who does Agora's social media policy cover?")
    edit(quizzes / "tkat.yaml", "quote: should not respond but should discuss the matter with their line manager "
         "immediately", "quote: should block the pupil and tell the DSL")
    edit(quizzes / "e-act.yaml", "    reviewed: true\n", "    reviewed: true\n    difficulty: easy\n", first=True)
    tkat_line = next(i for i, line in enumerate((quizzes / "tkat.yaml").read_text().splitlines(), 1)
                     if "should block the pupil" in line)
    before = question_count()
    db.session.commit()
    with pytest.raises(ContentError) as caught:
        sync(app, now)
    db.session.rollback()
    message = str(caught.value)
    assert (f"tkat.yaml:{tkat_line}: question tkat-pupil-friend-request: quote not found in the text of clause "
            f"3.3.1: 'should block the pupil and tell the DSL'") in message
    assert "e-act.yaml:" in message and "unknown field 'difficulty'" in message
    assert question_count() == before
    assert all("Who does Agora" not in q.stem for q in db.session.scalars(select(Question)))


def test_the_cli_reports_a_broken_bank_and_exits_non_zero(app, quizzes):
    """`flask content sync` prints the file:line: reason and exits 1, changing nothing."""
    edit(quizzes / "tsat.yaml", 'clauses: ["3.1"]', 'clauses: ["3.99"]', first=True)
    before = question_count()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 1
    assert "Content sync failed, nothing was loaded" in result.output
    assert "tsat.yaml:" in result.output and "clause 3.99 is in none of TSAT's policy versions" in result.output
    assert question_count() == before


def test_a_bank_for_an_unknown_trust_is_an_error(app, quizzes, now):
    """quizzes/<slug>.yaml must belong to a trust in trusts.yaml."""
    shutil.copy(quizzes / "tkat.yaml", quizzes / "nobody.yaml")
    db.session.commit()
    with pytest.raises(ContentError, match=r"nobody\.yaml:1: no trust 'nobody'"):
        sync(app, now)
    db.session.rollback()


def test_n_too_small_to_cover_the_modules_fails_with_a_clear_message(app, tmp_path, now):
    """A trust whose quiz_questions cannot cover every module with questions fails the sync, saying how many."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    edit(content / "trusts.yaml", "      logo: logos/tkat.svg\n", "      logo: logos/tkat.svg\n      quiz_questions: 5\n")
    db.session.commit()
    with pytest.raises(ContentError) as caught:
        sync_content(content, now=now, app=app)
    db.session.rollback()
    assert ("TKAT draws 5 questions per attempt (quiz_questions), but 8 modules of version 1 have reviewed, "
            "unambiguous questions and every attempt must cover each of them: set quiz_questions to at least 8"
            ) in str(caught.value)


def test_questions_apply_to_every_version_that_has_their_clauses(app, now):
    """A new version gets every question whose clauses (and quote) it still has, and only those."""
    trust = db.session.scalar(select(Trust).where(Trust.slug == "tkat"))
    source = (ROOT / "content" / "policies" / "tkat.txt").read_bytes()
    changed = source.replace(b"should not respond but should discuss the matter with their line manager immediately",
                             b"should block the pupil and report it to the DSL")
    assert changed != source
    v1 = live("tkat-pupil-friend-request").version_id
    v2 = create_version(trust, source_file="policies/tkat-v2.txt", raw=changed, now=now)
    sync_banks(ROOT / "quizzes", now=now)
    db.session.commit()
    assert v2.status == "draft"
    in_v1 = {q.key for q in db.session.scalars(select(Question).where(Question.version_id == v1))}
    in_v2 = {q.key for q in db.session.scalars(select(Question).where(Question.version_id == v2.id))}
    assert "tkat-pupil-friend-request" in in_v1 - in_v2
    assert len(in_v2) == len(in_v1) - len(in_v1 - in_v2) and len(in_v2) >= 25
