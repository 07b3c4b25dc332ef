"""The quiz form: one GOV.UK radios or checkboxes field per drawn question, built for the attempt."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput
from wtforms import RadioField, SelectChoice, SelectMultipleField
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput

from modules.assessments import types
from modules.assessments.models import QuizAttempt
from modules.assessments.services import field_name


class MultiCheckboxField(SelectMultipleField):
    """Several options, shown as GOV.UK checkboxes."""

    widget = GovCheckboxesInput()
    option_widget = CheckboxInput()


class StartQuizForm(FlaskForm):
    """A button with a CSRF token; it has no other fields."""


def quiz_form(attempt: QuizAttempt) -> FlaskForm:
    """A form whose fields are the attempt's questions, options in the attempt's shuffled order, filled in with
    the answers saved so far (a draft) when nothing is posted."""

    class QuizForm(FlaskForm):
        pass

    saved = {}

    for item in attempt.items:
        question = item.question
        texts = {o["id"]: o["text"] for o in question.options}
        choices = [SelectChoice(option_id, texts[option_id]) for option_id in item.option_order]
        if types.get(question.type).many:
            field = MultiCheckboxField(question.stem, choices=choices, validators=[
                InputRequired(f"Select at least one answer to question {item.position}")])
        else:
            field = RadioField(question.stem, choices=choices, widget=GovRadioInput(), validators=[
                InputRequired(f"Select an answer to question {item.position}")])
        setattr(QuizForm, field_name(item), field)
        if item.chosen:
            saved[field_name(item)] = list(item.chosen) if types.get(question.type).many else item.chosen[0]
    return QuizForm(data=saved)
