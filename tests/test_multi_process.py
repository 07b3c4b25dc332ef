"""The production layout on one machine (issue 16 point 7): two app servers (gunicorn, 2 workers each, on their
own ports, as two machines behind a proxy would be), two Huey consumers, PostgreSQL, and Redis for the queue and
the rate limits. 200 new staff walk sign-in → every module → quiz → acknowledgement at once, spread over both
servers: no errors, one acknowledgement and one certificate each, one certificate email each (delivered by the
consumers), and a ledger that verifies.
"""

import contextlib
import http.cookiejar
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modules.assessments.models import AttemptQuestion, Question
from modules.attestation.models import Acknowledgement
from modules.core.extensions import db
from modules.evidence.ledger import verify_ledger
from modules.notifications.models import OutboxMessage
from modules.people.models import Academy, Trust, User
from modules.people.passwords import hash_password
from modules.people.services import grant_role, upsert_user
from tests.browser.conftest import free_port
from tests.notifications.sink import smtp_sink  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
STAFF = int(os.environ.get("MULTI_PROCESS_STAFF", "200"))
PASSWORD = "multi-process-password"
SLUG = "agora"
#: Both app servers: the same secret (a session made on one is good on the other), cheap argon2 as in the tests.
SERVER_CONFIG = "{'ARGON2_TIME_COST': 1, 'ARGON2_MEMORY_COST': 8, 'ARGON2_PARALLELISM': 1}"

pytestmark = pytest.mark.slow


@pytest.fixture(params=["postgresql"])
def backend(request) -> str:
    """This layout is PostgreSQL's (several machines cannot share a SQLite file)."""
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL (.ci/run does)")
    return request.param


def _wait_for(url: str, proc: subprocess.Popen, log: Path) -> None:
    for _ in range(600):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"{proc.args[0]} exited: " + log.read_text()[-3000:])
            time.sleep(0.1)
    pytest.fail(f"{url} never answered")


@contextlib.contextmanager
def _layout(db_url: str, tmp_path: Path, sink_port: int):
    """Two gunicorns (2 workers each) and two Huey consumers; yields the two base URLs; always stopped."""
    run = uuid.uuid4().hex[:12]
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "multi-process-test-secret-key-0123456789",
           "REDIS_URL": "redis://127.0.0.1:6379/0", "HUEY_QUEUE": f"pp-test-{run}",
           "RATELIMIT_KEY_PREFIX": f"pp-test-{run}", "LOGIN_RATE_LIMIT": "2000 per minute",
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(sink_port), "MAIL_TIMEOUT": "10", "MAIL_LOCAL_HOSTNAME": "localhost",
           "MAIL_DELIVERY": "worker", "MFA_ENFORCE": "0", "DAILY_RUN_AT": "03:33"}
    bin_dir = Path(sys.executable).parent
    procs, logs, bases = [], [], []
    try:
        for name in ("app-a", "app-b", "consumer-a", "consumer-b"):
            log_path = tmp_path / f"{name}.log"
            log = open(log_path, "wb")  # noqa: SIM115  (closed below)
            logs.append(log)
            instance = {"INSTANCE_PATH": str(tmp_path / name)}
            if name.startswith("app"):
                port = free_port()
                command = [str(bin_dir / "gunicorn"), "--workers", "2", "--timeout", "120",
                           "--bind", f"127.0.0.1:{port}", f"app:create_app({SERVER_CONFIG})"]
                bases.append(f"http://127.0.0.1:{port}")
            else:
                command = [str(bin_dir / "flask"), "--app", "app:create_app", "reminders", "worker"]
            procs.append(subprocess.Popen(command, cwd=ROOT, env={**env, **instance}, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))
            if name.startswith("app"):
                _wait_for(bases[-1] + "/healthz", procs[-1], log_path)
        yield bases
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait(timeout=10)
        for log in logs:
            log.close()


def _make_staff(count: int, now) -> list[tuple[str, str]]:
    """`count` new staff in one academy, each with a password; committed."""
    trust = db.session.scalar(select(Trust).where(Trust.slug == SLUG))
    academy = db.session.scalar(select(Academy).where(Academy.trust_id == trust.id).order_by(Academy.id))
    password_hash = hash_password(PASSWORD)
    people = []
    for i in range(count):
        user = upsert_user(trust, email=f"induction{i:03d}@{SLUG}.example", name=f"New Starter {i:03d}", now=now,
                           academy=academy, job_title="Teaching assistant", password_hash=password_hash)
        grant_role(user, "staff", academy)
        people.append((user.email, user.name))
    db.session.commit()
    return people


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class _Browser:
    """One person's cookies against one server; every unexpected answer raises with its status and URL."""

    def __init__(self, base: str):
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=120) as response:
            return response.read().decode()

    def post(self, path: str, data: dict | list) -> str:
        """Post a form; the app answers a good post with a redirect, whose target is returned."""
        try:
            self.opener.open(self.base + path, data=urllib.parse.urlencode(data, doseq=True).encode(), timeout=120)
        except urllib.error.HTTPError as exc:
            if exc.code in (302, 303):
                return exc.headers["Location"]
            raise AssertionError(f"POST {path}: {exc.code} {exc.read().decode(errors='replace')[-400:]}") from exc
        raise AssertionError(f"POST {path} answered 200: a form error")


def _hidden(html: str, name: str) -> str:
    match = (re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)
             or re.search(rf'name="{name}" value="([^"]*)"', html)
             or re.search(rf'value="([^"]*)"[^>]*name="{name}"', html))
    assert match, f"no {name} on the page"
    return match.group(1)


def _answers(engine: sa.Engine, attempt_id: int) -> list[tuple[str, str]]:
    """The right answers to an attempt's drawn questions (the person has read the policy well)."""
    with Session(engine) as session:
        rows = session.execute(select(AttemptQuestion.position, Question.correct)
                               .join(Question, Question.id == AttemptQuestion.question_id)
                               .where(AttemptQuestion.attempt_id == attempt_id)).all()
    return [(f"q{position}", option) for position, correct in rows for option in correct]


def _walk(base: str, email: str, name: str, engine: sa.Engine) -> None:
    """Sign in, read every module, pass the quiz and acknowledge, as a new member of staff would."""
    browser = _Browser(base)
    page = browser.get("/sign-in")
    assert browser.post("/sign-in", {"email": email, "password": PASSWORD,
                                     "csrf_token": _hidden(page, "csrf_token")}).endswith("/")
    home = browser.get("/")
    for section_id in dict.fromkeys(re.findall(r'href="/modules/(\d+)"', home)):
        module = browser.get(f"/modules/{section_id}")
        if 'action="/modules/' in module:
            browser.post(f"/modules/{section_id}/read", {"csrf_token": _hidden(module, "csrf_token")})
    quiz = browser.get("/quiz")
    attempt_path = urllib.parse.urlsplit(
        browser.post("/quiz/start", {"csrf_token": _hidden(quiz, "csrf_token")})).path
    attempt_id = int(attempt_path.rsplit("/", 1)[1])
    form = browser.get(attempt_path)
    browser.post(attempt_path, [("csrf_token", _hidden(form, "csrf_token")), *_answers(engine, attempt_id)])
    assert "passed" in browser.get(attempt_path).lower()
    form = browser.get("/acknowledge")
    boxes = re.findall(r'name="(statement_[a-z_]+)" type="checkbox"', form)
    receipt = browser.post("/acknowledge", {
        "csrf_token": _hidden(form, "csrf_token"), "idempotency_key": _hidden(form, "idempotency_key"),
        "shown_digest": _hidden(form, "shown_digest"), "acknowledge": "Acknowledge and sign",
        "full_name": name, **{box: "y" for box in boxes}})
    assert "/acknowledgements/" in receipt, receipt


def test_200_new_staff_through_two_servers_and_two_consumers(app, db_url, tmp_path, now, smtp_sink):  # noqa: F811
    people = _make_staff(STAFF, now)
    engine = sa.create_engine(db_url, pool_size=20, max_overflow=0)
    errors: list[str] = []
    lock = threading.Lock()

    def one(index: int, email: str, name: str, bases: list[str]) -> None:
        try:
            _walk(bases[index % 2], email, name, engine)
        except Exception as exc:  # every failure is counted and shown, none stops the others
            with lock:
                errors.append(f"{email}: {exc!r}"[:500])

    try:
        with _layout(db_url, tmp_path, smtp_sink.port) as bases:
            with ThreadPoolExecutor(max_workers=50) as pool:
                list(pool.map(lambda args: one(*args, bases), [(i, e, n) for i, (e, n) in enumerate(people)]))
            assert not errors, f"{len(errors)} of {STAFF} failed, e.g. {errors[:3]}"
            emails = {email for email, _ in people}
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                got = [r for _, rcpts in smtp_sink.envelopes for r in rcpts if r in emails]
                if len(set(got)) == STAFF:
                    break
                time.sleep(0.5)
            time.sleep(2)  # a second copy of anyone's email would arrive in this time
    finally:
        engine.dispose()

    got = [r for _, rcpts in smtp_sink.envelopes for r in rcpts if r in emails]
    assert sorted(got) == sorted(emails), f"{len(set(got))} of {STAFF} had their email; {len(got)} sent"
    db.session.rollback()
    ids = list(db.session.scalars(select(User.id).where(User.email.in_(emails))))
    per_person = db.session.execute(
        select(Acknowledgement.user_id, func.count()).where(Acknowledgement.user_id.in_(ids),
                                                            Acknowledgement.decision == "acknowledged")
        .group_by(Acknowledgement.user_id)).all()
    assert len(per_person) == STAFF and all(count == 1 for _, count in per_person)
    from modules.certificates.models import Certificate

    assert db.session.scalar(select(func.count(func.distinct(Certificate.user_id)))
                             .where(Certificate.user_id.in_(ids))) == STAFF
    assert db.session.scalar(select(func.count()).select_from(Certificate).where(Certificate.user_id.in_(ids))) == STAFF
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.recipient.in_(emails), OutboxMessage.status != "sent")) == 0
    report = verify_ledger()
    assert report.ok, report.problem
