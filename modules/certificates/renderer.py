"""A separate process that turns certificate HTML into PDF bytes, so the Huey consumer never holds WeasyPrint.

WeasyPrint, Pango and the fonts take ~35 MB of a process and grow with renders (bench/certificate_render.py);
in the consumer, on top of the whole app, that took it past issue 16's 120 MB. So the consumer (its Huey startup
hook, hooks.py) sends each document's HTML to this child and gets the PDF back. The child imports only
weasy.py (no Flask, no app), is replaced after RECYCLE_AFTER renders so its growth is bounded, and exits when
idle for IDLE_SECONDS, so the memory is given back between bursts; the next PDF starts another.

Protocol on the child's stdin/stdout: a 4-byte big-endian length and the UTF-8 HTML; the answer is b"+" or b"-",
a length, and the PDF bytes or the error text.
"""

import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

#: A child renders this many PDFs, then is replaced (WeasyPrint's memory grows a little with every render).
RECYCLE_AFTER = 200
#: A child with nothing to render for this long exits; the next PDF starts another.
IDLE_SECONDS = 300
#: A render taking longer than this is abandoned: the child is killed and the render fails (the task retries).
TIMEOUT_SECONDS = 120
ROOT = Path(__file__).resolve().parents[2]
_HEADER = struct.Struct(">I")


class RenderFailed(Exception):
    """The separate renderer could not make the PDF (its error text, or it died or timed out)."""


class Renderer:
    """The parent's end: one child at a time, one render at a time, started on first use and replaced as needed."""

    def __init__(self, recycle_after: int = RECYCLE_AFTER, idle_seconds: float = IDLE_SECONDS,
                 timeout: float = TIMEOUT_SECONDS):
        self.recycle_after, self.idle_seconds, self.timeout = recycle_after, idle_seconds, timeout
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.rendered = 0  # by the current child

    def pdf(self, html: str) -> bytes:
        """The PDF of `html`, rendered by the child; raises RenderFailed."""
        with self.lock:
            try:
                return self._ask(html)
            except (BrokenPipeError, EOFError):
                # The child had gone (idle exit racing this request, or it died): once more with a new one.
                self._stop()
            try:
                return self._ask(html)
            except (BrokenPipeError, EOFError):
                self._stop()
                raise RenderFailed("the PDF renderer exited while rendering") from None

    def pid(self) -> int | None:
        """The running child's process id, if any (for tests and benches)."""
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def close(self) -> None:
        """Stop the child (it would stop by itself when idle)."""
        with self.lock:
            self._stop()

    def _ask(self, html: str) -> bytes:
        if self.proc is None or self.proc.poll() is not None or self.rendered >= self.recycle_after:
            self._stop()
            self._start()
        data = html.encode()
        self.proc.stdin.write(_HEADER.pack(len(data)) + data)
        self.proc.stdin.flush()
        deadline = time.monotonic() + self.timeout
        try:
            answers = self.proc.stdout.fileno()
            status = _read_exactly(answers, 1, deadline)
            payload = _read_exactly(answers, _HEADER.unpack(_read_exactly(answers, _HEADER.size, deadline))[0], deadline)
        except TimeoutError:
            self._stop()
            raise RenderFailed(f"the PDF renderer took more than {self.timeout:.0f} s") from None
        self.rendered += 1
        if status != b"+":
            raise RenderFailed(payload.decode(errors="replace"))
        return payload

    def _start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-m", "modules.certificates.renderer", str(self.idle_seconds)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=env)
        self.rendered = 0

    def _stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()  # the child's cue to exit
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        proc.stdout.close()


def serve(requests: int, answers, idle_seconds: float) -> None:
    """The child's loop: render each document it is sent until its input closes or it is idle too long."""
    from modules.certificates.weasy import html_to_pdf_here

    while True:
        ready, _, _ = select.select([requests], [], [], idle_seconds)
        if not ready:
            return
        try:
            html = _read_exactly(requests, _HEADER.unpack(_read_exactly(requests, _HEADER.size))[0]).decode()
        except EOFError:  # the parent closed its end: done
            return
        try:
            status, payload = b"+", html_to_pdf_here(html)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 (WeasyPrint's fetch refusal is a BaseException): sent back
            status, payload = b"-", f"{type(exc).__name__}: {exc}".encode()
        answers.write(status + _HEADER.pack(len(payload)) + payload)
        answers.flush()


def _read_exactly(fd: int, size: int, deadline: float | None = None) -> bytes:
    """Exactly `size` bytes from the descriptor; EOFError when it closes first, TimeoutError past the deadline."""
    chunks, left = [], size
    while left:
        if deadline is not None:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def main() -> None:
    """Entry point of the child (`python -m modules.certificates.renderer [idle seconds]`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole group: the parent stops it (EOF)
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed by a library goes to stderr, never into the answers
    serve(sys.stdin.fileno(), answers, float(sys.argv[1]) if len(sys.argv) > 1 else IDLE_SECONDS)


if __name__ == "__main__":
    main()
