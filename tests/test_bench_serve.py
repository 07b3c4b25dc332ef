"""The served-pages bench still runs (at its --smoke size), so it does not rot between full runs."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_serve_bench_smoke():
    """`bench/serve.py --smoke` serves the floor and PolicyPass and prints every page's CPU ratio to the floor."""
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "serve.py"), "--smoke"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    for label in ("floor: hello", "floor: template + 1 SELECT", "PolicyPass: module", "PolicyPass: quiz",
                  "PolicyPass: tracking", "PolicyPass: verify"):
        line = next(line for line in result.stdout.splitlines() if line.strip().startswith(label))
        assert re.search(r"\d+\.\d\dx$", line), line
    assert "worker memory after the run" in result.stdout
