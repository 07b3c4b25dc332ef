"""Issue 15 point 3: `pip install .` into a fresh virtual environment gives a working `policypass`, and
`flask --app app routes` runs from it, away from the checkout.

Offline and quick: the fresh environment has no packages of its own; a .pth file lets it see the dependencies
already installed from requirements.lock (as a wheel cache would), and pip installs with --no-index, so it must
find every declared dependency, in its declared range, among those, and builds the project from a copy of the
source. A range that excludes the locked version, or a file the app needs left out of the package, fails here.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: What a source distribution of the checkout holds: everything but tests, tools' caches and local state.
SKIP = shutil.ignore_patterns(".git", ".venv", "node_modules", "tests", "bench", "instance", "__pycache__",
                              "*.pyc", ".setup-stamps", ".pytest_cache", ".ruff_cache", ".hypothesis", "build",
                              "*.egg-info", "test-results", "docs", "assets")


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_pip_install_into_a_fresh_venv_then_flask_routes(tmp_path):
    source = tmp_path / "policypass-src"
    shutil.copytree(ROOT, source, ignore=SKIP)
    assert (source / "static" / "govuk" / "govuk-frontend.min.js").exists(), "build the assets first (make setup)"
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                        ).stdout.strip())
    shared = sysconfig.get_paths()["purelib"]
    (purelib / "_policypass_test_deps.pth").write_text(f"import site; site.addsitedir({shared!r})\n")

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATABASE_URL", "FLASK_APP")}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1")
    _run([str(python), "-m", "pip", "install", "--no-index", "--no-build-isolation", str(source)],
         cwd=tmp_path, env=env)

    work = tmp_path / "elsewhere"
    work.mkdir()
    env.update(INSTANCE_PATH=str(work / "instance"), DATABASE_URL=f"sqlite:///{work / 'pp.db'}")
    where = _run([str(python), "-c", "import app, modules; print(app.__file__); print(modules.__file__)"],
                 cwd=work, env=env).stdout.split()
    assert all(path.startswith(str(purelib)) for path in where), where
    routes = _run([str(python), "-m", "flask", "--app", "app", "routes"], cwd=work, env=env).stdout
    for rule in ("/healthz", "/sign-in", "/verify/<code>", "/sign-in/sso/<slug>/callback"):
        assert rule in routes, routes
    # The installed app finds its templates, assets, migrations and content beside it: migrate and load content.
    _run([str(python), "-m", "flask", "--app", "app", "db", "upgrade"], cwd=work, env=env)
    synced = _run([str(python), "-m", "flask", "--app", "app", "content", "sync"], cwd=work, env=env)
    assert "e-act" in synced.stdout.lower() or "E-ACT" in synced.stdout, synced.stdout
    page = _run([str(python), "-c", "from app import create_app; c = create_app().test_client(); "
                 "r = c.get('/sign-in', headers={'Host': 'localhost'}); print(r.status_code); "
                 "print(c.get('/static/govuk/app.css', headers={'Host': 'localhost'}).status_code)"],
                cwd=work, env=env).stdout.split()
    assert page == ["200", "200"], page
