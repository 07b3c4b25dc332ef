"""The issue 16 benches still run at their --smoke size and print their same-run ratios (not timed tests)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(script: str, *args: str, timeout: int = 900) -> str:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--smoke", *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.slow
def test_commands_bench_prints_its_ratio_and_finds_no_heavy_import():
    """`bench/commands.py --smoke` times `flask --help` against the bare imports, and names no heavy package."""
    out = _run("commands.py")
    assert "ratio, flask --help / floor: median" in out, out
    assert "heavy packages imported by flask --help: none" in out, out
