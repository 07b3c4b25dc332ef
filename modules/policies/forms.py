"""HR's policy-version forms: publish a draft, set the next review date, upload a policy and correct how it
was read."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovDateInput,
    GovFileInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, DateField, IntegerField, RadioField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from modules.core.inputs import SingleLine
from modules.policies.overlay import OPS


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


class UploadForm(FlaskForm):
    """The policy document to upload."""

    file = FileField("Policy document", widget=GovFileInput(),
                     validators=[FileRequired("Choose the policy file: a Word document, a PDF or a text file")])
    submit = SubmitField("Upload and check", widget=GovSubmitInput())


class CorrectionForm(FlaskForm):
    """One structure correction: which line, what is wrong with it, and (for some) a second value."""

    line = IntegerField("Line number", widget=GovTextInput(),
                        validators=[InputRequired("Enter the number of the line to correct")])
    op = RadioField("What is wrong with this line?", widget=GovRadioInput(), choices=list(OPS.items()),
                    validators=[InputRequired("Choose what is wrong with the line")])
    to = IntegerField("Last line of the contents list", widget=GovTextInput(), validators=[Optional()])
    ref = StringField("Number of the new clause", widget=GovTextInput(),
                      validators=[Optional(), SingleLine(), Length(max=20)])
    submit = SubmitField("Apply correction", widget=GovSubmitInput())


class SaveDraftForm(FlaskForm):
    """Save the checked upload as a draft version."""

    confirm = BooleanField("I have checked the sections and clauses against the document",
                           widget=GovCheckboxInput(),
                           validators=[DataRequired("Confirm that you have checked the sections and clauses")])
    submit = SubmitField("Save as a draft version", widget=GovSubmitInput())


class RemoveCorrectionForm(FlaskForm):
    """Remove one correction (the button carries only the CSRF token; the index is in the URL)."""

    submit = SubmitField("Remove", widget=GovSubmitInput())
