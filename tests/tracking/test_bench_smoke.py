"""The dashboard bench still runs (at its --smoke size), so it does not rot between full runs."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_dashboard_bench_smoke():
    """`bench/dashboard.py --smoke` generates a small trust, times every query and prints the figures,
    on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL too."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BENCH_DATABASE_URL")}
    args = [sys.executable, str(ROOT / "bench" / "dashboard.py"), "--smoke"]
    if not env.get("TEST_DATABASE_URL"):
        args.append("--no-postgres")
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "SQLite: 600 staff, 5 academies, 12,000 progress rows" in out
    for name in ("trivial: SELECT 1", "trust: completion by module", "trust: overdue, page 1",
                 "trust: expiring in 90 days", "page: GET /tracking as HR"):
        assert name in out, name
    assert "SQLite, concurrent mode: /tracking as HR quiet, then with 2 other clients" in out
    # The other clients really loaded the page during the "load" phase (they once all died at start).
    loaded = re.search(r"SQLite, concurrent mode: .*a writer \(([\d,]+) pages by the other clients, ([\d,]+) writes",
                       out)
    assert loaded and all(int(n.replace(",", "")) > 0 for n in loaded.groups()), out
    for phase in ("quiet", "load"):
        assert f"  {phase} " in out, phase
    if env.get("TEST_DATABASE_URL"):
        assert "PostgreSQL: 600 staff" in out
        assert "PostgreSQL, concurrent mode" in out
