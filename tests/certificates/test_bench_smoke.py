"""The certificate render bench still runs (at its --smoke size), so it does not rot between full runs."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_certificate_render_bench_smoke(tmp_path):
    """`bench/certificate_render.py --smoke` renders both documents and prints times, memory and ratios."""
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "certificate_render.py"), "--smoke"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    for expected in ("trivial document", "certificate (template+QR+PDF)", "n=20", "ratios, certificate / trivial",
                     "KB/render"):
        assert expected in result.stdout, result.stdout
