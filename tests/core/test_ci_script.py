"""`.ci/run` runs lint before the tests and stops when lint fails (stub `make` and `pg_isready` on PATH)."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _stubs(tmp_path: Path, lint_exit: int) -> Path:
    """Write stub `make` (logs its arguments; `make lint` exits lint_exit) and `pg_isready` scripts."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "make.log"
    (bin_dir / "make").write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$*" >> "{log}"\n'
        f'if [ "$1" = lint ]; then exit {lint_exit}; fi\n'
        "exit 0\n")
    (bin_dir / "pg_isready").write_text("#!/usr/bin/env bash\nexit 0\n")
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    return bin_dir


def _run_ci(bin_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CI_WORKERS": "2"}
    return subprocess.run([str(ROOT / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60)


def test_ci_fails_when_lint_fails_and_runs_no_tests(tmp_path):
    result = _run_ci(_stubs(tmp_path, lint_exit=2))
    assert result.returncode != 0
    assert (tmp_path / "make.log").read_text().splitlines() == ["lint"]


def test_ci_runs_lint_then_tests(tmp_path):
    result = _run_ci(_stubs(tmp_path, lint_exit=0))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "make.log").read_text().splitlines() == ["lint", "test PYTEST_ARGS=-q -n 2", "assurance"]
