"""Issue 17 point 11: an evidence pack for a whole trust, and a bulk reminder, run in the queue's worker; the
page shows the job waiting, then its progress, then its result. The queue here is the real Huey SQLite store;
the test plays the worker by draining it in-process."""

import io
import re
import zipfile

from modules.core.extensions import db
from modules.notifications import queue
from modules.notifications.models import OutboxMessage
from modules.tracking import background, services
from tests.conftest import NOW
from tests.helpers import csrf_token
from tests.tracking.factories import demo_user, trust


def _start_pack(client) -> str:
    page = client.get("/tracking/evidence").get_data(as_text=True)
    response = client.post("/tracking/evidence/jobs", data={"csrf_token": csrf_token(page), "academy": ""})
    assert response.status_code == 302
    return re.search(r"/tracking/jobs/([\w-]+)$", response.location).group(1)


def test_a_whole_trust_pack_is_built_by_the_worker_with_progress(app, client, login):
    login("hr", "tkat")
    job_id = _start_pack(client)
    waiting = client.get(f"/tracking/jobs/{job_id}").get_data(as_text=True)
    assert "Waiting for the worker to start" in waiting and 'id="job-progress"' in waiting
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in waiting  # no-JS fallback
    assert client.get(f"/tracking/jobs/{job_id}/status").get_json()["status"] == "queued"
    assert client.get(f"/tracking/jobs/{job_id}/download").status_code == 404

    seen = []
    original = background._write

    def spy(job, state, app=None):
        seen.append((state["status"], state["done"], state["total"], state["step"]))
        original(job, state, app)

    background._write = spy
    try:
        assert queue.drain(app) == 1  # the worker's turn
    finally:
        background._write = original
    running = [s for s in seen if s[0] == "running"]
    assert [s[1] for s in running] == sorted(s[1] for s in running) and len(running) >= 7
    assert "Signing the ledger checkpoint" in {s[3] for s in running}
    assert client.get(f"/tracking/jobs/{job_id}/status").get_json()["status"] == "done"
    done = client.get(f"/tracking/jobs/{job_id}").get_data(as_text=True)
    assert 'id="job-download"' in done and "noscript" not in done
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/tracking/jobs/{job_id}/download").data))
    assert {"summary.html", "people.csv", "ledger/checkpoint.sig"} <= set(archive.namelist())


def test_only_the_person_who_started_a_job_sees_it(app, client, login):
    login("hr", "tkat")
    job_id = _start_pack(client)
    other = app.test_client()
    login("admin", "tkat", other)
    for path in ("", "/status", "/download"):
        assert other.get(f"/tracking/jobs/{job_id}{path}").status_code == 404
    assert client.get("/tracking/jobs/not-a-job").status_code == 404


def test_a_bulk_reminder_job_sends_each_person_once(app, client, login):
    services.ensure_assignments(trust(), now=NOW)
    db.session.commit()
    hr = demo_user("hr")
    people = [demo_user(local).id for local in ("staff", "teacher", "office")]
    with app.test_request_context():
        first = background.start("bulk_remind", user=hr, now=NOW, user_ids=people)
        second = background.start("bulk_remind", user=hr, now=NOW, user_ids=people)
    assert queue.drain(app) == 2
    db.session.rollback()
    assert background.read(first, app)["result"]["summary"].startswith("3 reminder(s)")
    assert background.read(second, app)["result"]["summary"].startswith("0 reminder(s)")
    rows = db.session.query(OutboxMessage).filter(OutboxMessage.reason.like("reminder%")).count()
    assert rows == 3


def test_the_daily_run_deletes_job_files_past_their_keeping_days(app, now):
    """Finished packs hold staff names: the daily run deletes those older than JOB_FILES_KEEP_DAYS (7)."""
    import os
    from datetime import UTC, timedelta

    from modules.tracking import jobs

    folder = background.job_folder(app)
    folder.mkdir(parents=True, exist_ok=True)
    ages = {"old.zip": 8, "last-week.zip": 7.01, "recent.zip": 6.9, "today.zip": 0}
    for name, days in ages.items():
        (folder / name).write_bytes(b"PK")
        stamp = (now - timedelta(days=days)).replace(tzinfo=UTC).timestamp()
        os.utime(folder / name, (stamp, stamp))
    report = jobs.run_daily(now=now, slug="tkat")
    assert sorted(p.name for p in folder.iterdir()) == ["recent.zip", "today.zip"]
    assert "jobs: 2 finished job file(s) deleted" in report.lines
    app.config["JOB_FILES_KEEP_DAYS"] = 1
    assert background.prune_files(app, now=now) == 1
    assert [p.name for p in folder.iterdir()] == ["today.zip"]
    assert background.prune_files(app, now=now) == 0
