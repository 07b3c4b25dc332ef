"""How long a `flask` command takes to start, against the bare imports every Flask-SQLAlchemy app pays.

    .venv/bin/python bench/commands.py            # 7 alternating runs of each
    .venv/bin/python bench/commands.py --smoke    # 1 run of each, to check it runs

Floor: `python -c "import flask, flask_sqlalchemy"`. Measured: `flask --help` with FLASK_APP=app:create_app
(it builds the app: configuration, every blueprint, the wiring and the CLI). The two alternate, so a change
in the machine's load hits both; the ratio of the medians is the figure to compare between runs (issue 16
asks for at most 1.5×). Also printed: which heavy packages `flask --help` imported (none should be).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Packages only the commands that use them may import.
HEAVY = ("weasyprint", "huey", "redis", "psycopg", "alembic", "flask_migrate", "openpyxl", "xlsxwriter",
         "jsonschema", "cryptography", "pypdf", "mammoth")
PROBE = ("import sys, runpy; sys.argv = ['flask', '--help']\n"
         "try:\n    runpy.run_module('flask', run_name='__main__')\n"
         "except SystemExit:\n    pass\n"
         f"print('HEAVY:' + ','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)\n")


def timed(command: list[str], env: dict) -> float:
    """Wall seconds of one run (it must succeed)."""
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    """Alternate the floor and `flask --help`; print medians, the ratio and the heavy imports seen."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="one run of each")
    args = parser.parse_args()
    runs = 1 if args.smoke else args.runs
    with tempfile.TemporaryDirectory() as instance, tempfile.TemporaryDirectory() as pycache:
        # Bytecode is cached, as on a server (a shell with PYTHONDONTWRITEBYTECODE=1 would recompile every
        # module of the app on each run but not the installed packages', which is not what production pays).
        env = {**os.environ, "FLASK_APP": "app:create_app", "INSTANCE_PATH": instance, "SECRET_KEY": "bench",
               "PYTHONPYCACHEPREFIX": pycache}
        for name in ("DATABASE_URL", "PYTHONDONTWRITEBYTECODE"):
            env.pop(name, None)
        floor_cmd = [sys.executable, "-c", "import flask, flask_sqlalchemy"]
        help_cmd = [sys.executable, "-m", "flask", "--help"]
        timed(floor_cmd, env)  # the first runs fill the bytecode cache; not counted
        timed(help_cmd, env)
        floor, helps = [], []
        for _ in range(runs):
            floor.append(timed(floor_cmd, env))
            helps.append(timed(help_cmd, env))
        probe = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                               check=True)
    heavy = next((line[6:] for line in probe.stderr.splitlines() if line.startswith("HEAVY:")), "?")
    load = os.getloadavg()
    print(f"flask commands, {runs} alternating run(s) each (load average {load[0]:.1f} / {load[1]:.1f} / "
          f"{load[2]:.1f}, {os.cpu_count()} CPUs)")
    print(f"  {'what':42} {'median s':>9} {'min s':>7}")
    print(f"  {'floor: import flask, flask_sqlalchemy':42} {statistics.median(floor):9.2f} {min(floor):7.2f}")
    print(f"  {'flask --help':42} {statistics.median(helps):9.2f} {min(helps):7.2f}")
    print(f"ratio, flask --help / floor: median {statistics.median(helps) / statistics.median(floor):.2f}x, "
          f"min {min(helps) / min(floor):.2f}x (target <= 1.5x)")
    print(f"heavy packages imported by flask --help: {heavy or 'none'}")


if __name__ == "__main__":
    main()
