"""Uploading a policy in the browser: bytes kept byte-identical, hostile files refused with nothing stored,
corrections kept as an overlay beside the file and applied again when the same file comes back, then a draft."""

import hashlib
import io
import re
from html import unescape

from sqlalchemy import func, select

from modules.core.extensions import db
from modules.people.models import Trust
from modules.policies.models import PolicySource, PolicyVersion
from tests.helpers import csrf_token
from tests.policies.corpus_build import build_docx

#: A Word policy whose section 3 heading was typed as a plain sentence (ending in a full stop) rather than a
#: heading: the parser cannot take it as a heading, so it warns that section 3 has no heading.
SPEC = [
    ("title", "Fernhill Academy Trust Staff Social Media Policy"),
    ("h1n", "Introduction"),
    ("clause", "This policy applies to all staff and volunteers of Fernhill Academy Trust."),
    ("h1n", "Personal use"),
    ("clause", "Staff must not contact pupils through personal social media accounts."),
    ("clause", "Staff should keep their personal accounts private."),
    ("p", "Official accounts."),
    ("clause", "Official accounts need the Headteacher's written approval."),
]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _upload(client, data: bytes, name: str = "policy.docx"):
    token = csrf_token(client.get("/hr/policy/upload").get_data(as_text=True))
    return client.post("/hr/policy/upload", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_upload_preview_correct_and_save_a_draft(client, login):
    """A trust admin uploads a .docx: bytes stored exactly, warning shown, one heading fixed, draft saved."""
    data = build_docx(SPEC)
    login("admin", "tkat")
    response = _upload(client, data, "Fernhill policy.docx")
    assert response.status_code == 302
    source = db.session.scalar(select(PolicySource))
    assert source.data == data and source.sha256 == hashlib.sha256(data).hexdigest() and source.kind == "docx"
    page = client.get(response.headers["Location"])
    text = _text(page.get_data(as_text=True))
    assert 'Clause 2.2 ends with "Official accounts.", which may be a heading of its own' in text
    assert "Probably wrong" not in text and "Check this" in text
    line = next(i for i, text in enumerate(source_lines(source), start=1) if text.strip() == "Official accounts.")

    token = csrf_token(page.get_data(as_text=True))
    url = f"/hr/policy/uploads/{source.id}"
    assert client.post(f"{url}/save", data={"csrf_token": token}).status_code == 400  # no confirmation
    fixed = client.post(f"{url}/corrections", data={"csrf_token": token, "line": str(line), "op": "heading"})
    assert fixed.status_code == 302
    text = _text(client.get(url).get_data(as_text=True))
    assert "3. Official accounts" in text and "may be a heading" not in text
    db.session.rollback()
    assert source.overlay == [{"op": "heading", "line": line, "text": "Official accounts."}]
    assert source.data == data  # the bytes never change

    saved = client.post(f"{url}/save", data={"csrf_token": token, "confirm": "y"})
    assert saved.status_code == 302
    db.session.rollback()
    version = db.session.scalar(select(PolicyVersion).where(PolicyVersion.source_sha256 == source.sha256))
    assert version.status == "draft" and version.source_sha256 == source.sha256
    assert [(s.number, s.title) for s in version.sections] == [
        ("1", "Introduction"), ("2", "Personal use"), ("3", "Official accounts")]
    # The clause keeps the number the document prints (Word numbered it on from section 2).
    assert [c.ref for c in version.sections[2].clauses] == ["2.3"]
    # Saving the same file again is refused: a changed file is a new version.
    again = client.post(f"{url}/save", data={"csrf_token": token, "confirm": "y"})
    assert again.status_code == 400 and "already version" in again.get_data(as_text=True)
    assert client.get(f"{url}/file").data == data


def source_lines(source) -> list[str]:
    """The lines of the text read from a stored upload."""
    from modules.policies.sources import read_source

    return read_source(source.data).text.splitlines()


def test_the_same_file_uploaded_again_gets_its_corrections_back(client, login):
    """Corrections live beside the file (keyed by its sha256), so a re-upload is read with them applied."""
    data = build_docx(SPEC)
    login("hr", "tkat")
    first = _upload(client, data)
    source = db.session.scalar(select(PolicySource))
    line = next(i for i, text in enumerate(source_lines(source), start=1) if text.strip() == "Official accounts.")
    token = csrf_token(client.get(first.headers["Location"]).get_data(as_text=True))
    client.post(f"/hr/policy/uploads/{source.id}/corrections", data={"csrf_token": token, "line": str(line),
                                                                     "op": "heading"})
    second = _upload(client, data, "renamed copy.docx")
    assert second.headers["Location"] == first.headers["Location"]
    db.session.rollback()
    assert _count(PolicySource) == 1
    assert "3. Official accounts" in _text(client.get(second.headers["Location"]).get_data(as_text=True))


def test_hostile_uploads_are_refused_with_a_message_and_store_nothing(client, login):
    """Wrong magic, a zip bomb and a damaged PDF each get a clear message on the form; nothing is stored."""
    import zipfile

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\x00" * (100 * 1024 * 1024))
    login("admin", "tkat")
    for data, name, message in [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, "policy.docx", "binary file"),
        (bomb.getvalue(), "policy.docx", "zip bomb"),
        (b"%PDF-1.7\nnot really\n", "policy.pdf", "damaged"),
        (b"Just some words.\n\nNothing numbered.\n", "policy.txt", None),
    ]:
        response = _upload(client, data, name)
        if message is None:
            continue
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
        assert "There is a problem with the file" in response.get_data(as_text=True)
    db.session.rollback()
    assert _count(PolicySource) == 1  # only the readable text file, which the preview then refuses to save
    source = db.session.scalar(select(PolicySource))
    page = _text(client.get(f"/hr/policy/uploads/{source.id}").get_data(as_text=True))
    assert "The structure of this document could not be read" in page and "Save as a draft version" not in page


def test_a_bad_correction_is_shown_on_its_field_and_changes_nothing(client, login):
    """A line number out of range or a split without a number is refused on the field."""
    login("admin", "tkat")
    response = _upload(client, build_docx(SPEC))
    source = db.session.scalar(select(PolicySource))
    token = csrf_token(client.get(response.headers["Location"]).get_data(as_text=True))
    url = f"/hr/policy/uploads/{source.id}/corrections"
    out_of_range = client.post(url, data={"csrf_token": token, "line": "999", "op": "ignore"})
    assert out_of_range.status_code == 400 and "Enter a line number from 1 to" in out_of_range.get_data(as_text=True)
    line = next(i for i, text in enumerate(source_lines(source), start=1) if text.strip() == "Official accounts.")
    no_ref = client.post(url, data={"csrf_token": token, "line": str(line), "op": "split", "ref": "x"})
    assert no_ref.status_code == 400 and "Enter the new clause" in no_ref.get_data(as_text=True)
    db.session.rollback()
    assert source.overlay == []


def test_other_trusts_upload_is_not_found_and_staff_cannot_upload(client, login):
    """Another trust's upload id is a 404; staff without policies:manage get a 403."""
    login("admin", "tkat")
    _upload(client, build_docx(SPEC))
    source = db.session.scalar(select(PolicySource))
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    login("admin", "e-act")
    assert client.get(f"/hr/policy/uploads/{source.id}").status_code == 404
    tkat = db.session.scalar(select(Trust).where(Trust.slug == "tkat"))
    assert source.trust_id == tkat.id
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    login("staff", "tkat")
    assert client.get(f"/hr/policy/uploads/{source.id}").status_code == 403
    assert client.get("/hr/policy/upload").status_code == 403
