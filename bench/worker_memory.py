"""Memory of PolicyPass's processes as deployed, before and after certificate PDFs, against the floor app's worker.

    .venv/bin/python bench/worker_memory.py               # 40 staff, 4 at a time, SQLite
    .venv/bin/python bench/worker_memory.py --smoke       # 4 staff, 2 at a time: checks it runs
    .venv/bin/python bench/worker_memory.py --staff 100 --postgres URL   # PostgreSQL server URL instead of SQLite
    .venv/bin/python bench/worker_memory.py --rendering request          # PDFs rendered in the web workers

PolicyPass starts as bench/ack_burst.py starts it (its helpers): a fresh database migrated with the real
migrations, the real content, N staff of one academy who have passed the quiz, gunicorn with 2 sync workers
and the repository's gunicorn.conf.py, and, with CERTIFICATE_RENDERING=worker (the default), one Huey consumer
(`flask reminders worker`) that renders the PDFs. Then:

  started: every process's memory once gunicorn answers (the workers have run post_worker_init);
  pages:   every person signs in and opens the acknowledgement page, their acknowledgements list and
           My certificates (no PDF yet);
  acked:   every person acknowledges (C at a time); the bench waits for every PDF to be rendered;
  PDFs:    then each person opens the receipt, My certificates, downloads the PDF, and /verify shows the code.

Memory is VmRSS (and the peak, VmHWM) from /proc of each gunicorn worker, of the consumer and of the consumer's
PDF renderer process while it runs (modules/certificates/renderer.py), in MB, and their sum. The floor is
bench/floor_app.py served by gunicorn with one sync worker (as bench/serve.py serves it) after 200 requests
to its pages. Target (issue 16): every PolicyPass process ≤ 120 MB after PDFs.
"""

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from ack_burst import (  # noqa: E402
    Person,
    app_config,
    free_port,
    log,
    prepare,
    rendered,
    start_servers,
    stop_servers,
)
from serve import Server  # noqa: E402

TARGET_MB = 120
FLOOR_REQUESTS = 200


def memory(pid: int) -> tuple[float, float]:
    """A process's resident memory now and at its peak (VmRSS, VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return tuple(int(re.search(rf"{key}:\s+(\d+) kB", status).group(1)) / 1024 for key in ("VmRSS", "VmHWM"))


def children(pid: int) -> list[int]:
    """A process's child processes (of any of its threads: the consumer starts its renderer from a worker thread)."""
    return sorted(int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                  for child in (task / "children").read_text().split())


def processes(procs) -> dict[str, int]:
    """The processes to watch, by label: each gunicorn worker, the consumer and its PDF renderer, if running."""
    named = {f"gunicorn worker {i + 1}": pid for i, pid in enumerate(children(procs[0].pid))}
    if len(procs) > 1:
        named["Huey consumer"] = procs[1].pid
        for i, pid in enumerate(children(procs[1].pid)):
            named[f"PDF renderer{f' {i + 1}' if i else ''}"] = pid
    return named


def snapshot(procs) -> dict[str, tuple[float, float]]:
    """Every watched process's (VmRSS, VmHWM) now."""
    found = {}
    for label, pid in processes(procs).items():
        try:
            found[label] = memory(pid)
        except (FileNotFoundError, ProcessLookupError):  # it exited meanwhile
            pass
    return found


def floor_memory(database: Path, workdir: Path) -> tuple[float, float]:
    """The floor app's worker memory after FLOOR_REQUESTS requests to its two pages."""
    env = {**os.environ, "FLOOR_DATABASE": str(database), "PYTHONPATH": str(ROOT)}
    # From bench/, so gunicorn does not read PolicyPass's gunicorn.conf.py (as bench/serve.py runs it).
    floor = Server("floor_app:app", env, workdir, cwd=ROOT / "bench")
    try:
        import requests

        with requests.Session() as http:
            for i in range(FLOOR_REQUESTS):
                assert http.get(f"http://127.0.0.1:{floor.port}/{'page' if i % 2 else 'hello'}",
                                timeout=60).status_code == 200
        return memory(floor.worker)
    finally:
        floor.stop()


def open_pages(person: Person) -> None:
    """Pages a member of staff opens before acknowledging (the form is open already): records and certificates."""
    for path in ("/acknowledgements", "/certificates"):
        assert person.http.get(person.base + path, timeout=120).status_code == 200, path


def after_pdf(person: Person) -> None:
    """Acknowledged and rendered: the receipt, My certificates, the PDF itself and /verify of its code."""
    assert person.http.get(person.receipt, timeout=120).status_code == 200
    page = person.http.get(person.base + "/certificates", timeout=120).text
    certificate = re.search(r"/certificates/(\d+)/download", page).group(1)
    pdf = person.http.get(f"{person.base}/certificates/{certificate}/download", timeout=120)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), (pdf.status_code, pdf.text[:200])
    code = person.http.get(person.base + "/verify/" + person.code, timeout=120)
    assert code.status_code == 200, code.status_code


def run(label: str, url: str, staff: int, concurrency: int, rendering: str, floor_db: Path | None) -> None:
    """One database: serve PolicyPass as deployed, drive the pages and the PDFs, print memory against the floor."""
    workdir = Path(tempfile.mkdtemp(prefix="worker-memory-"))
    try:
        log(f"{label}: preparing {staff} staff in {workdir}")
        rows = prepare(url, workdir, staff, app_config(workdir, rendering))
        port = free_port()
        procs = start_servers(workdir, url, port, rendering)
        try:
            time.sleep(2)  # the consumer has no /healthz: give it time to finish starting
            started = snapshot(procs)
            people = [Person(f"http://127.0.0.1:{port}", email, name) for email, name in rows]
            with ThreadPoolExecutor(concurrency) as pool:
                list(pool.map(Person.sign_in, people))
                list(pool.map(open_pages, people))
            pages = snapshot(procs)
            log(f"{label}: {len(people)} signed in and browsed; acknowledging")
            with ThreadPoolExecutor(concurrency) as pool:
                list(pool.map(Person.acknowledge, people))
            deadline, done = time.monotonic() + 600, rendered(url)
            while done < len(people) and time.monotonic() < deadline:
                time.sleep(0.5)
                done = rendered(url)
            assert done == len(people), f"only {done} of {len(people)} PDFs rendered"
            acked = snapshot(procs)
            codes = _codes(url)
            for person in people:
                person.receipt, person.code = person.base + "/acknowledgements/" + str(codes[person.email][0]), \
                    codes[person.email][1]
            with ThreadPoolExecutor(concurrency) as pool:
                list(pool.map(after_pdf, people))
            after = snapshot(procs)
        finally:
            stop_servers(procs)
        floor = floor_memory(floor_db or Path(url.removeprefix("sqlite:///")), workdir)
        report(label, staff, concurrency, rendering, done, floor, {"started": started, "pages": pages, "acked": acked,
                                                                          "PDFs": after})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _codes(url: str) -> dict[str, tuple[int, str]]:
    """Each person's acknowledgement id and certificate code, by email."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT u.email, c.acknowledgement_id, c.code FROM certificate c JOIN \"user\" u ON u.id = c.user_id"))
            return {email: (ack_id, code) for email, ack_id, code in rows}
    finally:
        engine.dispose()


def report(label: str, staff: int, concurrency: int, rendering: str, done: int, floor: tuple[float, float],
           stages: dict[str, dict[str, tuple[float, float]]]) -> None:
    """Print the memory table, the ratios to the floor and the verdict."""
    load = os.getloadavg()
    print(f"\n{label}: {staff} staff, {concurrency} at a time, gunicorn 2 sync workers (gunicorn.conf.py), "
          f"CERTIFICATE_RENDERING={rendering}, {done} PDFs rendered (load average {load[0]:.1f} / {load[1]:.1f} / "
          f"{load[2]:.1f}, {os.cpu_count()} CPUs)")
    print(f"  floor app worker (bench/floor_app.py, after {FLOOR_REQUESTS} requests): RSS {floor[0]:.1f} MB, "
          f"peak {floor[1]:.1f} MB")
    header = "".join(f"{name + ' MB':>12}" for name in stages)
    print(f"  {'process':20}{header}{'peak MB':>10}{'/ floor':>9}  target <= {TARGET_MB} MB")
    final = stages["PDFs"]
    for process in final:
        rss = "".join(f"{stage[process][0]:12.1f}" if process in stage else f"{'-':>12}" for stage in stages.values())
        now, peak = final[process]
        verdict = "met" if now <= TARGET_MB else f"MISSED by {now - TARGET_MB:.0f} MB"
        print(f"  {process:20}{rss}{peak:10.1f}{now / floor[0]:8.2f}x  {verdict}")
    totals = "".join(f"{sum(rss for rss, _ in stage.values()):12.1f}" for stage in stages.values())
    print(f"  {'all of them':20}{totals}")
    worst = max(rss for rss, _ in final.values())
    print(f"  largest process after PDFs: {worst:.1f} MB, {worst / floor[0]:.2f}x the floor's worker; "
          f"target {'met' if worst <= TARGET_MB else 'MISSED'}")


def main() -> None:
    """Parse arguments and run on SQLite, or on a fresh PostgreSQL database when a server URL is given."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--staff", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rendering", choices=("worker", "request"), default="worker")
    parser.add_argument("--smoke", action="store_true", help="4 staff, 2 at a time")
    parser.add_argument("--postgres", help="a PostgreSQL server URL: run there (a fresh database) instead of SQLite")
    args = parser.parse_args()
    staff, concurrency = (4, 2) if args.smoke else (args.staff, args.concurrency)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = Path(tmp) / "bench.db"
        if not args.postgres:
            run("SQLite", f"sqlite:///{sqlite}", staff, concurrency, args.rendering, None)
            return
        # The floor reads one row of a SQLite file: give it one with a user table.
        engine = sa.create_engine(f"sqlite:///{sqlite}")
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE user (id INTEGER PRIMARY KEY, name TEXT, email TEXT)"))
            conn.execute(sa.text("INSERT INTO user VALUES (1, 'Floor', 'floor@example.com')"))
        engine.dispose()
        server = sa.engine.make_url(args.postgres)
        name = "bench_worker_memory"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            run("PostgreSQL", server.set(database=name).render_as_string(hide_password=False), staff, concurrency,
                args.rendering, sqlite)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
