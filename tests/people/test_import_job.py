"""Issue 17 point 11: a staff import of many rows is applied by the queue's worker, its progress on the job page,
then its result (rows imported, rows refused with their reasons). A file changed since the preview, or an
import failing part-way, imports nothing. The test plays the worker by draining the real Huey store."""

import re

import pytest
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.notifications import queue
from modules.notifications.models import OutboxMessage
from modules.people import importer
from modules.people.models import User
from modules.tracking import background
from tests.people.test_import import _apply_fields, _upload, make_csv, person


@pytest.fixture
def app_config():
    """A small threshold, so a few hundred rows are "many"."""
    return {"STAFF_IMPORT_IN_WORKER": 20}


def _new_people() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.email.like("new%@school.example")))


def _start(client, rows) -> str:
    html = _upload(client, make_csv(rows)).get_data(as_text=True)
    response = client.post("/staff/import/apply", data=_apply_fields(html))
    assert response.status_code == 302, response.get_data(as_text=True)
    return re.search(r"/tracking/jobs/([\w-]+)$", response.location).group(1)


def test_many_rows_are_imported_by_the_worker_with_progress_then_the_result(app, client, login):
    login("hr", "tkat")
    rows = [person(n) for n in range(300)]
    rows[10] = person(10, email="not-an-email")
    rows[200] = person(200, academy="Hogwarts")
    job_id = _start(client, rows)
    waiting = client.get(f"/tracking/jobs/{job_id}").get_data(as_text=True)
    assert "Staff import" in waiting and "Waiting for the worker to start" in waiting
    assert _new_people() == 0  # nothing yet: the worker applies it

    seen = []
    original = background._write

    def spy(job, state, app=None):
        seen.append((state["status"], state["done"], state["total"], state["step"]))
        original(job, state, app)

    background._write = spy
    try:
        assert queue.drain(app) == 1
    finally:
        background._write = original
    steps = [s[3] for s in seen if s[0] == "running"]
    assert "Checking every row of the file" in steps and "Saving row 51 of 298" in steps
    assert "Linking line managers and roles" in steps
    db.session.rollback()
    assert _new_people() == 298
    done = client.get(f"/tracking/jobs/{job_id}").get_data(as_text=True)
    assert "298 rows imported" in done and 'id="result-skipped">2<' in done
    assert "Row 12 has an email address that is not valid: “not-an-email”" in done
    assert "Row 202 names an academy that is not in TKAT: “Hogwarts”" in done
    assert "noscript" not in done
    # Each new person's set-password invitation is written once; the upload is used up.
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.recipient.like("new%@school.example"))) == 298


def test_a_file_changed_since_the_preview_imports_nothing(app, client, login, now):
    login("hr", "tkat")
    rows = [person(n) for n in range(30)]
    job_id = _start(client, rows)
    hr = db.session.scalar(select(User).where(User.email.like("hr@tkat%")))
    db.session.add(User(trust_id=hr.trust_id, email="new5@school.example", name="Already Here", active=True,
                        created_at=now))
    db.session.commit()
    assert queue.drain(app) == 1
    db.session.rollback()
    assert _new_people() == 1
    done = client.get(f"/tracking/jobs/{job_id}").get_data(as_text=True)
    assert "Nothing was imported" in done and "Staff records changed since you checked the file" in done


def test_an_import_failing_part_way_imports_nothing(app, client, login, monkeypatch):
    login("hr", "tkat")
    job_id = _start(client, [person(n) for n in range(60)])
    calls = []
    real = importer.upsert_user

    def breaks_at_the_fortieth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 40:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "upsert_user", breaks_at_the_fortieth)
    assert queue.drain(app) == 1
    db.session.rollback()
    assert len(calls) == 40 and _new_people() == 0
    assert background.read(job_id, app)["status"] == background.FAILED
    failed = client.get(f"/tracking/jobs/{job_id}").get_data(as_text=True)
    assert "This did not finish" in failed and "Nothing was imported" in failed
