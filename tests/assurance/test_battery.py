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
    done, doc = _battery(tmp_path, "--smoke")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "**Result: every leak, loss, duplicate and failure count is 0.**" in doc
    for title in ("Routes × roles × trusts",):
        assert f"## {title}" in doc
    for backend in _backends().split(","):
        assert f"| {backend} |" in doc
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
