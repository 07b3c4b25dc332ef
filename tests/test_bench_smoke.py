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


@pytest.mark.slow
def test_ack_burst_bench_prints_its_ratios():
    """`bench/ack_burst.py --smoke`: a few staff acknowledge over HTTP against gunicorn; the floor, the ratios and
    the worker's PDFs are printed."""
    out = _run("ack_burst.py")
    for expected in ("floor: one-row authenticated POST", "acknowledge (POST /acknowledge)",
                     "ratios, acknowledge / floor: throughput", "PDFs rendered after the burst: 6 of 6"):
        assert expected in out, out


@pytest.mark.slow
def test_signin_burst_bench_prints_its_ratios():
    """`bench/signin_burst.py --smoke`: sign-ins from one address at an even pace with the school rate limit; every
    one succeeds and the ratios to the floor are printed."""
    out = _run("signin_burst.py")
    assert "ratios, sign in / floor: throughput" in out, out
    row = next(line for line in out.splitlines() if "sign in (POST /sign-in)" in line)
    assert row.split()[4:7] == ["10", "0", "0"], row  # ok, refused by the limiter, other


@pytest.mark.slow
def test_worker_memory_bench_prints_every_process_against_the_floor():
    """`bench/worker_memory.py --smoke`: PolicyPass as deployed (2 gunicorn workers, the Huey consumer and its PDF
    renderer) renders 4 PDFs; every process's memory is printed at each stage against the floor app's worker."""
    out = _run("worker_memory.py")
    assert "CERTIFICATE_RENDERING=worker, 4 PDFs rendered" in out, out
    assert "floor app worker (bench/floor_app.py, after 200 requests): RSS" in out, out
    for process in ("gunicorn worker 1", "gunicorn worker 2", "Huey consumer", "PDF renderer", "all of them"):
        row = next((line for line in out.splitlines() if line.strip().startswith(process)), None)
        assert row is not None, out
        assert len([field for field in row.split() if field.replace(".", "").isdigit()]) >= 4, row
    assert "largest process after PDFs:" in out, out
