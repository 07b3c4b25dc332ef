"""Concurrent acknowledgements over HTTP against a live gunicorn server, from separate OS processes.

100 people at once: 100 records, no duplicates, no errors, and the ledger verifies. One person's identical
submission sent 20 times at once: one record (and one certificate), and the same receipt for every reply.
Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from modules.assessments.models import QuizAttempt
from modules.attestation.models import Acknowledgement
from modules.core.extensions import db
from modules.evidence.ledger import verify_ledger
from modules.people.models import Academy, Trust, User
from modules.people.passwords import hash_password
from modules.people.services import grant_role, upsert_user
from modules.training.queries import current_version
from tests.attestation.factories import demo_user, passed_attempt
from tests.browser.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CLIENT = Path(__file__).with_name("ack_client.py")
PASSWORD = "concurrency-password"
#: The server's configuration: cheap argon2 (as in the tests) and no login rate limit (all from one IP).
SERVER_CONFIG = ("{'ARGON2_TIME_COST': 1, 'ARGON2_MEMORY_COST': 8, 'ARGON2_PARALLELISM': 1, "
                 "'RATELIMIT_ENABLED': False, 'SECRET_KEY': 'concurrency-test'}")
WORKERS = 4

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def live_server(db_url: str, instance: Path):
    """gunicorn with several sync workers on a free port, against the test database."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "INSTANCE_PATH": str(instance)}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = open(instance.parent / "gunicorn.log", "wb")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen([str(gunicorn), "--preload", "--workers", str(WORKERS), "--worker-class", "sync",
                             "--timeout", "120",
                             "--bind", f"127.0.0.1:{port}", f"app:create_app({SERVER_CONFIG})"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("server exited: " + (instance.parent / "gunicorn.log").read_text())
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _make_people(count: int, slug: str, now) -> list[tuple[str, str]]:
    """`count` staff of the trust with a password and a passed attempt on the current version; committed."""
    db.session.commit()
    trust = db.session.scalar(select(Trust).where(Trust.slug == slug))
    academy = db.session.scalar(select(Academy).where(Academy.trust_id == trust.id).order_by(Academy.id))
    version = current_version(trust.id)
    password_hash = hash_password(PASSWORD)
    people = []
    for i in range(count):
        user = upsert_user(trust, email=f"load{i:03d}@{slug}.example", name=f"Load Tester {i:03d}", now=now,
                           academy=academy, job_title="Teacher", password_hash=password_hash)
        grant_role(user, "staff", academy)
        db.session.add(QuizAttempt(user_id=user.id, version_id=version.id, started_at=now, finished_at=now,
                                   score=90, passed=True, pass_mark=80))
        people.append((user.email, user.name))
    db.session.commit()
    return people


def _start(base: str, email: str, password: str, name: str, go: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(CLIENT), base, email, password, name, str(go), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _ready(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline().strip()
    assert line == "READY", f"client failed before submitting: {line} {proc.stdout.read()}"


def _results(procs: list[subprocess.Popen]) -> list[dict]:
    out = []
    for proc in procs:
        line = proc.stdout.readline().strip()
        proc.wait(timeout=120)
        out.append(json.loads(line) if line.startswith("{") else {"status": None, "error": line})
    return out


def _certificates(user_ids: list[int]) -> int:
    """How many certificates these people hold."""
    from modules.certificates.models import Certificate

    return db.session.scalar(select(func.count()).select_from(Certificate).where(Certificate.user_id.in_(user_ids)))


def test_100_people_acknowledge_at_once(app, db_url, tmp_path, now):
    started = time.monotonic()
    people = _make_people(100, "e-act", now)
    go = tmp_path / "go"
    timings = {"people": time.monotonic() - started}
    with live_server(db_url, tmp_path / "instance") as base:
        timings["server"] = time.monotonic() - started
        procs = [_start(base, email, PASSWORD, name, go) for email, name in people]
        for proc in procs:
            _ready(proc)
        timings["ready"] = time.monotonic() - started
        go.touch()
        results = _results(procs)
        timings["posted"] = time.monotonic() - started
    print(f"100 concurrent acknowledgements, seconds since start: {timings}")
    errors = [r for r in results if r["status"] != 302 or not (r.get("location") or "").count("/acknowledgements/")]
    assert not errors, f"{len(errors)} errors, e.g. {errors[:3]}"
    assert len({r["location"] for r in results}) == 100
    db.session.rollback()
    ids = list(db.session.scalars(select(User.id).where(User.email.in_([e for e, _ in people]))))
    for decision in ("acknowledged", "consent given"):  # E-ACT: consent is its own record, made alongside
        rows = db.session.execute(select(Acknowledgement.user_id, func.count()).where(
            Acknowledgement.user_id.in_(ids), Acknowledgement.decision == decision)
            .group_by(Acknowledgement.user_id)).all()
        assert len(rows) == 100 and all(count == 1 for _, count in rows), f"duplicates or missing: {decision}"
    report = verify_ledger()
    assert report.ok, report.problem
    assert _certificates(ids) == 100


def test_20_identical_submissions_give_one_record(app, db_url, tmp_path, now):
    user = demo_user("staff", "tsat")
    passed_attempt(user, now=now)
    db.session.commit()
    go, state = tmp_path / "go", tmp_path / "state.json"
    from demo.cast import DEMO_PASSWORD

    with live_server(db_url, tmp_path / "instance") as base:
        first = _start(base, user.email, DEMO_PASSWORD, user.name, go, "--state", str(state))
        _ready(first)
        procs = [first] + [_start(base, user.email, DEMO_PASSWORD, user.name, go, "--reuse", str(state))
                           for _ in range(19)]
        for proc in procs[1:]:
            _ready(proc)
        go.touch()
        results = _results(procs)
    assert all(r["status"] == 302 for r in results), results
    assert len({r["location"] for r in results}) == 1, "every reply must be the same receipt"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Acknowledgement).where(
        Acknowledgement.user_id == user.id)) == 1
    assert _certificates([user.id]) == 1
    assert verify_ledger().ok
