"""The induction day's sign-ins: 200 new staff signing in from one school IP within a minute.

    .venv/bin/python bench/signin_burst.py                  # 200 sign-ins over 60 s, SQLite and PostgreSQL
    .venv/bin/python bench/signin_burst.py --smoke          # 10 over 3 s, SQLite only: checks it runs
    .venv/bin/python bench/signin_burst.py --postgres URL   # PostgreSQL server URL (default $BENCH_DATABASE_URL
                                                            # or $TEST_DATABASE_URL); --no-postgres to skip it

The app runs as bench/ack_burst.py serves it (fresh migrated database, real content, gunicorn with 2 sync
workers) but with the production argon2 parameters and the rate limiter on, configured as the README
recommends for a school whose staff share one public address (LOGIN_RATE_LIMIT below; per-account lockout
unchanged). Every request comes from 127.0.0.1, as from one school. The sign-ins arrive at an even pace (200
in 60 s: one every 0.3 s, whatever the earlier ones are doing), while a probe makes an unrelated one-row
write every 50 ms. The floor, in the same run and at the same pace: a signed-out, CSRF-checked POST that
writes one row (/bench/floor-public). Printed: how many sign-ins succeeded and how many the limiter refused,
p50/p95/max of the POST, the probe's longest wait, and the ratios to the floor.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from ack_burst import (  # noqa: E402
    PASSWORD,
    Probe,
    app_config,
    free_port,
    hidden,
    log,
    percentile,
    prepare,
    start_servers,
    stop_servers,
)

#: The README's recommendation for a school (one public address for every member of staff).
SCHOOL_LOGIN_RATE_LIMIT = "300 per minute"
#: argon2id as in production (modules/core/config.py).
PRODUCTION_ARGON2 = {"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_COST": 65536, "ARGON2_PARALLELISM": 4}


def paced(action, items: list, seconds: float, threads: int) -> list:
    """Start `action(item)` for each item at an even pace over `seconds`; returns (status, seconds) per item."""
    start = time.perf_counter()
    gap = seconds / max(len(items), 1)

    def at_slot(indexed):
        index, item = indexed
        delay = start + index * gap - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        return action(item)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(at_slot, enumerate(items)))


def limiter_storage() -> dict:
    """Rate limits in Redis, as the README requires with more than one worker (so both workers count together);
    memory (per worker) only when no Redis answers, which the output then says."""
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=2).ping()
    except Exception:  # no Redis here: each worker keeps its own count
        return {"RATELIMIT_STORAGE_URI": "memory://"}
    return {"RATELIMIT_STORAGE_URI": url, "RATELIMIT_KEY_PREFIX": f"bench-signin-{os.getpid()}-{time.time_ns()}"}


def run(label: str, url: str, count: int, seconds: float) -> None:
    """One database: prepare, serve, then the paced floor and the paced sign-ins; print the figures."""
    workdir = Path(tempfile.mkdtemp(prefix="signin-burst-"))
    storage = limiter_storage()
    config = app_config(workdir, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT=SCHOOL_LOGIN_RATE_LIMIT,
                        **PRODUCTION_ARGON2, **storage)
    try:
        log(f"{label}: preparing {count} staff in {workdir}")
        people = prepare(url, workdir, count, config)
        port = free_port()
        procs = start_servers(workdir, url, port, "none")
        base = f"http://127.0.0.1:{port}"
        try:
            forms = []
            for email, _ in people:  # each person's sign-in page (its CSRF token), fetched beforehand
                http = requests.Session()
                forms.append((http, email, hidden(http.get(base + "/sign-in", timeout=120).text, "csrf_token")))

            def floor(form):
                http, email, token = form
                began = time.perf_counter()
                response = http.post(base + "/bench/floor-public", data={"csrf_token": token, "note": email},
                                     timeout=120)
                return response.status_code, time.perf_counter() - began

            def sign_in(form):
                http, email, token = form
                began = time.perf_counter()
                response = http.post(base + "/sign-in", data={"email": email, "password": PASSWORD,
                                                              "csrf_token": token}, allow_redirects=False, timeout=120)
                return response.status_code, time.perf_counter() - began

            results = {}
            for name, action in (("floor: one-row public POST", floor), ("sign in (POST /sign-in)", sign_in)):
                log(f"{label}: {name}")
                probe = Probe(url)
                probe.start()
                began = time.perf_counter()
                outcomes = paced(action, forms, seconds, threads=64)
                wall = time.perf_counter() - began
                waits = probe.stop()
                results[name] = (outcomes, wall, waits)
        finally:
            stop_servers(procs)
        load = os.getloadavg()
        print(f"\n{label}: {count} sign-ins from one address over {seconds:.0f} s, gunicorn 2 sync workers, "
              f"LOGIN_RATE_LIMIT={SCHOOL_LOGIN_RATE_LIMIT!r} in {storage['RATELIMIT_STORAGE_URI'].split(':')[0]}, "
              "argon2id t=3 m=64 MiB p=4 "
              f"(load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, {os.cpu_count()} CPUs)")
        print(f"  {'phase':30} {'ok':>5} {'429':>5} {'other':>6} {'done/s':>7} {'p50 s':>7} {'p95 s':>7} "
              f"{'max s':>7} {'probe max ms':>13}")
        figures = {}
        for name, (outcomes, wall, waits) in results.items():
            good = 302 if name.startswith("sign in") else 200
            times = [t for _, t in outcomes]
            ok = sum(1 for status, _ in outcomes if status == good)
            limited = sum(1 for status, _ in outcomes if status == 429)
            figures[name] = (ok / wall, percentile(times, 0.95), 1000 * max(waits))
            print(f"  {name:30} {ok:5d} {limited:5d} {len(outcomes) - ok - limited:6d} {ok / wall:7.2f} "
                  f"{statistics.median(times):7.3f} {percentile(times, 0.95):7.3f} {max(times):7.3f} "
                  f"{1000 * max(waits):13.1f}")
        (floor_rate, floor_p95, floor_probe), (rate, p95, probe_max) = figures.values()
        print(f"  ratios, sign in / floor: throughput {rate / floor_rate:.2f}x, p95 {p95 / floor_p95:.2f}x, "
              f"probe max {probe_max / max(floor_probe, 0.001):.2f}x")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    """Parse arguments and run on SQLite, then PostgreSQL if a server URL is known."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--smoke", action="store_true", help="10 sign-ins over 3 s, SQLite only")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    count, seconds = (10, 3.0) if args.smoke else (args.count, args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", count, seconds)
    if args.postgres and not args.no_postgres and not args.smoke:
        server = sa.engine.make_url(args.postgres)
        name = "bench_signin_burst"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        try:
            run("PostgreSQL", server.set(database=name).render_as_string(hide_password=False), count, seconds)
        finally:
            admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
