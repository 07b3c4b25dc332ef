"""The DPO's forms: find a person, place or lift a legal hold, erase a leaver's personal data."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import BooleanField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from modules.core.inputs import SingleLine
from modules.operations.erasure import REASON_MAX


def _reason(label: str, hint: str) -> TextAreaField:
    return TextAreaField(label, widget=GovTextArea(), description=hint, validators=[
        DataRequired("Enter the reason"),
        Length(max=REASON_MAX, message=f"The reason must be {REASON_MAX} characters or fewer")])


class FindPersonForm(FlaskForm):
    """A person of the trust by email address (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    email = StringField("Email address", widget=GovTextInput(), validators=[
        DataRequired("Enter the person's email address"), SingleLine(),
        Length(max=254, message="Enter at most 254 characters")])
    submit = SubmitField("Find", widget=GovSubmitInput())


class HoldForm(FlaskForm):
    """Place (or lift) a legal hold, with a reason."""

    reason = _reason("Reason", "For example, the claim or investigation the records are needed for. It is "
                     "recorded, and shown whenever an erasure is refused.")
    submit = SubmitField("Place a legal hold", widget=GovSubmitInput())


class EraseForm(FlaskForm):
    """Erase a leaver's personal data: the lawful request, and an explicit confirmation."""

    reason = _reason("The request this answers", "For example, the date and reference of the person's erasure "
                     "request. It is recorded with the erasure.")
    confirm = BooleanField("I understand this cannot be undone", widget=GovCheckboxInput(),
                           validators=[DataRequired("Confirm that you understand this cannot be undone")])
    submit = SubmitField("Erase personal data", widget=GovSubmitInput())
