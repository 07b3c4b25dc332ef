"""Concurrent acknowledgements through a real gunicorn (2 sync workers, gunicorn.conf.py), with `kill -9` of a
worker and then of the master mid-burst, a restart, and the people who got no receipt sending again.

Each person is a thread with its own session (signed in, the form loaded) that posts the acknowledgement form
at the same moment as everyone else. After the burst, every person without a receipt posts the identical
submission (same idempotency key) to the restarted server until they get one. Then the database is counted:
receipts against rows, duplicates, orphans (a record without its ledger entry, an acknowledgement without its
certificate, a certificate without its PDF after the render sweep, a ledger entry without its record), and
`flask ledger verify` runs as a separate process.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from tests.assurance.runner import Database, Part, app_context
from tests.attestation.ack_client import _post, _prepare
from tests.attestation.test_concurrency import PASSWORD, _make_people
from tests.browser.conftest import free_port

TITLE = "Concurrent acknowledgements, kill -9 and restart"
ROOT = Path(__file__).resolve().parents[2]
SLUG = "e-act"  # asks for monitoring consent too: two records per person, one ledger chain for everyone
SECRET = "assurance-battery"  # the same across the restart, so the clients' sessions carry on
#: Cheap argon2 (as in the tests) and no sign-in rate limit: every client comes from 127.0.0.1.
SERVER_CONFIG = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1,
                 "RATELIMIT_ENABLED": False, "SECRET_KEY": SECRET, "MFA_ENFORCE": False, "MAIL_DELIVERY": "none"}
RETRIES = 6
DEADLINE = 120  # seconds a client waits for one reply


class Server:
    """gunicorn with 2 sync workers in its own process group, on a fixed port (so it can be restarted)."""

    def __init__(self, database: Database, port: int, log: Path):
        self.database, self.port, self.log = database, port, log
        self.proc: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        """Start and wait (up to 120 s) until /healthz answers."""
        env = {**os.environ, "DATABASE_URL": self.database.url, "INSTANCE_PATH": str(self.database.instance)}
        gunicorn = Path(sys.executable).parent / "gunicorn"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(gunicorn), "--workers", "2", "--worker-class", "sync", "--timeout", str(DEADLINE),
                 "--bind", f"127.0.0.1:{self.port}", f"app:create_app({SERVER_CONFIG!r})"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self.log.read_text()[-2000:])
            with contextlib.suppress(OSError):
                urllib.request.urlopen(self.base + "/healthz", timeout=5)
                return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz within 120 s")

    def workers(self) -> list[int]:
        """The master's worker processes."""
        found = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in found.split()]

    def group_alive(self) -> bool:
        """Whether any process of the server's group (master or orphaned workers) is still running."""
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def wait_for_group(self, seconds: float) -> bool:
        """Reap the master and wait until its whole group has gone (the workers notice the master is gone)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=0.1)
            if self.proc.poll() is not None and not _group_has_live(self.proc.pid):
                return True
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        """SIGTERM the group, then SIGKILL whatever is left; always reaps the master."""
        if self.proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            if self.wait_for_group(30):
                break
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


def _group_has_live(pgid: int) -> bool:
    """Whether any process of the group is alive and not a zombie."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


class Burst:
    """The clients' side: sessions, replies as they arrive, and the kills triggered by reply counts."""

    def __init__(self, server: Server, people: list[tuple[str, str]], kill_after: tuple[int, int]):
        self.server, self.people, self.kill_after = server, people, kill_after
        self.sessions: dict[str, tuple[str, dict]] = {}
        self.receipts: dict[str, str] = {}
        self.replies: dict[str, list[dict]] = {email: [] for email, _ in people}
        self.lock = threading.Lock()
        self.done = 0
        self.kills: list[str] = []
        self.after_master = 0  # replies that arrived after the master was killed (its orphaned workers drain)
        self.go = threading.Event()

    def prepare(self) -> None:
        """Sign everyone in and load their form (8 at a time)."""
        def one(person):
            email, name = person
            self.sessions[email] = _prepare(self.server.base, email, PASSWORD, name)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, self.people))

    def _send(self, email: str) -> dict:
        cookie, data = self.sessions[email]
        reply = _post(self.server.base, cookie, data)
        location = reply.get("location") or ""
        with self.lock:
            self.replies[email].append(reply)
            if reply["status"] == 302 and "/acknowledgements/" in location:
                self.receipts.setdefault(email, location)
                if self.receipts[email] != location:
                    self.replies[email].append({"status": "different receipt", "location": location})
            self.done += 1
            if len(self.kills) == 2:
                self.after_master += 1
            self._maybe_kill()
        return reply

    def _maybe_kill(self) -> None:
        first, second = self.kill_after
        if self.done >= first and not self.kills:
            workers = self.server.workers()
            if workers:
                os.kill(workers[0], signal.SIGKILL)
                self.kills.append(f"worker {workers[0]} after {self.done} replies")
        elif self.done >= second and len(self.kills) == 1:
            os.kill(self.server.proc.pid, signal.SIGKILL)
            self.kills.append(f"master {self.server.proc.pid} after {self.done} replies")

    def burst(self) -> None:
        """Everyone posts at once (one thread each)."""
        def one(email):
            self.go.wait()
            self._send(email)
        threads = [threading.Thread(target=one, args=(email,)) for email, _ in self.people]
        for thread in threads:
            thread.start()
        self.go.set()
        for thread in threads:
            thread.join()

    def retry(self) -> int:
        """Those without a receipt send the identical submission again (a few times); returns the retries."""
        sent = 0
        for _ in range(RETRIES):
            waiting = [email for email, _ in self.people if email not in self.receipts]
            if not waiting:
                break
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(self._send, waiting))
            sent += len(waiting)
        return sent


def _count(sql: str, **params) -> int:
    return db.session.execute(sa.text(sql), params).scalar() or 0


def _flask(database: Database, *args: str) -> tuple[int, str]:
    """Run a `flask` command against the database in its own process: (exit code, last line of output)."""
    env = {**os.environ, "DATABASE_URL": database.url, "INSTANCE_PATH": str(database.instance),
           "FLASK_APP": "app:create_app"}
    done = subprocess.run([str(Path(sys.executable).parent / "flask"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, lines[-1] if lines else ""


def _without_pdf(ack_ids: list[int]) -> int:
    """Certificates of these acknowledgements whose PDF bytes are not there (yet)."""
    from modules.certificates.models import Certificate

    db.session.rollback()  # a new transaction: on SQLite an older read would not see the sweep's renders
    certs = db.session.scalars(sa.select(Certificate).where(Certificate.acknowledgement_id.in_(ack_ids))).all()
    if hasattr(Certificate, "pdf_state"):  # PDFs rendered after commit: "ready", "preparing" or "erased"
        return sum(1 for cert in certs if cert.pdf_state != "ready")
    return sum(1 for cert in certs if cert.personal is None or not cert.personal.pdf)


def _sweep_renders(app, database: Database) -> str:
    """Run the certificate render sweep (`flask certificates render-missing`) if this version of the app has it."""
    group = app.cli.commands.get("certificates")
    if hasattr(group, "load"):  # listed lazily (modules/core/cli.py): the real group, importing its module
        group = group.load()
    if group is None or "render-missing" not in getattr(group, "commands", {}):
        return ""
    code, last = _flask(database, "certificates", "render-missing")
    return f"`flask certificates render-missing` exit {code}: {last}"


def _ledger_verify(database: Database) -> tuple[int, str]:
    return _flask(database, "ledger", "verify")


def _count_rows(part: Part, burst: Burst, database: Database, app) -> None:
    from modules.attestation.models import Acknowledgement
    from modules.people.models import User

    db.session.rollback()
    emails = [email for email, _ in burst.people]
    ids = dict(db.session.execute(sa.select(User.email, User.id).where(User.email.in_(emails))).all())
    acks = db.session.execute(sa.select(Acknowledgement.id, Acknowledgement.user_id, Acknowledgement.decision)
                              .where(Acknowledgement.user_id.in_(ids.values()))).all()
    acknowledged = [a for a in acks if a.decision == "acknowledged"]
    by_id = {a.id: a for a in acks}
    n = len(burst.people)
    lost = wrong = 0
    for email, location in burst.receipts.items():
        ack = by_id.get(int(location.rstrip("/").rsplit("/", 1)[1]))
        if ack is None:
            lost += 1
            part.findings.append(f"{email}'s receipt {location} has no row")
        elif ack.user_id != ids[email] or ack.decision != "acknowledged":
            wrong += 1
            part.findings.append(f"{email}'s receipt {location} is someone else's or not an acknowledgement")
    seen = {int(loc.rsplit("/", 1)[1]) for loc in burst.receipts.values()}
    unseen = [a.id for a in acknowledged if a.id not in seen]
    part.add("people with a receipt at the end (tried)", n, n - len(burst.receipts), "without one")
    part.add("receipts seen by clients whose row is missing (lost)", len(burst.receipts), lost, "lost")
    part.add("receipts naming someone else's record", len(burst.receipts), wrong, "wrong")
    part.add("acknowledgement rows no client saw a receipt for", len(acknowledged), len(unseen), "unseen")
    for decision in ("acknowledged", "consent given"):
        per_user: dict[int, int] = {}
        for a in acks:
            if a.decision == decision:
                per_user[a.user_id] = per_user.get(a.user_id, 0) + 1
        part.add(f"people with more than one \"{decision}\" record", len(per_user),
                 sum(1 for c in per_user.values() if c > 1), "duplicates")
    changed = sum(1 for replies in burst.replies.values() for r in replies if r["status"] == "different receipt")
    part.add("replays answered with a different receipt", sum(len(r) for r in burst.replies.values()), changed,
             "different")
    ack_ids = ",".join(str(a.id) for a in acks) or "0"
    preparing = _without_pdf([a.id for a in acknowledged])
    swept = _sweep_renders(app, database)
    orphans = {
        "acknowledgement records without their ledger entry": _count(
            f"SELECT count(*) FROM acknowledgement a WHERE a.id IN ({ack_ids}) AND NOT EXISTS (SELECT 1 FROM "
            "ledger_entry e WHERE e.record_table = 'acknowledgement' AND e.record_id = a.id)"),
        "acknowledgement records without their personal row (name, IP)": _count(
            f"SELECT count(*) FROM acknowledgement a WHERE a.id IN ({ack_ids}) AND NOT EXISTS (SELECT 1 FROM "
            "acknowledgement_personal p WHERE p.acknowledgement_id = a.id)"),
        "acknowledgements of the policy without a certificate record": _count(
            f"SELECT count(*) FROM acknowledgement a WHERE a.id IN ({ack_ids}) AND a.decision = 'acknowledged' "
            "AND NOT EXISTS (SELECT 1 FROM certificate c WHERE c.acknowledgement_id = a.id)"),
        "certificate records without their ledger entry": _count(
            f"SELECT count(*) FROM certificate c WHERE c.acknowledgement_id IN ({ack_ids}) AND NOT EXISTS "
            "(SELECT 1 FROM ledger_entry e WHERE e.record_table = 'certificate' AND e.record_id = c.id)"),
        "certificate records without PDF bytes after the render sweep": _without_pdf([a.id for a in acknowledged]),
    }
    tables = [t for (t,) in db.session.execute(sa.text("SELECT DISTINCT record_table FROM ledger_entry"))]
    dangling = sum(_count(f"SELECT count(*) FROM ledger_entry e WHERE e.record_table = '{t}' AND NOT EXISTS "
                          f"(SELECT 1 FROM {t} r WHERE r.id = e.record_id)") for t in tables)
    certificates = _count(f"SELECT count(*) FROM certificate WHERE acknowledgement_id IN ({ack_ids})")
    for what, count in orphans.items():
        part.add(what, certificates if what.startswith("certificate") else
                 len(acknowledged) if "of the policy" in what else len(acks), count, "orphans")
    part.add(f"ledger entries whose record is missing ({len(tables)} record tables)",
             _count("SELECT count(*) FROM ledger_entry"), dangling, "orphans")
    code, last = _ledger_verify(database)
    part.add("`flask ledger verify` (exit code)", 1, code, "non-zero", note=last)
    part.notes.append(f"{n} people of {SLUG.upper()}, one ledger chain; rows: {len(acknowledged)} acknowledgements "
                      f"and {len(acks) - len(acknowledged)} consent decisions"
                      + (f"; {preparing} certificates were still being prepared (no PDF yet) before the render "
                         f"sweep, {swept}" if swept else "; PDFs are rendered inside the acknowledgement's "
                         "transaction in this version, so there is no render sweep"))


def run(database: Database, *, people: int = 200, kill_after: tuple[int, int] = (50, 120)) -> Part:
    """Burst, kill, restart, retry, count."""
    part = Part(TITLE, database.backend)
    started = time.monotonic()
    with app_context(database) as app:
        made = _make_people(people, SLUG, utcnow())
    server = Server(database, free_port(), database.instance.parent / "gunicorn.log")
    burst = Burst(server, made, kill_after)
    try:
        server.start()
        burst.prepare()
        t0 = time.monotonic()
        burst.burst()
        burst_seconds = time.monotonic() - t0
        if len(burst.kills) < 2:  # the burst ended before a kill point: kill now, so the restart is still tried
            burst.done = max(burst.done, kill_after[1])
            burst._maybe_kill()
        errors = sum(1 for r in burst.replies.values() for x in r if x["status"] != 302)
        server.wait_for_group(60) or server.stop()
        restart = Server(database, server.port, server.log)
        burst.server = restart
        try:
            restart.start()
            retried = burst.retry()
        finally:
            restart.stop()
    finally:
        server.stop()
    replies = [x for r in burst.replies.values() for x in r]
    five = sum(1 for x in replies if isinstance(x["status"], int) and x["status"] >= 500)
    with app_context(database) as app:
        _count_rows(part, burst, database, app)
    part.add("replies with a 5xx status", len(replies), five, "5xx")
    part.notes.append(f"kills: {'; '.join(burst.kills) or 'none'}; the burst took {burst_seconds:.0f} s, "
                      f"{errors} posts failed in it (connections cut by the kills), {burst.after_master} replies came "
                      f"after the master's kill (its orphaned workers finish the requests already queued, then exit), "
                      f"and {retried} were sent again to the restarted server")
    part.seconds = time.monotonic() - started
    return part
