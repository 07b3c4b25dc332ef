"""Taking the quiz through the web: gating, the draw, grading, feedback, retries, tampering and analytics."""

import re

import pytest
from sqlalchemy import func, select

from modules.assessments import queries, services
from modules.assessments.models import AttemptQuestion, Question, QuizAttempt
from modules.core.extensions import db
from modules.policies.rendering import clause_anchor
from modules.training.queries import current_version
from tests.assessments.factories import demo_user, read_everything
from tests.helpers import csrf_token


def token(client) -> str:
    """A CSRF token for the signed-in session, from a module page (it always has a form)."""
    html = client.get("/").get_data(as_text=True)
    module = re.search(r'href="(/modules/\d+)"', html).group(1)
    return csrf_token(client.get(module).get_data(as_text=True))


def start(client) -> QuizAttempt:
    """Press "Start the quiz" and return the attempt it opened."""
    response = client.post("/quiz/start", data={"csrf_token": token(client)})
    assert response.status_code == 302
    attempt_id = int(re.search(r"/quiz/attempts/(\d+)$", response.headers["Location"]).group(1))
    db.session.commit()  # a new transaction sees what the request committed
    return db.session.get(QuizAttempt, attempt_id)


def answers(attempt: QuizAttempt, right: bool) -> dict[str, list[str]]:
    """Form data answering every question rightly, or every one wrongly."""
    data = {}
    for item in attempt.items:
        correct = list(item.question.correct)
        if right:
            data[services.field_name(item)] = correct
        else:
            wrong = [o for o in item.option_order if o not in correct]
            data[services.field_name(item)] = wrong[:1]
    return data


def submit(client, attempt: QuizAttempt, data: dict, with_token: bool = True):
    """Post answers to the attempt."""
    if with_token:
        data = {**data, "csrf_token": token(client)}
    return client.post(f"/quiz/attempts/{attempt.id}", data=data)


def recorded(attempt_id: int) -> tuple:
    """What is stored for an attempt: its finish, score and the chosen options."""
    db.session.commit()  # a new transaction sees what the request committed
    attempt = db.session.get(QuizAttempt, attempt_id)
    return attempt.finished_at, attempt.score, attempt.passed, [i.chosen for i in attempt.items]


@pytest.fixture
def staff(app, client, login):
    """TKAT's demo staff member, signed in, with every module read."""
    login("staff", "tkat")
    user = demo_user("staff", "tkat")
    read_everything(user)
    return user


def test_the_quiz_stays_shut_until_every_module_is_read(app, client, login):
    """Before reading everything: no start button, and starting anyway records nothing."""
    login("staff", "tkat")
    page = client.get("/quiz").get_data(as_text=True)
    assert "Read every module first" in page and "Start the quiz" not in page
    response = client.post("/quiz/start", data={"csrf_token": token(client)}, follow_redirects=True)
    assert "Read every module before you take the quiz." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 0


def test_an_attempt_draws_n_questions_covering_every_module_with_shuffled_options(app, client, staff):
    """N questions, one or more from each module with a reviewed, unambiguous question; orders stored."""
    assert "Start the quiz" in client.get("/quiz").get_data(as_text=True)
    attempt = start(client)
    version = current_version(staff.trust_id)
    pool = services.drawable_questions(version)
    assert len(attempt.items) == staff.trust.rules.quiz_questions == 10
    assert {i.question.section_id for i in attempt.items} == {q.section_id for q in pool}
    assert len({i.question_id for i in attempt.items}) == 10
    for item in attempt.items:
        assert item.question.drawable
        assert sorted(item.option_order) == sorted(o["id"] for o in item.question.options)
    assert attempt.started_at is not None and attempt.finished_at is None and attempt.pass_mark == 80
    page = client.get(f"/quiz/attempts/{attempt.id}").get_data(as_text=True)
    assert page.count('class="govuk-fieldset"') == 10
    assert '<span class="govuk-caption-m">Question 1 of 10</span>' in page and "&lt;span" not in page
    assert 'type="radio"' in page
    first = attempt.items[0]
    texts = {o["id"]: o["text"] for o in first.question.options}
    shown = [texts[i] for i in first.option_order]
    positions = [page.index(re.sub(r"'", "&#39;", t).replace('"', "&#34;")) for t in shown]
    assert positions == sorted(positions), "options are shown in the attempt's stored order"


def test_ambiguous_and_unreviewed_questions_never_reach_staff(app, staff, now):
    """Across many draws only reviewed, unambiguous questions appear."""
    import random

    version = current_version(staff.trust_id)
    hidden = db.session.scalars(select(Question).where(Question.version_id == version.id)
                                .where((Question.ambiguous.is_(True)) | (Question.reviewed.is_(False)))).all()
    assert hidden, "the TKAT bank has an ambiguous question"
    db.session.commit()
    for seed in range(25):
        attempt = services.start_attempt(staff, version, now=now, rng=random.Random(seed))
        assert not {i.question_id for i in attempt.items} & {q.id for q in hidden}
    db.session.rollback()


def test_fail_then_retry_with_a_fresh_draw_then_pass_with_feedback_citing_clauses(app, client, staff):
    """A failed attempt shows feedback linking each clause; a retry is a new draw; passing is recorded."""
    first = start(client)
    response = submit(client, first, answers(first, right=False))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You did not pass this time" in page and "You scored 0%" in page
    for item in first.items:
        for ref in item.question.clause_refs:
            link = queries.clause_links(item.question.version_id, [ref])[0]
            assert f'href="/modules/{link.section_id}#{clause_anchor(ref)}"' in page
    finished_at, score, passed, chosen = recorded(first.id)
    assert finished_at is not None and score == 0 and passed is False and all(chosen)

    second = start(client)
    assert second.id != first.id and second.finished_at is None
    assert {i.id for i in second.items}.isdisjoint({i.id for i in first.items})
    response = submit(client, second, answers(second, right=True))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You passed" in page and "100%" in page
    db.session.commit()
    assert queries.latest_passed_attempt(staff, current_version(staff.trust_id)).id == second.id
    assert_summary_agrees(staff, first=first.id, second=second.id)
    history = client.get("/quiz").get_data(as_text=True)
    assert "Passed" in history and "Not passed" in history and "Try the quiz again" in history
    stored = db.session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == staff.id)).all()
    assert len(stored) == 2 and all(a.finished_at and a.score is not None for a in stored)


def assert_summary_agrees(staff, **ids) -> None:
    """The quiz page's one-read summary gives what the three single queries give (a third attempt left open)."""
    version = current_version(staff.trust_id)
    summary = queries.attempts_summary(staff, version)
    assert summary.passed.id == ids["second"] == queries.latest_passed_attempt(staff, version).id
    assert [a.id for a in summary.finished] == [a.id for a in queries.attempts_for(staff, version)] \
        == [ids["second"], ids["first"]]
    assert summary.open is None and queries.open_attempt(staff, version) is None
    third = QuizAttempt(user_id=staff.id, version_id=version.id, started_at=summary.passed.finished_at,
                        pass_mark=summary.passed.pass_mark)
    db.session.add(third)
    db.session.flush()
    assert queries.open_attempt(staff, version).id == third.id == queries.attempts_summary(staff, version).open.id
    assert [a.id for a in queries.attempts_summary(staff, version).finished] == [ids["second"], ids["first"]]
    db.session.rollback()


def test_unanswered_questions_are_asked_again_and_nothing_is_recorded(app, client, staff):
    """Leaving questions out re-shows the form with a GOV.UK error summary."""
    attempt = start(client)
    data = answers(attempt, right=True)
    data.pop("q3")
    response = submit(client, attempt, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "There is a problem" in page
    assert "Select an answer to question 3" in page or "Select at least one answer to question 3" in page
    assert recorded(attempt.id)[0] is None


@pytest.mark.parametrize("tamper", ["stray option", "unknown field", "two answers", "no csrf"])
def test_a_tampered_submission_is_a_400_and_records_nothing(app, client, staff, tamper):
    """An option not drawn, an unknown field, two answers to one radio, or no CSRF token: 400, nothing stored."""
    attempt = start(client)
    data = answers(attempt, right=True)
    single = next(i for i in attempt.items if i.question.type != "multiple")
    if tamper == "stray option":
        data[services.field_name(single)] = ["z"]
    elif tamper == "unknown field":
        data["score"] = ["100"]
    elif tamper == "two answers":
        data[services.field_name(single)] = single.option_order[:2]
    response = submit(client, attempt, data, with_token=tamper != "no csrf")
    assert response.status_code == 400
    if tamper != "no csrf":
        assert "nothing was recorded" in response.get_data(as_text=True)
    assert recorded(attempt.id) == (None, None, None, [None] * len(attempt.items))


def test_a_finished_attempt_cannot_be_resubmitted(app, client, staff):
    """Posting to a finished attempt again is a 400 and the first answers stand."""
    attempt = start(client)
    submit(client, attempt, answers(attempt, right=False))
    first = recorded(attempt.id)
    response = submit(client, attempt, answers(attempt, right=True))
    assert response.status_code == 400
    assert "already been submitted" in response.get_data(as_text=True)
    assert recorded(attempt.id) == first


def test_someone_elses_attempt_is_a_404(app, client, staff, login):
    """Another person's attempt (same trust or another) is not found, for viewing or submitting."""
    attempt = start(client)
    data = {**answers(attempt, right=True)}
    for local, slug in (("teacher", "tkat"), ("staff", "e-act")):
        other = app.test_client()
        login(local, slug, c=other)
        assert other.get(f"/quiz/attempts/{attempt.id}").status_code == 404
        assert other.post(f"/quiz/attempts/{attempt.id}", data={**data, "csrf_token": token(other)}).status_code == 404
    assert recorded(attempt.id)[0] is None


def one_question_attempt(slug: str, core_id: str, now) -> QuizAttempt:
    """An open attempt of the trust's demo staff member holding just one core question, options in bank order."""
    user = demo_user("staff", slug)
    version = current_version(user.trust_id)
    question = db.session.scalar(select(Question).where(Question.version_id == version.id,
                                                        Question.core_id == core_id, Question.active.is_(True)))
    attempt = QuizAttempt(user_id=user.id, version_id=version.id, started_at=now, pass_mark=80)
    attempt.items.append(AttemptQuestion(question=question, position=1,
                                         option_order=[o["id"] for o in question.options]))
    db.session.add(attempt)
    db.session.commit()
    return attempt


def test_the_friend_request_scenario_is_marked_by_each_trusts_own_clause(app, login, now):
    """The same answer to the same scenario is right for TKAT and wrong for E-ACT and TaSMAT, each citing its clause."""
    db.session.commit()
    tkat_key = db.session.scalar(select(Question.correct).where(Question.key == "tkat-pupil-friend-request"))
    outcomes = {}
    for slug, clause in (("tkat", "3.3.1"), ("e-act", "5.2"), ("tasmat", "6.6")):
        attempt = one_question_attempt(slug, "pupil-friend-request", now)
        client = app.test_client()
        login("staff", slug, c=client)
        response = client.post(f"/quiz/attempts/{attempt.id}", data={"q1": tkat_key, "csrf_token": token(client)})
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        db.session.commit()
        outcomes[slug] = db.session.get(QuizAttempt, attempt.id).items[0].correct
        assert f"#clause-{clause}" in page and f"Clause {clause}" in page
    assert outcomes == {"tkat": True, "e-act": False, "tasmat": False}


def test_item_analytics_show_the_trusts_own_results_per_question_and_clause(app, login, now):
    """HR sees % correct per question and per clause for their trust only; staff cannot see the page."""
    db.session.commit()
    right = one_question_attempt("tkat", "pupil-friend-request", now)
    services.submit_attempt(right, [list(right.items[0].question.correct)], now=now)
    wrong = one_question_attempt("tkat", "pupil-friend-request", now)
    services.submit_attempt(wrong, [["a"]], now=now)
    other = one_question_attempt("e-act", "press-enquiry", now)
    services.submit_attempt(other, [list(other.items[0].question.correct)], now=now)
    db.session.commit()
    client = app.test_client()
    login("hr", "tkat", c=client)
    page = client.get("/quiz/analytics").get_data(as_text=True)
    assert "tkat-pupil-friend-request" in page and "e-act-press-enquiry" not in page
    clause_row = re.search(r'<th scope="row" class="govuk-table__header">3\.3\.1</th>(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r">(\d+%?)</td>", clause_row) == ["3", "2", "50%"]  # module 3, 2 answers, 50% right
    staff = app.test_client()
    login("staff", "tkat", c=staff)
    assert staff.get("/quiz/analytics").status_code == 403


def test_starting_again_while_an_attempt_is_open_resumes_it(app, client, staff):
    """"Start" with an unfinished attempt goes back to it rather than drawing another."""
    first = start(client)
    assert "Continue the quiz" in client.get("/quiz").get_data(as_text=True)
    assert start(client).id == first.id
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 1
