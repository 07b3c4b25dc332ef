"""Where PDFs are rendered (issue 16, worker memory): the consumer through a separate renderer process that is
replaced and exits when idle, and WeasyPrint warmed only in web workers that render certificates themselves."""

import io
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest

from modules.certificates import rendering
from modules.certificates.models import Certificate
from modules.certificates.renderer import Renderer, RenderFailed
from modules.core.extensions import db
from tests.certificates.test_pdfs import _acknowledge

ROOT = Path(__file__).resolve().parents[2]


def _text(pdf: bytes) -> str:
    return " ".join(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())


@pytest.fixture
def renderer():
    made = []

    def make(**options) -> Renderer:
        made.append(Renderer(**options))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_the_separate_process_renders_the_pdf_and_refuses_fetches(renderer):
    """The child renders the HTML it is sent; a document that reaches out fails there and the error comes back."""
    pdfs = renderer()
    pdf = pdfs.pdf("<p>Certificate for Samantha O’Neill-Taylor</p>")
    assert pdf.startswith(b"%PDF") and "Samantha O’Neill-Taylor" in _text(pdf)
    assert pdfs.pid() not in (None, os.getpid())
    with pytest.raises(RenderFailed, match="fetching is disabled"):
        pdfs.pdf('<img src="file:///etc/hostname">')
    assert "next" in _text(pdfs.pdf("<p>next</p>"))  # the same child carries on after a failed document


def test_the_child_is_replaced_after_its_quota_and_exits_when_idle(renderer):
    """RECYCLE_AFTER bounds one child's growth; IDLE_SECONDS gives the memory back; the next PDF starts another."""
    pdfs = renderer(recycle_after=2, idle_seconds=1)
    pdfs.pdf("<p>one</p>")
    first, proc = pdfs.pid(), pdfs.proc
    pdfs.pdf("<p>two</p>")
    assert pdfs.pid() == first
    pdfs.pdf("<p>three</p>")
    assert pdfs.pid() != first and proc.poll() is not None  # replaced; the old child has exited
    idle = pdfs.proc
    assert idle.wait(timeout=30) == 0  # idle for a second: it exits by itself
    assert "four" in _text(pdfs.pdf("<p>four</p>"))
    assert pdfs.pid() not in (None, idle.pid)


def test_a_render_that_takes_too_long_fails_and_kills_the_child(renderer):
    pdfs = renderer(timeout=0.01)  # the first render imports WeasyPrint: far longer than 10 ms
    with pytest.raises(RenderFailed, match="took more than"):
        pdfs.pdf("<p>slow</p>")
    assert pdfs.pid() is None


def test_the_consumer_renders_through_the_separate_process(app, client, login, now, tmp_path):
    """The consumer's startup hook (Huey runs it only in a consumer) switches its PDFs to the renderer process;
    a certificate queued by a request is then rendered there, stored and downloadable."""
    from modules.certificates.hooks import render_task
    from modules.notifications import queue

    app.config.update({"CERTIFICATE_RENDERING": "worker", "HUEY_FILE": str(tmp_path / "huey.db")})
    response, cert_id = _acknowledge(client, login, now)
    response.close()
    assert rendering._separate.get("renderer") is None  # queueing alone starts nothing
    huey = queue.get_queue(app)
    render_task(app)
    try:
        for hook in huey._startup.values():  # what the consumer does as it starts
            hook()
        renderer = rendering._separate["renderer"]
        child = renderer.pid()
        assert child is not None
        assert queue.drain(app) == 1
        assert renderer.pid() == child and renderer.rendered == 2  # the warm-up, then the certificate
        db.session.rollback()
        cert = db.session.get(Certificate, cert_id)
        assert cert.pdf_state == "ready" and cert.personal.holder_name in _text(cert.pdf_bytes)
    finally:
        separate = rendering._separate.pop("renderer", None)
        if separate is not None:
            separate.close()


@pytest.mark.parametrize(("mode", "warmed"), [("worker", False), ("none", False), ("request", True), ("inline", True)])
def test_gunicorn_warms_weasyprint_only_in_workers_that_render(tmp_path, mode, warmed):
    """gunicorn.conf.py's post_worker_init, given a worker serving the app: WeasyPrint is imported (and its fonts
    loaded) only when the web worker renders certificates itself."""
    script = ("import runpy, sys, types; from app import create_app; "
              f"app = create_app({{'INSTANCE_PATH': {str(tmp_path)!r}, 'SECRET_KEY': 'x'}}); "
              f"runpy.run_path({str(ROOT / 'gunicorn.conf.py')!r})['post_worker_init'](types.SimpleNamespace(wsgi=app)); "
              "print('weasyprint' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                              "CERTIFICATE_RENDERING": mode})
    assert out.stdout.strip() == str(warmed), out.stderr


def test_gunicorn_conf_still_defines_the_hooks():
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert callable(hooks["post_worker_init"]) and callable(hooks["child_exit"])
