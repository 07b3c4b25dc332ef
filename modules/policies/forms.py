"""HR's policy-version forms: publish a draft, set the next review date, upload a policy and correct how it
was read."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovFileInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput

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
    to = IntegerField("Last line", widget=GovTextInput(), validators=[Optional()])
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


class _Checkboxes(SelectMultipleField):
    """Several options, shown as GOV.UK checkboxes."""

    widget = GovCheckboxesInput()
    option_widget = CheckboxInput()


class SeriesForm(FlaskForm):
    """A further policy of the trust (e.g. acceptable use) and who must complete it."""

    title = StringField("Title", description="As staff will see it, e.g. “Acceptable use policy”",
                        widget=GovTextInput(), validators=[SingleLine(), Length(max=300)])
    slug = StringField("Short name", description="Lower-case letters, digits and hyphens, used in links, e.g. "
                       "acceptable-use", widget=GovTextInput(), validators=[SingleLine(), Length(max=80)])
    roles = _Checkboxes("Roles that must complete it", description="Leave all unticked for every role",
                        choices=[], validate_choice=False)
    academies = _Checkboxes("Academies whose staff must complete it", description="Leave all unticked for every "
                            "academy and the central team", choices=[], validate_choice=False)
    submit = SubmitField("Add the policy", widget=GovSubmitInput())
