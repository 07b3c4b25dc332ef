"""Issue 17 point 8: every published version stays readable by the people who signed it and by HR; old module
links and the clause links in earlier quiz feedback redirect to that version's page, or, for someone who may
not read it, to the current version with a notice. Never "Page not found"."""

import re
from datetime import timedelta

from modules.assessments import services as quiz
from modules.core.extensions import db
from modules.training.queries import current_version
from tests.assessments.factories import read_everything
from tests.certificates.factories import demo_user, issue, publish_next_version
from tests.conftest import demo_email
from tests.helpers import sign_in


def _client(app, local: str, slug: str = "tkat"):
    client = app.test_client()
    sign_in(client, demo_email(local, slug))
    return client


def _v1_then_v2(now):
    """Sam signs TKAT version 1; then version 2 is published. Returns (v1, a v1 module, its v2 twin)."""
    cert = issue("staff", "tkat", now - timedelta(days=20))
    v1 = cert.version
    old = v1.sections[2]
    number, old_id, v1_id = old.number, old.id, v1.id
    v2 = publish_next_version(cert.trust_id, now - timedelta(days=1))
    twin = next(s for s in v2.sections if s.number == number)
    return v1_id, old_id, twin.id


def test_the_signer_follows_an_old_module_link_to_the_version_they_signed(app, now):
    v1_id, old_id, _ = _v1_then_v2(now)
    staff = _client(app, "staff")
    response = staff.get(f"/modules/{old_id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/policy/versions/{v1_id}/modules/{old_id}")
    page = staff.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "This is version 1 of the policy" in html and "You signed it on" in html
    assert 'id="clause-' in html  # clause anchors, so an old clause link lands on its clause
    whole = staff.get(f"/policy/versions/{v1_id}")
    assert whole.status_code == 200 and html.count('id="section-') <= whole.get_data(as_text=True).count('id="section-')


def test_someone_who_did_not_sign_it_is_sent_to_the_current_module_with_a_notice(app, now):
    _, old_id, twin_id = _v1_then_v2(now)
    teacher = _client(app, "teacher")
    response = teacher.get(f"/modules/{old_id}", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.request.path == f"/modules/{twin_id}"
    assert "The link you followed was to version 1 of the policy, which has been replaced by version 2" in html


def test_hr_reads_every_published_version(app, now):
    v1_id, old_id, _ = _v1_then_v2(now)
    hr = _client(app, "hr")
    whole = hr.get(f"/policy/versions/{v1_id}")
    assert whole.status_code == 200 and "This is version 1 of the policy" in whole.get_data(as_text=True)
    assert hr.get(f"/modules/{old_id}", follow_redirects=True).request.path == f"/policy/versions/{v1_id}/modules/{old_id}"


def test_another_trusts_version_is_404(app, now):
    v1_id, old_id, _ = _v1_then_v2(now)
    other = _client(app, "hr", "e-act")
    assert other.get(f"/policy/versions/{v1_id}").status_code == 404
    assert other.get(f"/policy/versions/{v1_id}/modules/{old_id}").status_code == 404
    assert other.get(f"/modules/{old_id}").status_code == 404


def test_clause_links_in_earlier_quiz_feedback_still_lead_to_the_clause(app, now):
    user = demo_user("staff", "tkat")
    read_everything(user, now - timedelta(days=30))
    attempt = quiz.start_or_resume(user, current_version(user.trust_id), now=now - timedelta(days=30))
    quiz.submit_attempt(attempt, [[item.option_order[0]] for item in attempt.items], now=now - timedelta(days=30))
    db.session.commit()
    attempt_id = attempt.id
    _v1_then_v2(now)
    staff = _client(app, "staff")
    feedback = staff.get(f"/quiz/attempts/{attempt_id}").get_data(as_text=True)
    links = re.findall(r'href="(/modules/\d+)#(clause-[^"]+)"', feedback)
    assert links
    for path, anchor in links:
        landed = staff.get(path, follow_redirects=True)
        assert landed.status_code == 200 and f'id="{anchor}"' in landed.get_data(as_text=True), (path, anchor)
