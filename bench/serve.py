"""Pages served for real: PolicyPass against a floor app, served the same way, with worker CPU per request.

    .venv/bin/python bench/serve.py             # 600 requests a page, 4 concurrent clients
    .venv/bin/python bench/serve.py --smoke     # 40 requests a page: checks it still runs
    .venv/bin/python bench/serve.py --requests 2000 --concurrency 8

Both apps run under gunicorn with one sync worker on loopback, against a SQLite file (PolicyPass: the demo
database `make db` builds, made fresh in a temporary folder). The floor app (bench/floor_app.py) answers
"hello" and a page that renders a template after one SELECT. A load generator (threads with keep-alive
connections, in this process) sends each page `--requests` times from `--concurrency` clients after a warm-up,
and reads the worker's CPU time from /proc before and after, so "CPU ms/req" is the server's own cost
whatever the load generator or the machine's load does to wall times. Ratios are to the floor's
template + 1 SELECT page, in the same run. Target (issue 16): CPU per request ≤ 2.5× that floor.
"""

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TICKS = os.sysconf("SC_CLK_TCK")
TARGET_RATIO = 2.5
#: Who views which page: (label, path, who signs in: (local part, trust) or None).
PAGES = [
    ("module", "/modules/{module}", ("staff", "agora")),
    ("quiz", "/quiz", ("staff", "agora")),
    ("tracking", "/tracking", ("hr", "agora")),
    ("verify", "/verify/{code}", None),
]


def log(message: str) -> None:
    """Progress on stderr, so stdout is the figures."""
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with one sync worker; knows its worker's pid to read its CPU time."""

    def __init__(self, app: str, env: dict, workdir: Path, cwd: Path = ROOT):
        self.port = free_port()
        self.log = open(workdir / f"gunicorn-{self.port}.log", "wb")  # noqa: SIM115  (closed in stop)
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.proc = subprocess.Popen([str(gunicorn), "--workers", "1", "--worker-class", "sync",
                                      "--bind", f"127.0.0.1:{self.port}", app],
                                     cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                connection.getresponse().read()
                break
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit(f"{app} exited: " + Path(self.log.name).read_text()[-2000:]) from None
                time.sleep(0.2)
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        self.worker = int(children[0])

    def cpu_seconds(self) -> float:
        """The worker's user + system CPU time so far."""
        fields = Path(f"/proc/{self.worker}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def rss_mb(self) -> float:
        """The worker's resident memory."""
        status = Path(f"/proc/{self.worker}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024

    def stop(self) -> None:
        """Stop gunicorn (and its worker)."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        self.log.close()


def sign_in(port: int, email: str, password: str) -> str:
    """A session cookie for this person (sign-in form, CSRF token and all)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/sign-in")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]*)"', page).group(1)
    body = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
    connection.request("POST", "/sign-in", body=body, headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    if response.status != 302:
        raise SystemExit(f"signing in {email} answered {response.status}")
    return response.getheader("Set-Cookie").split(";", 1)[0]


def load(server: Server, path: str, cookie: str | None, requests: int, concurrency: int) -> dict:
    """Send `path` `requests` times from `concurrency` keep-alive clients; figures and worker CPU."""
    headers = {"Cookie": cookie} if cookie else {}
    for _ in range(5):  # warm-up: templates compiled, caches filled
        _get(http.client.HTTPConnection("127.0.0.1", server.port, timeout=60), path, headers)
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = [requests // concurrency + (1 if i < requests % concurrency else 0) for i in range(concurrency)]

    def client(count: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        mine = []
        for _ in range(count):
            started = time.perf_counter()
            _get(connection, path, headers)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    cpu_before, wall_before = server.cpu_seconds(), time.perf_counter()
    threads = [threading.Thread(target=client, args=(count,)) for count in per_client]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall_before
    cpu = server.cpu_seconds() - cpu_before
    latencies.sort()
    return {"rps": len(latencies) / wall, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            "cpu_ms": cpu / len(latencies) * 1000}


def _get(connection: http.client.HTTPConnection, path: str, headers: dict) -> None:
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"GET {path} answered {response.status}")


def build_policypass(workdir: Path, env: dict) -> dict:
    """A fresh demo database (as `make db` builds it); returns the ids the page paths need."""
    flask = str(Path(sys.executable).parent / "flask")
    for command in (["db", "upgrade"], ["demo", "seed"], ["content", "sync"]):
        subprocess.run([flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    import sqlite3

    database = sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///"))
    module = database.execute(
        "SELECT s.id FROM section s JOIN policy_version v ON v.id = s.version_id JOIN trust t ON t.id = v.trust_id "
        "WHERE t.slug = 'agora' AND v.published_at IS NOT NULL ORDER BY v.number DESC, s.position LIMIT 1"
    ).fetchone()[0]
    code = database.execute("SELECT code FROM certificate ORDER BY id LIMIT 1").fetchone()[0]
    database.close()
    return {"module": module, "code": code}


def main(argv: list[str] | None = None) -> None:
    """Run the floor and PolicyPass, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="40 requests a page, to check the bench runs")
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    requests = 40 if args.smoke else args.requests
    from demo.cast import DEMO_PASSWORD

    with tempfile.TemporaryDirectory(prefix="policypass-serve-") as tmp:
        workdir = Path(tmp)
        base_env = {**os.environ, "SECRET_KEY": "bench-serve-secret-key-0123456789abcdef", "MFA_ENFORCE": "0",
                    "INSTANCE_PATH": str(workdir / "instance"), "VERIFY_RATE_LIMIT": "1000000 per minute",
                    "REQUEST_LOG": "0", "PYTHONPATH": str(ROOT)}
        base_env.pop("REDIS_URL", None)
        env = {**base_env, "DATABASE_URL": f"sqlite:///{workdir / 'policypass.db'}"}
        log("building the demo database ...")
        ids = build_policypass(workdir, env)
        rows = []
        # From bench/, so gunicorn does not read PolicyPass's gunicorn.conf.py (which warms WeasyPrint).
        floor = Server("floor_app:app", {**base_env, "FLOOR_DATABASE": str(workdir / "policypass.db")}, workdir,
                       cwd=ROOT / "bench")
        try:
            for label, path in (("floor: hello", "/hello"), ("floor: template + 1 SELECT", "/page")):
                log(f"{label} ...")
                rows.append((label, load(floor, path, None, requests, args.concurrency)))
            floor_rss = floor.rss_mb()
        finally:
            floor.stop()
        app = Server("app:create_app()", env, workdir)
        try:
            cookies = {}
            for label, template, who in PAGES:
                cookie = None
                if who is not None:
                    if who not in cookies:
                        local, slug = who
                        cookies[who] = sign_in(app.port, f"{local}@{slug}.demo.policypass.uk", DEMO_PASSWORD)
                    cookie = cookies[who]
                log(f"PolicyPass: {label} ...")
                rows.append((f"PolicyPass: {label}", load(app, template.format(**ids), cookie, requests,
                                                          args.concurrency)))
            app_rss = app.rss_mb()
        finally:
            app.stop()
    floor_cpu = rows[1][1]["cpu_ms"] or 1e-9
    load1, load5, load15 = os.getloadavg()
    print(f"Served pages: {requests} requests a page, {args.concurrency} concurrent clients, 1 sync gunicorn "
          f"worker each (load average {load1:.1f} / {load5:.1f} / {load15:.1f}, {os.cpu_count()} CPUs)")
    print(f"  {'page':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} {'CPU / floor':>12}")
    for label, figures in rows:
        print(f"  {label:34} {figures['rps']:8.1f} {figures['p50']:8.2f} {figures['p99']:8.2f} "
              f"{figures['cpu_ms']:11.2f} {figures['cpu_ms'] / floor_cpu:11.2f}x")
    print(f"  worker memory after the run: floor {floor_rss:.0f} MB, PolicyPass {app_rss:.0f} MB")
    print(f"Target: PolicyPass CPU per request ≤ {TARGET_RATIO}× the floor's template + 1 SELECT.")


if __name__ == "__main__":
    main()
