"""Module pages of every trust: no raw tag reaches the reader; appendices that are blank forms are shown as a
read-only form preview and are optional reading unless the trust's rule says otherwise."""

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from modules.core.extensions import db
from modules.people.models import Trust
from modules.policies.models import Section
from modules.training.queries import all_read, compulsory_section_ids, current_version
from modules.training.services import mark_read
from tests.assessments.factories import demo_user
from tests.conftest import NOW

SLUGS = ["tkat", "e-act", "tasmat", "tsat", "agora"]
#: Anything in the visible text that looks like an HTML tag, e.g. "<u>", "</u>", "<br/>", "<span class=x>".
TAG_LIKE = re.compile(r"</?[A-Za-z][A-Za-z0-9:]*(\s[^<>]*)?/?>")


class _Visible(HTMLParser):
    """The text a reader sees: character data outside <script>, <style> and <head>, entities decoded."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head", "template"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(page: str) -> str:
    """The page's visible text."""
    parser = _Visible()
    parser.feed(page)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def raw_markup(text: str) -> list[str]:
    """Escaped markup a reader would see: "&lt;" (double-escaped), literal tags such as "<u>"."""
    found = [m.group(0) for m in TAG_LIKE.finditer(text)]
    return found + (["&lt;"] if "&lt;" in text else []) + (["&gt;"] if "&gt;" in text else [])


def test_visible_text_finds_what_a_reader_would_see():
    """The checker itself: an escaped tag in the page is a literal tag in the visible text."""
    assert raw_markup(visible_text("<p>&lt;u&gt;Line Manager&lt;/u&gt; approves</p>")) == ["<u>", "</u>"]
    assert raw_markup(visible_text("<p>&amp;lt;b&amp;gt;</p>")) == ["&lt;", "&gt;"]
    assert raw_markup(visible_text("<p><strong>Line Manager</strong> ages 5 &lt; 7</p>")) == []


def test_no_module_page_of_any_trust_shows_a_raw_tag(app, login):
    """Every module of every trust, through the app as that trust's staff: no tag or escaped markup is visible."""
    for slug in SLUGS:
        client = app.test_client()
        login("staff", slug, c=client)
        version = current_version(db.session.scalar(select(Trust.id).where(Trust.slug == slug)))
        assert version.sections
        for section in version.sections:
            response = client.get(f"/modules/{section.id}")
            assert response.status_code == 200, (slug, section.number)
            text = visible_text(response.get_data(as_text=True))
            assert section.title in text
            assert not raw_markup(text), f"{slug} {section.heading}: {raw_markup(text)}"


def test_the_form_appendices_are_found_from_their_text(app):
    """TKAT's register template and TSAT's approval form are forms; every other section is text."""
    forms = {(trust, number) for trust, number in db.session.execute(
        select(Trust.slug, Section.number).join(Section.version).join(Trust).where(Section.kind == "form"))}
    assert forms == {("tkat", "Appendix 1"), ("tsat", "Appendix 2")}


def test_tsat_appendix_2_is_a_form_preview(app, login, client):
    """The approval form reads as a form: headings, empty answer boxes, tick-box options, the approvers' roles
    as words (not <u> tags), and a note that it is a preview and optional reading (trust setting)."""
    login("staff", "tsat")
    version = current_version(db.session.scalar(select(Trust.id).where(Trust.slug == "tsat")))
    section = next(s for s in version.sections if s.number == "Appendix 2")
    page = client.get(f"/modules/{section.id}").get_data(as_text=True)
    assert 'class="pp-form-preview"' in page
    assert "<strong>Line Manager</strong> I approve the aims and content of the proposed site." in page
    assert page.count('class="pp-form-blank"') >= 15
    assert '<ul class="pp-form-options"><li>Pupils of the Academy (provide age range)</li>' in page
    assert '<span class="pp-form-printed">Yes/No</span>' in page
    text = visible_text(page)
    assert "(the site must have at least 2 approved moderators)" in text
    assert "read-only preview" in text and "You do not need to read it before the quiz (trust setting)" in text
    assert "&lt;" not in page.split('class="pp-form-preview"')[1]
    assert ('This form is now online: its questions are part of asking to set up a new official account or site '
            '(Social Media Site Creation Approval Form (Appendix 2)).') in text
    assert re.search(r'href="[^"]*/requests/new-account"', page)


def test_a_form_appendix_is_optional_reading_unless_the_trust_says_so(app, login, client):
    """TSAT staff who read everything but the form may take the quiz; with the rule on, they may not."""
    user = demo_user("staff", "tsat")
    version = current_version(user.trust_id)
    form = next(s for s in version.sections if s.is_form)
    for section in version.sections:
        if section is not form:
            mark_read(user, section, now=NOW)
    db.session.commit()
    assert form.id not in compulsory_section_ids(version) and all_read(user, version)
    login("staff", "tsat")
    home = visible_text(client.get("/").get_data(as_text=True))
    total = len(version.sections) - 1
    assert f"You have read {total} of {total} modules." in home and "Optional" in home
    assert "Take the quiz" in home
    quiz = client.get("/quiz").get_data(as_text=True)
    assert "Start the quiz" in quiz and "Read every module first" not in quiz

    db.session.rollback()  # end the read that began before the request, so this write sees the latest snapshot
    trust = db.session.get(Trust, user.trust_id)
    trust.settings = {**trust.settings, "form_appendices_compulsory": True}
    db.session.commit()
    assert form.id in compulsory_section_ids(version) and not all_read(user, version)
    home = visible_text(client.get("/").get_data(as_text=True))
    assert f"You have read {total} of {total + 1} modules." in home and "Take the quiz" not in home
    quiz = client.get("/quiz").get_data(as_text=True)
    assert "Start the quiz" not in quiz and f"read all {total + 1} modules" in quiz and form.heading in quiz
    page = visible_text(client.get(f"/modules/{form.id}").get_data(as_text=True))
    assert "Your trust asks everyone to read it before the quiz (trust setting)." in page


@pytest.mark.parametrize("slug", ["tkat", "tsat"])
def test_content_sync_re_renders_stored_sections(app, slug):
    """A version loaded before the form renderer (kind "text", Markdown HTML) is put right by the next sync."""
    from pathlib import Path

    from modules.policies.services import sync_content

    version = current_version(db.session.scalar(select(Trust.id).where(Trust.slug == slug)))
    form = next(s for s in version.sections if s.is_form)
    good = form.html
    form.kind, form.html = "text", "<p>&lt;u&gt;old&lt;/u&gt;</p>"
    db.session.commit()
    sync_content(Path(app.config["CONTENT_DIR"]), now=NOW, app=app)
    db.session.commit()
    db.session.refresh(form)
    assert form.kind == "form" and form.html == good
