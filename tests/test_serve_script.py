"""`make run` serves with scripts/serve.sh: the web server and the Huey worker as one process group.

The worker's start-up daily run queues the reminders the demo cast is due (they were given their induction on
1 September 2026, so they are overdue) and the worker delivers them to a real SMTP sink; stopping the script
stops both processes.
"""

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.browser.conftest import free_port
from tests.notifications.sink import smtp_sink  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state != "Z"


@pytest.fixture
def served(db_url, tmp_path, smtp_sink):  # noqa: F811
    """scripts/serve.sh on a free port, on a fresh demo database, mailing to the sink; yields (proc, base)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "INSTANCE_PATH": str(tmp_path / "instance"),
           "SECRET_KEY": "serve-test", "PORT": str(port), "VENV": str(Path(os.sys.executable).parents[1]),
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_sink.port), "MAIL_TIMEOUT": "5",
           "MAIL_LOCAL_HOSTNAME": "localhost"}
    proc = subprocess.Popen([str(ROOT / "scripts" / "serve.sh")], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("serve.sh exited: " + proc.stdout.read().decode())
                time.sleep(0.1)
        yield proc, base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _outbox(db_url: str) -> dict[str, list[str]]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT status, recipient FROM outbox_message")).all()
    finally:
        engine.dispose()
    found: dict[str, list[str]] = {}
    for status, recipient in rows:
        found.setdefault(status, []).append(recipient)
    return found


def test_make_run_starts_a_worker_that_delivers_email(served, smtp_sink, db_url):  # noqa: F811
    """With only the serve script running, what the daily run queued reaches the SMTP sink through the worker."""
    deadline = time.monotonic() + 90
    outbox = _outbox(db_url)
    while time.monotonic() < deadline and (not outbox.get("sent") or outbox.get("pending") or outbox.get("sending")):
        time.sleep(0.5)
        outbox = _outbox(db_url)
    assert outbox.get("sent"), f"the worker delivered nothing: {outbox}"
    assert not outbox.get("pending") and not outbox.get("sending")
    received = sorted(addr for _, rcpts in smtp_sink.envelopes for addr in rcpts)
    assert received == sorted(outbox["sent"])


def test_stopping_the_script_stops_both_processes(served):
    """SIGTERM to serve.sh ends gunicorn and the worker too; nothing is left running."""
    proc, _base = served
    children = _children(proc.pid)
    assert len(children) == 2, children
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in children)
