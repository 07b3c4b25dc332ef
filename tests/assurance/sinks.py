"""Hostile text in every place it comes out: HTML pages, CSV and XLSX exports (and the evidence pack's files),
the certificate PDF, and email headers.

The values are written straight onto TKAT's rows (every demo person's name, job title and department, an
official account's handle and purpose, an access request's reason), as an import or a form might have stored
them; then every GET page of the access matrix is rendered as each person and every export is downloaded.
- HTML: parsed with lxml; an injection is a <script>, an on* attribute, a javascript: link or an <iframe>,
  <svg> or <style> that came from a payload, or a template expression that was evaluated.
- CSV: an injection is a payload cell that begins with = + - @ tab or CR (not defused with a leading
  apostrophe); XLSX: any cell stored as a formula (a string cell is text, whatever it begins with).
- PDF: the certificate template is rendered with each payload as the holder's name, and hostile documents
  are given to WeasyPrint directly; a local HTTP listener counts every fetch, and no file's content may appear.
- Email: messages whose subject or recipient carries CR, LF or other control characters go through the real
  delivery to a real SMTP server (aiosmtpd); an injection is any extra header or recipient; a failure must
  be recorded on the message and the rest of the batch delivered.
"""

import csv
import io
import re
import threading
import time
import zipfile
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import lxml.html
import openpyxl
import sqlalchemy as sa

from modules.core.extensions import db
from tests.assurance.runner import Database, Part, app_context
from tests.conftest import NOW, demo_email
from tests.helpers import sign_in
from tests.test_access_matrix import MATRIX, PEOPLE, Ids

TITLE = "Payloads per sink"
SLUG = "tkat"

#: Script payloads: each carries its own number after "ppx", so a finding names the payload.
XSS = [
    "<script>ppx(1)</script>",
    '"><img src=x onerror=ppx(2)>',
    "'><svg onload=ppx(3)>",
    "</title></textarea><script>ppx(4)</script>",
    '<a href="javascript:ppx(5)">ppx5</a>',
    "javascript:ppx(6)",
    '<iframe srcdoc="<script>ppx(7)</script>"></iframe>',
    '{{ "pp" ~ "tmpl8" }}{% raw %}',
    "<style>*{background:url(//127.0.0.1/ppx9)}</style>",
    "<!--ppx10",
    "<img src=x onerror=ppx(11)//",
    '<math><mtext><table><mglyph><style><img src=x onerror=ppx(12)>',
]
#: Formula payloads for spreadsheets: each contains "ppf".
FORMULAS = [
    '=HYPERLINK("http://evil.example/ppf1","Click")',
    "+ppf2+1",
    "-ppf3+1",
    "@SUM(1+1)*ppf4",
    "\t=ppf5()",
    "\r=ppf6()",
    "=cmd|' /C calc'!ppf7",
    "=1+1+ppf8",
]
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
#: Header payloads for email: line breaks (CR, LF, both, Unicode separators) and other control characters.
HEADER_PAYLOADS = [
    "Sam\r\nBcc: pph1@evil.example",
    "Sam\nX-Injected: pph2",
    "Sam\rX-Injected: pph3",
    "Sam\r\n\r\npph4 body",
    "Sam\u2028X-Injected: pph5",
    "Sam\x00pph6",
    "Sam\x0bX-Injected: pph7",
    "Sam\x85X-Injected: pph8",
    "=?utf-8?q?Sam=0D=0AX-Injected:_pph9?=",
]
STANDARD_HEADERS = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type",
                    "content-transfer-encoding"}


def _poison() -> dict[str, str]:
    """Write the payloads onto TKAT's rows; returns where each went."""
    from modules.people.models import User
    from tests.access import factories

    db.session.commit()
    placed = {}
    account, request, _grant = (factories.matrix_account(SLUG), factories.matrix_request(SLUG),
                                factories.matrix_grant(SLUG))
    people = list(db.session.scalars(sa.select(User).join(User.trust).where(User.email.like(f"%@{SLUG}.%"))
                                     .order_by(User.id)))
    for i, person in enumerate(people):
        person.name = f"{XSS[i % len(XSS)]} {person.name}"
        person.job_title = FORMULAS[i % len(FORMULAS)]
        person.department = FORMULAS[(i + 3) % len(FORMULAS)] + XSS[(i + 5) % len(XSS)]
        placed[person.email] = person.name
    account.handle = XSS[1] + FORMULAS[0]
    account.purpose = XSS[0] + " " + FORMULAS[2]
    request.reason = XSS[6] + " " + FORMULAS[3]
    db.session.commit()
    return placed


#: Attributes a browser follows as a URL (a "javascript:" value anywhere else, say data-label, is inert text).
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "background", "poster", "data",
                            "srcset", "ping", "cite", "longdesc", "manifest", "codebase", "archive"})


def _html_injections(body: str) -> list[str]:
    """Elements, attributes and evaluated templates in a page that came from a payload."""
    found = []
    if "pptmpl8" in body:
        found.append("template expression evaluated")
    tree = lxml.html.fromstring(body)
    for element in tree.iter():
        if not isinstance(element.tag, str):
            if "ppx" in (element.text or "") and element.tag is lxml.html.HtmlComment:
                found.append("comment opened by a payload")
            continue
        text = element.text or ""
        own = text + "".join(element.attrib.values()) + "".join(element.attrib)
        if element.tag in ("script", "style", "iframe") and "ppx" in (
                own + lxml.html.tostring(element, encoding="unicode")):
            found.append(f"<{element.tag}> from a payload")
        # An <svg> or <math> the app draws (the dashboard's charts) holds payload names as escaped text in its
        # children; one a payload made carries the payload in its own attributes (e.g. onload).
        if element.tag in ("svg", "math") and "ppx" in "".join(element.attrib.values()) + "".join(element.attrib):
            found.append(f"<{element.tag}> from a payload")
        for name, value in element.attrib.items():
            if "ppx" not in value and "ppx" not in name:
                continue
            url = name in URL_ATTRIBUTES and value.strip().lower().startswith(("javascript:", "data:", "vbscript:"))
            if name.startswith("on") or url or name == "srcdoc":
                found.append(f"{name}= from a payload on <{element.tag}>")
    return found


def _cells_csv(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig", errors="replace")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _cells_xlsx(data: bytes) -> list[tuple[str, str]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [(cell.data_type, str(cell.value)) for sheet in book.worksheets for row in sheet.iter_rows()
            for cell in row if cell.value is not None]


def _xlsx_injections(data: bytes) -> tuple[int, list[str]]:
    """(payload cells seen, those stored as formulas). A string cell is shown as text whatever it begins with."""
    cells = _cells_xlsx(data)
    seen = [(kind, v) for kind, v in cells if "ppf" in v or "ppx" in v]
    return len(seen), [v for kind, v in cells if kind == "f"]


def _formula_injections(cells: list[str]) -> tuple[int, list[str]]:
    """(payload cells seen, those that begin like a formula)."""
    seen = [c for c in cells if "ppf" in c or "ppx" in c]
    return len(seen), [c for c in seen if c.startswith(DANGEROUS_START)]


class Tally:
    """Per sink: documents looked at, payload occurrences that reached them, and injections."""

    def __init__(self):
        self.documents: dict[str, int] = {}
        self.reached: dict[str, int] = {}
        self.injected: dict[str, list[str]] = {}

    def add(self, sink: str, reached: int, injections: list[str], where: str) -> None:
        """Count one document."""
        self.documents[sink] = self.documents.get(sink, 0) + 1
        self.reached[sink] = self.reached.get(sink, 0) + reached
        self.injected.setdefault(sink, []).extend(f"{where}: {i!r}" for i in injections)


def _document(tally: Tally, where: str, response) -> None:
    data, mimetype = response.get_data(), response.mimetype
    if mimetype == "text/html":
        body = data.decode("utf-8", errors="replace")
        visible = lxml.html.fromstring(body).text_content() if body.strip() else ""
        reached = sum(visible.count(f"ppx{n}") + visible.count(f"ppx({n})") for n in range(1, len(XSS) + 1))
        tally.add("HTML pages", reached, _html_injections(body) if body.strip() else [], where)
    elif mimetype == "text/csv":
        seen, bad = _formula_injections(_cells_csv(data))
        tally.add("CSV exports", seen, bad, where)
    elif "spreadsheetml" in mimetype:
        tally.add("XLSX exports", *_xlsx_injections(data), where)
    elif mimetype == "application/zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.endswith(".csv"):
                    seen, bad = _formula_injections(_cells_csv(archive.read(name)))
                    tally.add("CSV exports", seen, bad, f"{where} → {name}")
                elif name.endswith(".xlsx"):
                    tally.add("XLSX exports", *_xlsx_injections(archive.read(name)), f"{where} → {name}")


def _extra_exports(ids: Ids) -> list[str]:
    """The export formats and views the matrix does not list (it names one path per route)."""
    person = ids.user("staff")
    return [f"/tracking/export/{view}.{fmt}" for view in ("people", "overdue", "expiring")
            for fmt in ("csv", "xlsx")] + [f"/tracking/people/{person}/history.xlsx"]


def _pages(app, people: list[str], tally: Tally) -> int:
    ids = Ids(SLUG)
    paths = sorted({route.path(ids) for route in MATRIX.values() if route.method == "GET"} | set(_extra_exports(ids)))
    requests = 0
    for person in people:
        client = app.test_client()
        if person != "anonymous":
            sign_in(client, demo_email(person, SLUG))
        for path in paths:
            response = client.get(path)
            requests += 1
            if response.status_code == 200:
                _document(tally, f"GET {path} as {person}", response)
    return requests


class _Listener:
    """A local HTTP server that counts every request made to it (WeasyPrint must make none)."""

    def __init__(self):
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802  (http.server's name)
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"body{background:red}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def _pdf_text(pdf: bytes) -> str:
    import pypdf

    return "".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def _pdfs(part: Part) -> None:
    from modules.certificates.rendering import CertificateContent, html_to_pdf, render_certificate

    listener = _Listener()
    secret = open("/etc/hostname").read().strip() or "localhost"  # noqa: SIM115, PTH123
    url = f"http://127.0.0.1:{listener.port}"
    names = XSS + [f'<img src="{url}/name.png">', f'<link rel=stylesheet href="{url}/name.css">',
                   '<img src="file:///etc/hostname">']
    shown = 0
    try:
        for name in names:
            content = CertificateContent(holder_name=name, trust_name="TKAT", academy_name="North Park Academy",
                                         policy_title="Social Media Policy", version_label="Version 1",
                                         completed_on="21 November 2026", expires_on="21 November 2027",
                                         code_grouped="AAAA-BBBB", verify_url="https://policypass.example/verify/AAAA")
            text = re.sub(r"\s+", "", _pdf_text(render_certificate(content).pdf))
            shown += re.sub(r"\s+", "", name) in text
        documents = [f'<img src="{url}/a.png">', f'<link rel="stylesheet" href="{url}/b.css">',
                     f"<style>@import url({url}/c.css);</style>", f'<style>@font-face{{font-family:x;src:url({url}/d.woff)}}'
                     "p{font-family:x}</style><p>x</p>",
                     f'<svg xmlns="http://www.w3.org/2000/svg"><image href="{url}/e.png" width="9" height="9"/></svg>',
                     f'<object data="{url}/f"></object>', f'<iframe src="{url}/g"></iframe>',
                     '<img src="file:///etc/hostname">', '<link rel="stylesheet" href="file:///etc/hostname">',
                     f'<p style="background:url({url}/h.png)">x</p>', f'<embed src="{url}/i">',
                     '<object data="file:///etc/hostname"></object>']
        refused = leaked = 0
        for document in documents:
            try:
                leaked += secret in _pdf_text(html_to_pdf(f"<html><body>{document}</body></html>"))
            except Exception:  # noqa: BLE001  any failure to render counts as a refusal
                refused += 1
            except BaseException as exc:  # WeasyPrint's FatalURLFetchingError: the fetcher refused, by design
                if type(exc).__name__ != "FatalURLFetchingError":
                    raise
                refused += 1
        time.sleep(0)  # the listener's threads run on their own; nothing to wait for if nothing was fetched
    finally:
        listener.close()
    part.add(f"PDF certificate: holder names with payloads ({len(names)}), rendered", len(names),
             len(names) - shown, "not shown as text",
             note="each name must appear in the PDF's text exactly as typed")
    part.add(f"PDF: hostile documents given to WeasyPrint ({refused} refused outright)", len(documents), leaked,
             "file contents in the PDF")
    part.add("PDF: fetches that reached the local HTTP listener", len(names) + len(documents), len(listener.hits),
             "fetches", note=", ".join(listener.hits))


def _emails(part: Part, app) -> None:
    from aiosmtpd.controller import Controller

    from modules.notifications.delivery import send_pending
    from modules.notifications.models import OutboxMessage
    from modules.notifications.services import queue_email
    from tests.notifications.sink import Sink, _Handler, free_port

    sink = Sink(port=free_port())
    controller = Controller(_Handler(sink), hostname="127.0.0.1", port=sink.port, server_hostname="localhost")
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port, MAIL_TIMEOUT=5, MAIL_LOCAL_HOSTNAME="localhost",
                      MAIL_DEFAULT_SENDER="PolicyPass <no-reply@policypass.test>")
    try:
        db.session.commit()
        address = demo_email("staff", SLUG)
        ids = []
        # PostgreSQL text cannot hold NUL at all (the insert fails), so no name or handle there can carry one.
        payloads = [p for p in HEADER_PAYLOADS if "\x00" not in p or db.engine.dialect.name != "postgresql"]
        for i, payload in enumerate(payloads):
            # The subjects the services build from a person's name or an account's handle (access/services.py).
            ids.append(queue_email(recipient=address, reason=f"assurance-subject:{i}", now=NOW, body="x",
                                   subject=f"Request waiting for your decision: {payload}").id)
            ids.append(queue_email(recipient=f'"{payload}" <{address}>', reason=f"assurance-to:{i}", now=NOW,
                                   body="x", subject="Your access to @school has been removed").id)
        last = queue_email(recipient=address, reason="assurance-last", now=NOW, body="x", subject="After them").id
        db.session.commit()
        try:
            send_pending(now=NOW, ids=[*ids, last])
            crashed = ""
        except Exception as exc:  # noqa: BLE001  counted: a message must never stop the batch
            crashed = repr(exc)
            db.session.rollback()
        db.session.expire_all()
        statuses = dict(db.session.execute(sa.select(OutboxMessage.id, OutboxMessage.status)
                                           .where(OutboxMessage.id.in_([*ids, last]))).all())
    finally:
        controller.stop()
    injected = []
    for message, (_sender, rcpts) in zip(sink.messages, sink.envelopes, strict=True):
        extra = {k.lower() for k in message.keys()} - STANDARD_HEADERS
        subject = str(message.get("Subject", ""))
        if extra or any("evil" in r for r in rcpts) or re.search(r"[\r\n]", subject) or _body_has(message, "pph4"):
            injected.append(f"{sorted(extra)} {rcpts} {subject!r}")
    part.add(f"email headers: subjects and recipient names with control characters ({len(ids)} messages)",
             len(ids), len(injected), "headers injected", note="; ".join(injected))
    stuck = [i for i, s in statuses.items() if s not in ("sent", "failed")]
    part.add("email: messages left neither sent nor failed (a stopped batch)", len(ids) + 1,
             len(stuck) + (1 if crashed else 0) + (statuses.get(last) != "sent"), "stuck",
             note=crashed or f"{sum(s == 'sent' for s in statuses.values())} sent, "
             f"{sum(s == 'failed' for s in statuses.values())} refused and marked failed; the last was "
             f"{statuses.get(last)}")


def _body_has(message: EmailMessage, text: str) -> bool:
    """Whether the text reached the body from a header (a blank line injected into a header)."""
    body = message.get_body(("plain",))
    return bool(body) and text in body.get_content()


def run(database: Database, *, people: list[str] = PEOPLE) -> Part:
    """Poison TKAT's rows, render every page and export as each person, render PDFs, send email."""
    part = Part(TITLE, database.backend)
    started = time.monotonic()
    tally = Tally()
    with app_context(database) as app:
        _poison()
        requests = _pages(app, people, tally)
        _pdfs(part)
        _emails(part, app)
    others, part.rows = part.rows, []
    for sink in ("HTML pages", "CSV exports", "XLSX exports"):
        injections = tally.injected.get(sink, [])
        documents, reached = tally.documents.get(sink, 0), tally.reached.get(sink, 0)
        part.add(f"{sink}: payload occurrences that reached {documents} documents", reached, len(injections),
                 "injections")
        part.findings += injections[:20]
        if reached == 0:  # a sink nothing reached was not tried: that fails the battery too
            part.add(f"{sink}: not reached by any payload", 0, 1, "not exercised")
    part.rows += others
    part.notes.append(f"{requests} GET requests (every GET route of the access matrix and every export format) as "
                      f"{', '.join(people)}; {len(XSS)} script and {len(FORMULAS)} formula payloads, "
                      f"{len(HEADER_PAYLOADS)} header payloads")
    part.seconds = time.monotonic() - started
    return part
