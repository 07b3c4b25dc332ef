"""An induction-day burst of acknowledgements over HTTP, against a trivial authenticated POST in the same run.

    .venv/bin/python bench/ack_burst.py                   # 60 staff, 10 at a time, SQLite and PostgreSQL
    .venv/bin/python bench/ack_burst.py --smoke           # 6 staff, 3 at a time, SQLite only: checks it runs
    .venv/bin/python bench/ack_burst.py --postgres URL    # PostgreSQL server URL (default $BENCH_DATABASE_URL or
                                                          # $TEST_DATABASE_URL); --no-postgres to skip it

For each database: a fresh database migrated with the real migrations, the real content, N staff of one TKAT
academy who have passed the quiz, gunicorn with 2 sync workers (the repository's gunicorn.conf.py) and, with
the default CERTIFICATE_RENDERING=worker, one Huey consumer (`flask reminders worker`) that renders the PDFs.
Every person signs in and opens the acknowledgement page first (not timed). Then two timed phases, each with
C client threads, while a probe thread makes an unrelated one-row write to the same database every 50 ms
(its own table, its own connection; on SQLite that waits for the database-wide write lock):

  floor: every person POSTs a trivial one-row authenticated write (/bench/floor: CSRF, session, one INSERT,
         one commit — a route only this bench's app has);
  acks:  every person POSTs the acknowledgement form (the real view: statements, ledger, certificate record).

Printed per phase: requests per second, POST p50/p95/max, and the probe's longest wait; then the ratios of the
acknowledgement figures to the floor's, against issue 16's targets (throughput >= 50% of the floor, POST p95 <
1 s, no unrelated write waiting more than 200 ms); the CPU the web workers used per request in each phase and the
consumer's CPU during the acknowledgements (from /proc: steadier than wall times on a loaded machine); and how
long the worker took to render every PDF.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

SLUG = "tkat"
PASSWORD = "bench-induction-day-2026"
PROBE_EVERY = 0.05
TARGETS = {"throughput": 0.5, "p95_s": 1.0, "probe_ms": 200}

#: Cheap argon2 parameters: sign-in is set-up here, not what is measured (bench/signin_burst.py uses the real ones).
CHEAP_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}

#: The app gunicorn serves: PolicyPass as configured here, plus the floor route.
BENCH_APP = '''
from flask import request
from flask_login import login_required
from sqlalchemy import text

from app import create_app
from modules.core.extensions import db

app = create_app(%(config)r)


@app.post("/bench/floor")
@login_required
def bench_floor():
    """The floor: an authenticated, CSRF-checked POST that writes one row and commits once."""
    db.session.execute(text("INSERT INTO bench_floor (note) VALUES (:note)"), {"note": request.form.get("note", "")})
    db.session.commit()
    return "ok"


@app.post("/bench/floor-public")
def bench_floor_public():
    """The floor for sign-in: a CSRF-checked POST from a signed-out visitor that writes one row and commits."""
    db.session.execute(text("INSERT INTO bench_floor (note) VALUES (:note)"), {"note": request.form.get("note", "")})
    db.session.commit()
    return "ok"
'''


def log(message: str) -> None:
    """Progress on stderr, so stdout is the figures."""
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.95 for p95)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def app_config(workdir: Path, rendering: str = "worker", **extra) -> dict:
    """The configuration of the app the bench serves (PolicyPass as in production, but for the database)."""
    return {"SECRET_KEY": "bench-secret", "INSTANCE_PATH": str(workdir / "instance"), "RATELIMIT_ENABLED": False,
            "MFA_ENFORCE": False, "HUEY_FILE": str(workdir / "huey.db"), "CERTIFICATE_RENDERING": rendering,
            "MAIL_DELIVERY": "none", **CHEAP_ARGON2, **extra}


def prepare(url: str, workdir: Path, staff: int, config: dict) -> list[tuple[str, str]]:
    """Migrate and fill a fresh database; write the app module serving `config`; returns the staff (email, name)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    (workdir / "bench_app.py").write_text(BENCH_APP % {"config": config})
    os.environ["DATABASE_URL"] = url
    sys.path.insert(0, str(workdir))
    from app import create_app
    from demo.content import sync_demo_content
    from modules.assessments.models import QuizAttempt
    from modules.core.extensions import db
    from modules.core.timeutil import utcnow
    from modules.people.models import Academy, Trust
    from modules.people.passwords import hash_password
    from modules.people.services import grant_role, upsert_user
    from modules.training.queries import current_version

    app = create_app(config)
    people = []
    with app.app_context():
        upgrade()
        now = utcnow()
        sync_demo_content(Path(app.config["CONTENT_DIR"]), now=now, app=app)
        trust = db.session.scalar(select(Trust).where(Trust.slug == SLUG))
        academy = db.session.scalar(select(Academy).where(Academy.trust_id == trust.id).order_by(Academy.id))
        version = current_version(trust.id)
        password_hash = hash_password(PASSWORD)
        for i in range(staff):
            user = upsert_user(trust, email=f"induction{i:03d}@{SLUG}.example", name=f"New Starter {i:03d}",
                               now=now, academy=academy, job_title="Teaching assistant", password_hash=password_hash)
            grant_role(user, "staff", academy)
            db.session.flush()
            db.session.add(QuizAttempt(user_id=user.id, version_id=version.id, started_at=now, finished_at=now,
                                       score=100, passed=True, pass_mark=80))
            people.append((user.email, user.name))
        identity = " AUTOINCREMENT" if url.startswith("sqlite") else " GENERATED BY DEFAULT AS IDENTITY"
        db.session.execute(sa.text(f"CREATE TABLE bench_floor (id INTEGER PRIMARY KEY{identity}, note VARCHAR(100))"))
        db.session.execute(sa.text(f"CREATE TABLE bench_probe (id INTEGER PRIMARY KEY{identity}, at VARCHAR(40))"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return people


class Person:
    """One signed-in member of staff with the acknowledgement form open."""

    def __init__(self, base: str, email: str, name: str):
        self.base, self.email, self.name = base, email, name
        self.http = requests.Session()

    def sign_in(self) -> None:
        """Sign in through the form and open the acknowledgement page (not timed)."""
        page = self.http.get(self.base + "/sign-in", timeout=120).text
        response = self.http.post(self.base + "/sign-in", data={
            "email": self.email, "password": PASSWORD, "csrf_token": hidden(page, "csrf_token")},
            allow_redirects=False, timeout=120)
        assert response.status_code == 302, f"sign-in {self.email}: {response.status_code}"
        form = self.http.get(self.base + "/acknowledge", timeout=120).text
        self.ack = {"csrf_token": hidden(form, "csrf_token"), "idempotency_key": hidden(form, "idempotency_key"),
                    "shown_digest": hidden(form, "shown_digest"), "acknowledge": "Acknowledge and sign",
                    "full_name": self.name,
                    **{box: "y" for box in re.findall(r'name="(statement_[a-z_]+)" type="checkbox"', form)}}

    def floor(self) -> float:
        """The trivial authenticated write; returns its seconds."""
        start = time.perf_counter()
        response = self.http.post(self.base + "/bench/floor", data={"csrf_token": self.ack["csrf_token"],
                                                                    "note": self.email}, timeout=120)
        took = time.perf_counter() - start
        assert response.status_code == 200, f"floor {self.email}: {response.status_code}"
        return took

    def acknowledge(self) -> float:
        """POST the acknowledgement; returns its seconds."""
        start = time.perf_counter()
        response = self.http.post(self.base + "/acknowledge", data=self.ack, allow_redirects=False, timeout=120)
        took = time.perf_counter() - start
        assert response.status_code == 302 and "/acknowledgements/" in response.headers["Location"], \
            f"acknowledge {self.email}: {response.status_code} {response.text[-300:]}"
        return took


def hidden(html: str, name: str) -> str:
    """A hidden input's value."""
    match = (re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)
             or re.search(rf'name="{name}" value="([^"]*)"', html)
             or re.search(rf'value="([^"]*)"[^>]*name="{name}"', html))
    assert match, f"no {name} on the page"
    return match.group(1)


class Probe(threading.Thread):
    """An unrelated writer: one INSERT + commit every PROBE_EVERY seconds on its own connection; keeps the waits."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        connect_args = {"timeout": 60} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.pool.NullPool)
        self.sqlite = url.startswith("sqlite")
        self.waits: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        """Write until stopped."""
        with self.engine.connect() as conn:
            if self.sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout=60000")
                conn.commit()
            while not self.stopping.is_set():
                start = time.perf_counter()
                with conn.begin():
                    conn.execute(sa.text("INSERT INTO bench_probe (at) VALUES (:at)"), {"at": str(start)})
                self.waits.append(time.perf_counter() - start)
                self.stopping.wait(PROBE_EVERY)

    def stop(self) -> list[float]:
        """Stop and return every write's seconds."""
        self.stopping.set()
        self.join(timeout=120)
        self.engine.dispose()
        return self.waits


def _proc_stat(pid: str) -> tuple[int, int]:
    """A process's parent id and its CPU clock ticks (user + system, its own and its reaped children's)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), sum(int(v) for v in fields[11:15])


def cpu_seconds(root_pid: int) -> float:
    """CPU seconds used so far by a process and all its descendants (Linux /proc; 0 elsewhere)."""
    table: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if entry.name.isdigit():
            try:
                table[int(entry.name)] = _proc_stat(entry.name)
            except (OSError, ValueError):
                continue  # gone meanwhile
    tree, ticks, grew = {root_pid}, 0, True
    while grew:
        grew = False
        for pid, (ppid, _) in table.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    ticks = sum(table[pid][1] for pid in tree if pid in table)
    return ticks / os.sysconf("SC_CLK_TCK")


def phase(name: str, people: list[Person], action, concurrency: int, url: str, procs: list | None = None) -> dict:
    """Run `action` once per person with `concurrency` threads while the probe writes; the figures, with the CPU
    the web workers (gunicorn and its workers) and the Huey consumer (and its renderer) used meanwhile."""
    probe = Probe(url)
    probe.start()
    time.sleep(0.3)
    pids = [proc.pid for proc in procs or ()]
    cpu_before = [cpu_seconds(pid) for pid in pids]
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        times = list(pool.map(action, people))
    wall = time.perf_counter() - start
    cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
    time.sleep(0.2)
    waits = probe.stop()
    return {"name": name, "n": len(times), "per_s": len(times) / wall, "p50": statistics.median(times),
            "p95": percentile(times, 0.95), "max": max(times), "probe_ms": 1000 * max(waits),
            "probe_p95_ms": 1000 * percentile(waits, 0.95), "probes": len(waits),
            "web_cpu_ms": 1000 * cpu[0] / len(times) if cpu else float("nan"),
            "consumer_cpu_s": cpu[1] if len(cpu) > 1 else 0.0, "wall": wall}


def start_servers(workdir: Path, url: str, port: int, rendering: str) -> list[subprocess.Popen]:
    """gunicorn (2 sync workers) and, for worker rendering, a Huey consumer; returns the processes."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": f"{workdir}:{ROOT}", "FLASK_APP": "bench_app:app"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    venv = Path(sys.executable).parent
    log_file = open(workdir / "servers.log", "ab")  # noqa: SIM115 (closed with the processes)
    procs = [subprocess.Popen([str(venv / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
                               "-c", str(ROOT / "gunicorn.conf.py"), "bench_app:app"],
                              cwd=workdir, env=env, stdout=log_file, stderr=log_file, start_new_session=True)]
    if rendering == "worker":
        procs.append(subprocess.Popen([str(venv / "flask"), "reminders", "worker", "--no-catch-up"], cwd=workdir,
                                      env=env, stdout=log_file, stderr=log_file, start_new_session=True))
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return procs
        except requests.RequestException:
            pass
        if procs[0].poll() is not None:
            break
        time.sleep(0.5)
    stop_servers(procs)
    raise RuntimeError(f"gunicorn did not answer; see {workdir / 'servers.log'}:\n"
                       + (workdir / "servers.log").read_text()[-2000:])


def stop_servers(procs: list[subprocess.Popen]) -> None:
    """Stop the processes this bench started (their own process groups)."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def rendered(url: str) -> int:
    """How many certificate PDFs have been rendered."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM certificate_rendering")).scalar()
    finally:
        engine.dispose()


def run(label: str, url: str, staff: int, concurrency: int, rendering: str) -> None:
    """One database: prepare, serve, sign in, floor phase, acknowledgement phase; print the figures."""
    workdir = Path(tempfile.mkdtemp(prefix="ack-burst-"))
    try:
        log(f"{label}: preparing {staff} staff in {workdir}")
        people_rows = prepare(url, workdir, staff, app_config(workdir, rendering))
        port = free_port()
        procs = start_servers(workdir, url, port, rendering)
        try:
            base = f"http://127.0.0.1:{port}"
            people = [Person(base, email, name) for email, name in people_rows]
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(Person.sign_in, people))
            log(f"{label}: {len(people)} signed in; floor phase")
            floor = phase("floor: one-row authenticated POST", people, Person.floor, concurrency, url, procs)
            log(f"{label}: acknowledgement phase")
            acks = phase("acknowledge (POST /acknowledge)", people, Person.acknowledge, concurrency, url, procs)
            started, done = time.perf_counter(), rendered(url)
            while done < len(people) and time.perf_counter() - started < 300:
                time.sleep(0.5)
                done = rendered(url)
            render_s = time.perf_counter() - started
        finally:
            stop_servers(procs)
        load = os.getloadavg()
        print(f"\n{label}: {len(people)} staff, {concurrency} concurrent, gunicorn 2 sync workers, "
              f"CERTIFICATE_RENDERING={rendering} (load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, "
              f"{os.cpu_count()} CPUs)")
        print(f"  {'phase':38} {'req/s':>7} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'probe max ms':>13} "
              f"{'probe p95 ms':>13}")
        for row in (floor, acks):
            print(f"  {row['name']:38} {row['per_s']:7.1f} {row['p50']:7.3f} {row['p95']:7.3f} {row['max']:7.3f} "
                  f"{row['probe_ms']:13.1f} {row['probe_p95_ms']:13.1f}")
        share = acks["per_s"] / floor["per_s"]
        print(f"  ratios, acknowledge / floor: throughput {share:.2f}x (target >= {TARGETS['throughput']:.2f}), "
              f"p95 {acks['p95'] / floor['p95']:.2f}x, probe max {acks['probe_ms'] / max(floor['probe_ms'], 0.001):.2f}x")
        verdict = (share >= TARGETS["throughput"], acks["p95"] < TARGETS["p95_s"], acks["probe_ms"] < TARGETS["probe_ms"])
        print(f"  targets: throughput {'met' if verdict[0] else 'MISSED'}, POST p95 < 1 s "
              f"{'met' if verdict[1] else 'MISSED'}, unrelated write < 200 ms {'met' if verdict[2] else 'MISSED'}")
        print(f"  web workers' CPU per request: floor {floor['web_cpu_ms']:.1f} ms, acknowledge {acks['web_cpu_ms']:.1f} ms "
              f"({acks['web_cpu_ms'] / floor['web_cpu_ms']:.2f}x); Huey consumer (PDFs) during the acknowledgements: "
              f"{acks['consumer_cpu_s']:.1f} CPU s in {acks['wall']:.1f} s")
        print(f"  PDFs rendered after the burst: {done} of {len(people)}, all within {render_s:.1f} s of its end")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    """Parse arguments and run on SQLite, then PostgreSQL if a server URL is known."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--staff", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rendering", choices=("worker", "request"), default="worker")
    parser.add_argument("--smoke", action="store_true", help="6 staff, 3 at a time, SQLite only")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    staff, concurrency = (6, 3) if args.smoke else (args.staff, args.concurrency)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", staff, concurrency, args.rendering)
    if args.postgres and not args.no_postgres and not args.smoke:
        server = sa.engine.make_url(args.postgres)
        name = "bench_ack_burst"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        try:
            run("PostgreSQL", server.set(database=name).render_as_string(hide_password=False), staff, concurrency,
                args.rendering)
        finally:
            admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
