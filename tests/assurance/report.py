"""Writes docs/assurance.md from the parts' figures: when, where, which commit, then one table per part."""

import json
import os
import platform
import socket
import sqlite3
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.assurance.runner import Part, Row

ROOT = Path(__file__).resolve().parents[2]


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def _postgres_version(url: str | None) -> str | None:
    if not url:
        return None
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SHOW server_version")).scalar()
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


@dataclass
class Run:
    """Where and when the battery ran, filled in at its start and end."""

    command: str
    size: str
    postgres_url: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    load_before: tuple[float, float, float] = field(default_factory=os.getloadavg)
    finished: datetime | None = None
    load_after: tuple[float, float, float] | None = None
    #: The code that ran, noted at the start (a later edit to the tree does not change what ran).
    commit: str = field(default_factory=lambda: _git("rev-parse", "--short", "HEAD"))
    subject: str = field(default_factory=lambda: _git("log", "-1", "--format=%s")[:90])
    dirty: bool = field(default_factory=lambda: bool(_git("status", "--porcelain", "--untracked-files=no")))

    def finish(self) -> None:
        """Note the end time and load."""
        self.finished, self.load_after = datetime.now(UTC), os.getloadavg()

    def machine(self) -> list[str]:
        """Lines describing the machine, the code and the databases."""
        lines = [
            f"- Commit: `{self.commit}` ({self.subject}…)"
            f"{' with uncommitted changes' if self.dirty else ', clean working tree'}.",
            f"- Machine: `{socket.gethostname()}`, {os.cpu_count()} cores, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
            + (f", PostgreSQL {v}" if (v := _postgres_version(self.postgres_url)) else "") + ".",
            f"- Load average (1 / 5 / 15 min): {_load(self.load_before)} at the start, "
            f"{_load(self.load_after)} at the end (other developers' work shares the machine).",
            f"- Ran {self.started:%d %B %Y %H:%M} – {self.finished:%H:%M} UTC "
            f"({(self.finished - self.started).total_seconds() / 60:.1f} minutes), size: {self.size}.",
            f"- Command: `{self.command}`",
        ]
        return lines


def _load(load) -> str:
    return " / ".join(f"{x:.2f}" for x in load) if load else "?"


INTRO = """\
# Assurance battery

Written by `scripts/assurance.py` from a fresh run: it builds new databases (migrated to head, the five seed
trusts' policies and the demo people loaded, as `make setup` does), attacks them, and counts what got through.
Do not edit by hand; run the command below again. Every count in the "must be 0" column is 0 when the battery
passes, and the command exits non-zero otherwise.
"""


def render(run: Run, parts: list[Part], notes: dict[str, str]) -> str:
    """The whole document."""
    out = [INTRO, "## This run", "", *run.machine(), ""]
    total = sum(p.bad for p in parts)
    out += [f"**Result: {'every leak, loss, duplicate and failure count is 0' if total == 0 else f'{total} problems found'}.**",
            ""]
    titles = list(dict.fromkeys(p.title for p in parts))
    for title in titles:
        out += [f"## {title}", ""]
        if notes.get(title):
            out += [notes[title], ""]
        out += ["| database | tried | what | must be 0 | count | note |", "|---|---:|---|---|---:|---|"]
        for part in (p for p in parts if p.title == title):
            for row in part.rows:
                out.append(f"| {part.backend} | {row.tried:,} | {row.what} | {row.bad_label} | {row.bad} | "
                           f"{row.note.replace('|', '/')} |")
        out.append("")
        timings = ", ".join(f"{p.backend} {p.seconds:.0f} s" for p in parts if p.title == title)
        out += [f"Time: {timings}.", ""]
        notes_ = [f"- {p.backend}: {n}" for p in parts if p.title == title for n in p.notes]
        if notes_:
            out += ["Notes:", "", *notes_, ""]
        findings = [f"- {p.backend}: {f}" for p in parts if p.title == title for f in p.findings]
        if findings:
            out += ["Findings:", "", *findings[:40], ""]
            if len(findings) > 40:
                out += [f"- … and {len(findings) - 40} more", ""]
    return "\n".join(out).rstrip() + "\n"


def save(path: Path, run: Run, parts: list[Part]) -> None:
    """The run and its figures as JSON beside the document, so runs made in parallel can be combined."""
    data = {"run": {**asdict(run), "started": run.started.isoformat(), "finished": run.finished.isoformat()},
            "parts": [asdict(p) for p in parts]}
    path.write_text(json.dumps(data, indent=1))


def combine(paths: list[Path], out: Path, notes: dict[str, str]) -> int:
    """One document from several saved runs (e.g. SQLite and PostgreSQL run side by side); returns the problems."""
    runs, parts = [], []
    for path in paths:
        data = json.loads(path.read_text())
        meta = data["run"]
        meta["started"], meta["finished"] = (datetime.fromisoformat(meta[k]) for k in ("started", "finished"))
        runs.append(Run(**{**meta, "load_before": tuple(meta["load_before"]), "load_after": tuple(meta["load_after"])}))
        for p in data["parts"]:
            parts.append(Part(**{**p, "rows": [Row(**r) for r in p["rows"]]}))
    first, last = min(runs, key=lambda r: r.started), max(runs, key=lambda r: r.finished)
    commits = {(r.commit, r.dirty) for r in runs}
    if len(commits) != 1:
        raise SystemExit(f"the runs ran different code: {commits}")
    merged = Run(command=" & ".join(r.command for r in runs)
                 + f"; then scripts/assurance.py --combine {' '.join(p.name for p in paths)}",
                 size=", ".join(sorted({r.size for r in runs})), postgres_url=next(
                     (r.postgres_url for r in runs if r.postgres_url), None),
                 started=first.started, load_before=first.load_before, finished=last.finished,
                 load_after=last.load_after, commit=first.commit, subject=first.subject, dirty=first.dirty)
    titles = [p.title for p in parts]
    order = list(dict.fromkeys(titles))
    parts.sort(key=lambda p: order.index(p.title))
    out.write_text(render(merged, parts, notes))
    return sum(p.bad for p in parts)
