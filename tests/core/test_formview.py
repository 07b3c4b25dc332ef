"""The form-view helper: validate, call the service, commit once — or roll back and show the refusal."""

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired

from modules.core.extensions import db
from modules.core.formview import submit
from modules.people.models import Trust


class _Form(FlaskForm):
    class Meta:
        csrf = False

    name = StringField(validators=[DataRequired("Enter a name")])


class _Refused(ValueError):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.message, self.field = message, field


def _rename(slug: str, name: str, refuse: Exception | None = None):
    """A stand-in service: change the trust's name, flush, then maybe refuse."""
    trust = db.session.scalar(select(Trust).where(Trust.slug == slug))
    trust.name = name
    db.session.flush()
    if refuse:
        raise refuse
    return trust.id


def _name(slug: str) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Trust.name).where(Trust.slug == slug))


def test_valid_form_calls_the_service_and_commits(app):
    with app.test_request_context(method="POST", data={"name": "Renamed"}):
        form = _Form()
        outcome = submit(form, lambda: _rename("tkat", form.name.data), refusals=_Refused)
        assert outcome.done and outcome.result and outcome.refused is None
    db.session.rollback()  # a commit happened: nothing is left to roll back
    assert _name("tkat") == "Renamed"


def test_invalid_form_calls_nothing(app):
    calls = []
    with app.test_request_context(method="POST", data={}):
        form = _Form()
        outcome = submit(form, lambda: calls.append(1), refusals=_Refused)
    assert not outcome.done and outcome.refused is None and calls == []
    assert form.name.errors == ["Enter a name"]


@pytest.mark.parametrize("field,on_field,at_top", [("name", ["No"], []), (None, [], ["No"]), ("nope", [], ["No"])])
def test_a_refusal_rolls_back_and_shows_on_its_field_or_at_the_top(app, field, on_field, at_top):
    before = _name("tkat")
    with app.test_request_context(method="POST", data={"name": "Renamed"}):
        form = _Form()
        outcome = submit(form, lambda: _rename("tkat", "Renamed", _Refused("No", field)), refusals=_Refused)
    assert not outcome.done and isinstance(outcome.refused, _Refused)
    assert (form.name.errors, form.form_errors) == (on_field, at_top)
    assert _name("tkat") == before


def test_any_other_error_rolls_back_and_propagates(app):
    before = _name("tkat")
    with app.test_request_context(method="POST", data={"name": "Renamed"}), pytest.raises(KeyError):
        submit(_Form(), lambda: _rename("tkat", "Renamed", KeyError("race")), refusals=_Refused)
    assert _name("tkat") == before
