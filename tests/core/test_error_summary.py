"""The one error summary macro (templates/macros/errors.html): what it lists, in what order, linked where."""

import re
from pathlib import Path

from flask import render_template_string
from wtforms import Form, HiddenField, StringField
from wtforms.validators import DataRequired

from modules.policies.forms import GovDateField

ROOT = Path(__file__).resolve().parents[2]
MACRO = '{% from "macros/errors.html" import error_summary %}'


class _Form(Form):
    name = StringField(validators=[DataRequired("Enter your name")])
    key = HiddenField(validators=[DataRequired("The form expired")])
    on = GovDateField("On", invalid="Enter a date")


def _items(html: str) -> list[tuple[str | None, str]]:
    """(href, text) of each listed error."""
    found = re.findall(r'<li>\s*(?:<a href="([^"]*)">)?\s*([^<]+?)\s*(?:</a>)?\s*</li>', html)
    return [(href or None, text) for href, text in found]


def test_lists_extra_form_errors_then_each_fields_first_error(app):
    form = _Form(data={})
    form.validate()
    form.form_errors.append("Something is wrong with the whole form")
    form.name.errors.append("A second message is not listed")
    with app.test_request_context():
        html = render_template_string(MACRO + '{{ error_summary(form, extra="From the view", extra_href="#x") }}',
                                      form=form)
    assert "There is a problem" in html
    assert _items(html) == [("#x", "From the view"), (None, "Something is wrong with the whole form"),
                            ("#name", "Enter your name"), (None, "The form expired"), ("#on-day", "Enter a date")]


def test_several_forms_and_nothing_to_show(app):
    first, second = _Form(data={}), _Form(data={"name": "Sam", "key": "k"})
    first.validate()
    with app.test_request_context():
        assert render_template_string(MACRO + "{{ error_summary(none) }}{{ error_summary(second) }}",
                                      second=_Form()).strip() == ""
        html = render_template_string(MACRO + "{{ error_summary([first, second]) }}", first=first, second=second)
    assert [text for _href, text in _items(html)] == ["Enter your name", "The form expired", "Enter a date"]


def test_no_other_template_builds_its_own_error_summary():
    own = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "templates").rglob("*.html"))
           if p.name != "errors.html" and ("govukErrorSummary" in p.read_text() or
                                           "macro error_summary" in p.read_text())]
    assert own == []
