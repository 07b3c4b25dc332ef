"""HR's policy-version forms: publish a draft, set the next review date."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovDateInput, GovSubmitInput
from wtforms import BooleanField, DateField, SubmitField
from wtforms.validators import DataRequired, InputRequired


class GovDateField(DateField):
    """A day / month / year date with a message a person can act on when it is not a real date."""

    def __init__(self, label, *, invalid: str, **kwargs):
        super().__init__(label, widget=GovDateInput(), format="%d %m %Y",
                         validators=[InputRequired(invalid)], **kwargs)
        self.invalid = invalid

    def process_formdata(self, valuelist):
        """Parse the three boxes; anything else (a missing box, words) gets the field's own message."""
        if valuelist and (len(valuelist) != 3 or not all(v.strip().isdigit() for v in valuelist)):
            self.data = None
            raise ValueError(self.invalid)
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(self.invalid) from exc


class PublishForm(FlaskForm):
    """Publish a draft: confirm the review, and the date it applies from."""

    confirm = BooleanField("I have reviewed the changes and want to publish this version",
                           widget=GovCheckboxInput(),
                           validators=[DataRequired("Confirm that you have reviewed the changes")])
    effective_on = GovDateField("Effective from", invalid="Enter the effective date as a real date, "
                                                          "for example 1 12 2026")
    submit = SubmitField("Publish this version", widget=GovSubmitInput())


class ReviewDateForm(FlaskForm):
    """Set when the policy is next reviewed."""

    next_review_on = GovDateField("Next review date", invalid="Enter the next review date as a real date, "
                                                              "for example 31 12 2027")
    submit = SubmitField("Save review date", widget=GovSubmitInput())
