"""The assurance battery (scripts/assurance.py) runs at a small size in the normal suite, so it cannot rot,
and finds what it is there to find: each detector is shown a planted problem and counts it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.assurance import matrix
from tests.assurance.runner import Database
from tests.test_access_matrix import Route

ROOT = Path(__file__).resolve().parents[2]


def _backends() -> str:
    return "sqlite,postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"


def _battery(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    out = tmp_path / "assurance.md"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "assurance.py"), "--out", str(out),
                           "--backends", _backends(), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    return done, out.read_text() if out.exists() else ""


@pytest.mark.slow
def test_smoke_run_writes_the_document_with_every_count_zero(tmp_path):
    """`scripts/assurance.py --smoke` builds fresh databases, runs every part and writes the document."""
    done, doc = _battery(tmp_path, "--smoke", "--backends", "sqlite")  # PostgreSQL: the CI-size run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "**Result: every leak, loss, duplicate and failure count is 0.**" in doc
    for title in ("Routes × roles × trusts", "Payloads per sink", "Bad inputs",
                  "Concurrent acknowledgements, kill -9 and restart"):
        assert f"## {title}" in doc
    assert "| sqlite |" in doc
    assert "- Commit: `" in doc and "cores" in doc and "Load average" in doc


def test_matrix_counts_a_planted_leak(db_url, backend, tmp_path):
    """A route that shows any trust's person by id, whoever asks, is counted as a leak on every try."""
    from flask import abort

    from modules.core.extensions import db
    from modules.people.models import User

    def prepare(app):
        @app.get("/planted/<int:user_id>")
        def planted(user_id):
            user = db.session.get(User, user_id) or abort(404)
            return f"{user.email} of {user.trust.name}"

    routes = {"planted": Route("GET", lambda i: f"/planted/{i.user('staff')}", {}, takes_id=True)}
    part = matrix.run(Database(backend, db_url, tmp_path / "instance"), homes=["tkat"], people=["staff", "hr"],
                      others=2, routes=routes, prepare=prepare)
    assert part.rows[0].tried == 4 and part.rows[0].bad == 4, part.rows
    assert "answered 200" in part.findings[0]


def test_burst_counts_a_lost_receipt_and_a_ledger_entry_without_its_record(app, db_url, backend, tmp_path, now):
    """The burst's counting: a receipt with no row is lost, a ledger entry for a missing record is an orphan, and
    `flask ledger verify` then fails."""
    import sqlalchemy as sa

    from modules.core.extensions import db
    from modules.people.models import Trust
    from tests.assurance import burst
    from tests.assurance.runner import Part
    from tests.attestation.factories import acknowledgement_id, demo_user

    real = acknowledgement_id("e-act")
    staff, teacher = demo_user("staff", "e-act"), demo_user("teacher", "e-act")
    trust_id = db.session.scalar(sa.select(Trust.id).where(Trust.slug == "e-act"))
    seq = db.session.scalar(sa.text("SELECT max(seq) FROM ledger_entry WHERE trust_id = :t"), {"t": trust_id})
    db.session.execute(sa.text(
        "INSERT INTO ledger_entry (trust_id, seq, kind, record_table, record_id, record_hash, prev_hash, entry_hash, "
        "created_at) VALUES (:t, :s, 'acknowledged', 'acknowledgement', 999999, :h, :h, :h, :now)"),
        {"t": trust_id, "s": seq + 1, "h": "0" * 64, "now": now})
    db.session.commit()

    class Clients:
        people = [(staff.email, staff.name), (teacher.email, teacher.name)]
        receipts = {staff.email: f"/acknowledgements/{real}", teacher.email: "/acknowledgements/999998"}
        replies = {staff.email: [], teacher.email: []}

    part = Part(burst.TITLE, backend)
    burst._count_rows(part, Clients, Database(backend, db_url, tmp_path / "instance"), app)
    counts = {row.what: row.bad for row in part.rows}
    assert counts["receipts seen by clients whose row is missing (lost)"] == 1
    assert next(bad for what, bad in counts.items() if what.startswith("ledger entries whose record")) == 1
    assert counts["`flask ledger verify` (exit code)"] != 0
    assert counts["people with more than one \"acknowledged\" record"] == 0


@pytest.mark.slow
@pytest.mark.assurance
def test_ci_size_run_finds_nothing(tmp_path):
    """The CI-size battery (`.ci/run` runs it with -m assurance): every count 0 on every database."""
    done, doc = _battery(tmp_path, "--size", "ci")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "**Result: every leak, loss, duplicate and failure count is 0.**" in doc


def test_sink_detectors_count_planted_injections():
    """Unescaped script, an on* attribute, an evaluated template, an undefused CSV cell and an XLSX formula are
    each counted; the same payloads escaped or defused are not."""
    import io

    import xlsxwriter

    from tests.assurance import sinks

    assert sinks._html_injections("<p><script>ppx(1)</script></p>")
    assert sinks._html_injections('<p><img src=x onerror="ppx(2)"></p>')
    assert sinks._html_injections('<a href="javascript:ppx(5)">x</a>')
    assert sinks._html_injections("<p>pptmpl8</p>")
    assert not sinks._html_injections("<p>&lt;script&gt;ppx(1)&lt;/script&gt; &quot;&gt;&lt;img onerror=ppx(2)&gt;</p>")
    assert sinks._formula_injections(["=HYPERLINK(ppf1)", "\t=ppf5()", "'=ppf1", "fine"]) == (
        3, ["=HYPERLINK(ppf1)", "\t=ppf5()"])
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_formula(0, 0, "=1+1")
    sheet.write_string(0, 1, "=ppf8")
    book.close()
    assert sinks._xlsx_injections(out.getvalue()) == (1, ["=1+1"])


def test_redirect_check_counts_off_site_and_unsafe_locations():
    """The `next=` detector: only a path on this site that starts with one / and holds no control characters."""
    from tests.assurance.inputs import _redirect_problem

    for bad in ("//evil.example", "https://evil.example/", "/\\evil.example", "\t/evil", "/\t/evil.example",
                "javascript:alert(1)"):
        assert _redirect_problem(bad), bad
    for fine in ("/", "/quiz", "/tracking?view=people", None):
        assert _redirect_problem(fine) is None, fine


def test_runs_saved_side_by_side_combine_into_one_document(tmp_path):
    """--combine: one document from a SQLite run and a PostgreSQL run; a problem in either fails it."""
    from tests.assurance.report import Run, combine, save
    from tests.assurance.runner import Part

    for backend, bad in (("sqlite", 0), ("postgresql", 1)):
        run = Run(command=f"scripts/assurance.py --backends {backend}", size="full")
        part = Part("Routes × roles × trusts", backend)
        part.add("GET routes", 10, bad, "leaks")
        run.finish()
        save(tmp_path / f"{backend}.json", run, [part])
    out = tmp_path / "assurance.md"
    assert combine([tmp_path / "sqlite.json", tmp_path / "postgresql.json"], out, {}) == 1
    doc = out.read_text()
    assert "| sqlite | 10 | GET routes | leaks | 0 |" in doc and "| postgresql | 10 | GET routes | leaks | 1 |" in doc
    assert "**Result: 1 problems found.**" in doc
