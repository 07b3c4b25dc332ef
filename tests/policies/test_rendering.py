"""Rendering sections: Word leftovers never show as raw tags, and an appendix that is a blank form or a template
is found from its words (no trust is named here) and rendered as a read-only form preview."""

from modules.policies.rendering import render_section, section_kind


def clause(ref: str, text: str, modality: str = "info") -> dict:
    """A clause as the parser gives it."""
    return {"ref": ref, "parent": None, "text": text, "modality": modality}


FORM = "\n\n".join([
    "Please fill this in and send it to the head of department",
    "APPLICANT DETAILS",
    "Name",
    "Job title",
    "Which year groups will use the page?",
    "Names of editors",
    "(at least three editors are needed)",
    "PLATFORM",
    "Please tick all that apply.",
    "- Video sharing\n- Photo sharing\n- Blog",
    "Will comments be switched on?\tYes/No",
    "<u>Head of Department</u> I agree to the plans above.\tSignature",
    "Date",
])


def test_a_form_appendix_is_found_by_its_fields():
    """An appendix that is mostly fields to fill in is a form, whatever its title."""
    assert section_kind("Appendix C", "Request to open a page", [clause("Appendix C", FORM)]) == "form"


def test_a_form_title_or_a_template_table_makes_a_form():
    """A title naming a form, template or checklist, or a header-only (or example-only) table, makes a form."""
    prose = [clause("Appendix 4", "Staff must read this appendix. It explains the rules in full.")]
    assert section_kind("Appendix 4", "Parental consent form", prose) == "form"
    assert section_kind("APPENDIX 5", "Posting checklist", prose) == "form"
    template = [clause("Appendix 6", "Keep a list like this.\n\nName\tRole\tAccounts\ne.g. A. Person\tClerk\tBlog")]
    assert section_kind("Appendix 6", "Who may post", template) == "form"
    data = [clause("Appendix 6", "Keep a list like this.\n\nName\tRole\tAccounts\nA. Person\tClerk\tBlog")]
    assert section_kind("Appendix 6", "Who may post", data) == "text"


def test_rules_and_numbered_sections_stay_text():
    """An appendix of rules is text, and so is a numbered section however short its lines."""
    rules = [clause(f"A.{i}", f"Staff must do thing number {i} before they post anything.", "must") for i in range(8)]
    assert section_kind("Appendix 1", "Requirements for official pages", rules) == "text"
    assert section_kind("4", "Applicant form", [clause("4", FORM)]) == "text"


def test_the_form_preview_keeps_every_word_and_shows_no_tag():
    """Headings, empty answer boxes, hints, tick-box options, printed choices and the statement to sign."""
    html = render_section("Appendix C", [clause("Appendix C", FORM, "must")], kind="form")
    assert 'class="pp-form-preview"' in html and "&lt;" not in html and "<u>" not in html
    assert '<h3 class="govuk-heading-s pp-form-heading">APPLICANT DETAILS</h3>' in html
    for label in ("Name", "Job title", "Which year groups will use the page?", "Names of editors", "Date",
                  "Signature"):
        assert f'<span class="pp-form-label">{label}</span><span class="pp-form-blank">' in html, label
    assert '<p class="govuk-hint">(at least three editors are needed)</p>' in html
    assert '<ul class="pp-form-options"><li>Video sharing</li><li>Photo sharing</li><li>Blog</li></ul>' in html
    assert ('<span class="pp-form-label">Will comments be switched on?</span>'
            '<span class="pp-form-printed">Yes/No</span>') in html
    assert "<strong>Head of Department</strong> I agree to the plans above." in html
    assert '<strong class="govuk-tag pp-obligation pp-obligation-must">Must</strong>' in html


def test_a_template_table_keeps_its_header_and_example_row():
    """A header row with an example under it is a table, not fields."""
    text = "Keep a list like this.\n\nName\tRole\tAccounts\ne.g. A. Person\tClerk\tBlog"
    html = render_section("Appendix 6", [clause("Appendix 6", text)], kind="form")
    assert '<th class="govuk-table__header" scope="col">Accounts</th>' in html
    assert '<td class="govuk-table__cell">e.g. A. Person</td>' in html


def test_word_leftovers_in_ordinary_text_become_emphasis_or_go():
    """<u>, <b>, <i> keep their emphasis; <br> is a line break; other tags go; a real "<" stays as text."""
    text = "<u>Line Manager</u> must <b>approve</b> it.<br>Then <i>post</i> it <span class=\"x\">once</span>; ages < 13."
    html = render_section("3", [clause("3.1", text, "must")])
    assert "<strong>Line Manager</strong>" in html and "<strong>approve</strong>" in html
    assert "<em>post</em>" in html and "once" in html and "span class" not in html
    assert "&lt;u" not in html and "&lt;b" not in html and "&lt;span" not in html and "ages &lt; 13" in html
