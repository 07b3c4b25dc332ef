"""Smoke test: the real server (gunicorn) starts on a free port, answers /healthz and signs in a demo user."""

import contextlib
import http.cookiejar
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from demo.cast import DEMO_PASSWORD
from tests.browser.conftest import free_port
from tests.conftest import demo_email
from tests.helpers import csrf_token

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def _gunicorn(db_url: str, tmp_path: Path, **extra_env: str):
    """gunicorn (2 workers) serving the app on its own fresh database; yields the base URL; always stopped."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "INSTANCE_PATH": str(tmp_path / "instance"),
           "SECRET_KEY": "smoke-test", **extra_env}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115  (closed below; a file, so a full pipe never blocks)
    proc = subprocess.Popen([str(gunicorn), "--workers", "2", "--bind", f"127.0.0.1:{port}", "app:create_app()"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("server exited: " + (tmp_path / "gunicorn.log").read_text())
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def server(db_url, tmp_path):
    """gunicorn serving the app on its own fresh database; yields the base URL."""
    with _gunicorn(db_url, tmp_path) as base:
        yield base


def test_real_server_answers_and_signs_in(server):
    with urllib.request.urlopen(server + "/healthz") as response:
        assert response.status == 200
        assert b'"ok"' in response.read()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(server + "/sign-in").read().decode()
    form = urllib.parse.urlencode({"email": demo_email("staff", "agora"), "password": DEMO_PASSWORD,
                                   "csrf_token": csrf_token(page)}).encode()
    landed = opener.open(server + "/sign-in", data=form)
    assert landed.geturl() == server + "/"
    body = landed.read().decode()
    assert "Agora Learning Partnership" in body
    assert "Sign out" in body


def test_metrics_add_up_every_worker(db_url, tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    token = "smoke-metrics-token"
    with _gunicorn(db_url, tmp_path, METRICS_TOKEN=token, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)) as base:
        for _ in range(20):
            urllib.request.urlopen(base + "/sign-in").read()
        scrape = urllib.request.Request(base + "/metrics", headers={"Authorization": f"Bearer {token}"})
        text = urllib.request.urlopen(scrape).read().decode()
    [line] = [line for line in text.splitlines()
              if line.startswith('policypass_requests_total{method="GET",route="/sign-in",status="200"}')]
    assert float(line.rsplit(" ", 1)[1]) == 20  # whichever worker answered the scrape, it counts both workers'
