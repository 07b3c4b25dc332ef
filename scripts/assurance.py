#!/usr/bin/env python
"""The assurance battery: attack a fresh instance and write docs/assurance.md with what got through.

    .venv/bin/python scripts/assurance.py                       # full size, SQLite and PostgreSQL, writes the doc
    .venv/bin/python scripts/assurance.py --smoke --out /tmp/a.md --backends sqlite

PostgreSQL is used when --postgres URL (an admin URL; a scratch database is made beside it) or TEST_DATABASE_URL
is given. Exits 1 when any leak, loss, duplicate or failure count is not 0. The parts live in tests/assurance/.
"""

import argparse
import importlib
import logging
import os
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: Sizes: "smoke" keeps the normal suite quick, "ci" is what `.ci/run` runs (-m assurance), "full" writes the doc,
#: "max" tries every other trust's ids and more people's inputs.
SIZES = {
    "smoke": {"matrix": {"homes": ["tkat", "e-act"], "people": ["anonymous", "staff", "hr", "admin"], "others": 1},
              "sinks": {"people": ["staff", "hr", "admin"]}, "inputs": {"people": ["hr"]},
              "burst": {"people": 8, "kill_after": (2, 5)}},
    "ci": {"matrix": {"people": ["anonymous", "staff", "manager", "hr", "admin"], "others": 1},
           "sinks": {"people": ["staff", "manager", "hr", "comms", "admin"]}, "inputs": {"people": ["staff", "hr"]},
           "burst": {"people": 60, "kill_after": (15, 35)}},
    # What docs/assurance.md was written with: every person of every trust against the next trust's ids (on a
    # loaded 2-core machine the whole of "max" takes over an hour for both databases).
    "full": {"matrix": {"others": 1}, "sinks": {}, "inputs": {"people": ["hr"]},
             "burst": {"people": 200, "kill_after": (50, 120)}},
    "max": {"matrix": {}, "sinks": {}, "inputs": {"people": ["staff", "hr", "admin"]},
            "burst": {"people": 200, "kill_after": (50, 120)}},
}
PARTS = ["matrix", "sinks", "inputs", "burst"]
NOTES = {
    "Routes × roles × trusts": (
        "Every route with an id in the access matrix (`tests/test_access_matrix.py`), requested by every demo "
        "person of each trust with ids that belong to other trusts. A leak is an answer below 400 (signed out: "
        "anything but the redirect to sign in) or a page that names the other trust or one of its people. Row "
        "counts of every table (but the session and security-log tables) are compared before and after."),
    "Payloads per sink": (
        "Script, formula and header payloads written onto TKAT's rows (names, job titles, departments, an "
        "official account's handle and purpose, an access request's reason), then every GET page of the access "
        "matrix and every export rendered as each person; certificates rendered with payload names and hostile "
        "documents given to WeasyPrint beside a local HTTP listener; messages with control characters and encoded "
        "words in subjects and recipient names sent through the real delivery to a real SMTP server. Details in "
        "`tests/assurance/sinks.py`."),
    "Bad inputs": (
        "Every route with a parameter requested with ids no row has (0, -1, 2^63 - 1, 2^63, 25 digits, leading zeros, "
        "not numbers) and hostile path text, by GET and POST, signed out and as each person; hostile query strings "
        "on every GET page; hostile `next=` values; absurd dates in the date forms; broken staff CSV files through "
        "the import's preview and apply; every field of every form on every page posted with hostile values; and "
        "every POST route without a CSRF token on an app that checks it. Details in `tests/assurance/inputs.py`."),
    "Concurrent acknowledgements, kill -9 and restart": (
        "A real gunicorn (2 sync workers, `gunicorn.conf.py`) on a fresh database. Every person signs in and "
        "loads the acknowledgement form, then all post at the same moment (one thread each). After the first "
        "quarter of the replies one worker gets `kill -9`; a little after half, the master does. The server is "
        "started again on the same port and everyone without a receipt sends the identical submission (same "
        "idempotency key) until they get one. Then the rows are counted against the receipts the clients saw, "
        "and `flask ledger verify` runs. The full run (this document) uses 200 people on each database; `.ci/run` "
        "uses 60 and the normal suite's smoke run 8."),
}


def _quiet_security_log(path: Path) -> None:
    """Send the security event log (one JSON line per sign-in) to a file instead of the terminal."""
    from modules.core.logs import security_logger

    handler = logging.FileHandler(path)
    handler._policypass_json = True  # configure_logging() then adds no stderr handler of its own
    security_logger().addHandler(handler)


def main(argv: list[str]) -> int:
    """Parse the arguments, run the parts on each database, write the document; 1 when anything got through."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "assurance.md")
    parser.add_argument("--smoke", action="store_true", help="small sizes, for the normal test suite")
    parser.add_argument("--size", choices=sorted(SIZES), help="smoke, ci, full (the default) or max")
    parser.add_argument("--backends", default=None, help="comma-separated: sqlite,postgresql")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--keep", type=Path, help="keep databases and logs in this folder")
    parser.add_argument("--combine", type=Path, nargs="+", metavar="JSON",
                        help="write --out from the .json files earlier runs saved beside their documents (e.g. one "
                             "run per database, started in parallel) instead of running anything")
    args = parser.parse_args(argv)
    if args.combine:
        from tests.assurance.report import combine

        total = combine(args.combine, args.out, NOTES)
        print(f"wrote {args.out}: {total} problems", flush=True)
        return 1 if total else 0
    size = "smoke" if args.smoke else (args.size or "full")
    backends = (args.backends or ("sqlite,postgresql" if args.postgres else "sqlite")).split(",")
    parts = args.parts.split(",")

    from tests.assurance.report import Run, render, save
    from tests.assurance.runner import drop_templates, fresh_database, workdir

    modules = {name: importlib.import_module(f"tests.assurance.{name}") for name in parts}
    command = "scripts/assurance.py " + " ".join("URL" if "://" in a else shlex.quote(a) for a in argv)
    run = Run(command=command.strip(), size=size, postgres_url=args.postgres if "postgresql" in backends else None)
    with workdir(args.keep) as folder:
        _quiet_security_log(folder / "security.log")
        try:
            results = _run_parts(backends, parts, modules, size, folder, args.postgres, fresh_database)
        finally:
            drop_templates(args.postgres)
    run.finish()
    results.sort(key=lambda p: [m.TITLE for m in modules.values()].index(p.title))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(run, results, NOTES))
    save(args.out.with_suffix(".json"), run, results)
    total = sum(p.bad for p in results)
    print(f"wrote {args.out}: {total} problems", flush=True)
    return 1 if total else 0


def _run_parts(backends, parts, modules, size, folder, postgres, fresh_database) -> list:
    results = []
    for backend in backends:
        for name in parts:
            started = time.monotonic()
            with fresh_database(backend, folder / f"{backend}-{name}", postgres) as database:
                part = modules[name].run(database, **SIZES[size][name])
            print(f"{backend} {name}: {part.bad} problems ({time.monotonic() - started:.0f} s)", flush=True)
            for finding in part.findings[:10]:
                print("  " + finding, flush=True)
            results.append(part)
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
