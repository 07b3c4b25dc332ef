"""Issue 17 point 3: quiz answers are kept when you leave the page (a server-side draft, saved on each change by
the page's script or by "Save and come back later" without it) and shown again when you come back."""

import re

from modules.assessments.models import QuizAttempt
from modules.core.extensions import db
from tests.assessments.test_quiz_flow import recorded, staff, start, submit, token  # noqa: F401  (fixture)


def _half(attempt: QuizAttempt) -> dict[str, list[str]]:
    """Answers to the first half of the questions (the first option shown for each)."""
    items = attempt.items[: len(attempt.items) // 2]
    return {f"q{item.position}": [item.option_order[0]] for item in items}


def test_save_and_come_back_later_keeps_the_answers_and_shows_them_again(app, client, staff):  # noqa: F811
    attempt = start(client)
    half = _half(attempt)
    response = client.post(f"/quiz/attempts/{attempt.id}/draft", data={**half, "csrf_token": token(client)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/quiz")
    page = client.get("/quiz").get_data(as_text=True)
    assert f"({len(half)} of {len(attempt.items)} answered)" in page and "Continue the quiz" in page
    finished, score, passed, chosen = recorded(attempt.id)
    assert finished is None and score is None and passed is None  # nothing graded
    assert chosen[: len(half)] == list(half.values()) and all(c is None for c in chosen[len(half):])
    # Coming back: each saved answer is checked again.
    html = client.get(f"/quiz/attempts/{attempt.id}").get_data(as_text=True)
    for name, [value] in half.items():
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"[^>]*checked|'
                         rf'value="{re.escape(value)}"[^>]*name="{name}"[^>]*checked', html), name


def test_the_script_saves_in_the_background_and_submitting_grades_as_before(app, client, staff):  # noqa: F811
    attempt = start(client)
    response = client.post(f"/quiz/attempts/{attempt.id}/draft", data={**_half(attempt), "csrf_token": token(client)},
                           headers={"X-Requested-With": "fetch"})
    assert response.status_code == 204
    # Changing an answer keeps the latest; clearing them all clears the draft.
    response = client.post(f"/quiz/attempts/{attempt.id}/draft", data={"csrf_token": token(client)},
                           headers={"X-Requested-With": "fetch"})
    assert response.status_code == 204 and all(c is None for c in recorded(attempt.id)[3])
    everything = {f"q{i.position}": list(i.question.correct) for i in attempt.items}
    assert submit(client, attempt, everything).status_code == 302
    finished, score, passed, _ = recorded(attempt.id)
    assert finished is not None and score == 100 and passed


def test_a_draft_of_a_submitted_attempt_or_with_foreign_options_changes_nothing(app, client, staff):  # noqa: F811
    attempt = start(client)
    bad = client.post(f"/quiz/attempts/{attempt.id}/draft", data={"q1": ["not-an-option"], "csrf_token": token(client)})
    assert bad.status_code == 400 and all(c is None for c in recorded(attempt.id)[3])
    assert client.post(f"/quiz/attempts/{attempt.id}/draft", data={"q1": ["x"]}).status_code == 400  # no CSRF token
    everything = {f"q{i.position}": list(i.question.correct) for i in attempt.items}
    submit(client, attempt, everything)
    before = recorded(attempt.id)
    late = client.post(f"/quiz/attempts/{attempt.id}/draft", data={"csrf_token": token(client)},
                       headers={"X-Requested-With": "fetch"})
    assert late.status_code == 204 and recorded(attempt.id) == before  # a save still on its way: nothing kept
    db.session.commit()
