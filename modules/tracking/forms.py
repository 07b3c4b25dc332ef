"""Forms for HR's actions on a person's training (and on a filtered list of people)."""

from datetime import datetime

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import DateField, RadioField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from modules.tracking.actions import REASON_MAX


class ClearDateField(DateField):
    """A GOV.UK day / month / year date whose error says what to type (never "Not a valid date value")."""

    def __init__(self, label: str, *, message: str, **kwargs):
        super().__init__(label, widget=GovDateInput(), format="%d %m %Y",
                         validators=[InputRequired(message)], **kwargs)
        self.clear_message = message

    def process_formdata(self, valuelist):
        """Parse "d m yyyy"; anything else is the field's own clear message."""
        # Exactly day, month and year, so a tampered form (a part missing or added) re-renders instead of failing.
        self.raw_data = [str(v)[:10] for v in (list(valuelist) + ["", "", ""])[:3]]
        if len(valuelist) > 3:
            self.data = None
            raise ValueError(self.clear_message)
        valuelist = self.raw_data
        if not " ".join(valuelist).strip():
            self.data = None
            return
        try:
            self.data = datetime.strptime(" ".join(valuelist).strip(), "%d %m %Y").date()
        except ValueError as exc:
            self.data = None
            raise ValueError(self.clear_message) from exc


def _reason(label: str, message: str, hint: str) -> TextAreaField:
    return TextAreaField(label, widget=GovTextArea(), description=hint, validators=[
        DataRequired(message), Length(max=REASON_MAX, message=f"The reason must be {REASON_MAX} characters or fewer")])


class ConfirmForm(FlaskForm):
    """A single button (send the reminder, send the invitation again, mark as a leaver)."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


class ExtendForm(FlaskForm):
    """A later deadline, with a reason."""

    due_on = ClearDateField("New deadline", message="Enter the new deadline as a real date, for example 27 3 2027",
                            description="For example, 27 3 2027")
    reason = _reason("Why is the deadline being extended?", "Enter the reason for the extension",
                     "This is recorded on their training history.")
    submit = SubmitField("Extend the deadline", widget=GovSubmitInput())


class ExemptForm(FlaskForm):
    """Exempt someone (or end their exemption), with a reason."""

    reason = _reason("Reason", "Enter the reason", "For example, long-term absence until the summer term. "
                     "This is recorded on their training history and shown in exports.")
    submit = SubmitField("Exempt", widget=GovSubmitInput())


BULK_ACTIONS = [("remind", "Send each of them a reminder now"), ("extend", "Extend their deadlines"),
                ("exempt", "Exempt them")]


class BulkForm(FlaskForm):
    """Choose one action for everyone in a filtered list; the next page asks for what it needs."""

    action = RadioField("What do you want to do?", widget=GovRadioInput(), choices=BULK_ACTIONS,
                        validators=[InputRequired("Choose what to do")])
    submit = SubmitField("Continue", widget=GovSubmitInput())
