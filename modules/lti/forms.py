"""Forms: registering a platform, syncing a course roster, and the deep-linking choice."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import URL, DataRequired, Length, Optional, Regexp

from modules.core.inputs import SingleLine


def _url(label: str, hint: str):
    return StringField(label, description=hint, widget=GovTextInput(),
                       validators=[DataRequired(f"Enter the {label[0].lower() + label[1:]}"), SingleLine(),
                                   Length(max=400), URL(require_tld=False,
                                                        message=f"Enter the {label[0].lower() + label[1:]} as a full "
                                                                "web address, starting https://")])


class PlatformForm(FlaskForm):
    """The values the LMS shows once PolicyPass is added to it as an external tool."""

    name = StringField("Name", description="For you, e.g. “Moodle (staff CPD)”", widget=GovTextInput(),
                       validators=[Optional(), SingleLine(), Length(max=200)])
    issuer = _url("Platform ID (issuer)", "In Moodle: Site administration → External tool → Manage tools → "
                  "View configuration details: “Platform ID”")
    client_id = StringField("Client ID", widget=GovTextInput(),
                            validators=[DataRequired("Enter the client ID"), SingleLine(), Length(max=200)])
    deployment_ids = TextAreaField("Deployment IDs", description="One per line", widget=GovTextArea(),
                                   validators=[DataRequired("Enter at least one deployment ID"), Length(max=2000)])
    key_set_url = _url("Public keyset URL", "Moodle: “Public keyset URL”")
    auth_login_url = _url("Authentication request URL", "Moodle: “Authentication request URL”")
    auth_token_url = _url("Access token URL", "Moodle: “Access token URL”")
    academy = SelectField("Academy of people first seen through it", widget=GovSelect(), choices=[],
                          validate_choice=True)
    submit = SubmitField("Register platform", widget=GovSubmitInput())


class RosterApplyForm(FlaskForm):
    """Apply a previewed roster: what the preview showed."""

    fingerprint = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
    submit = SubmitField("Add these people", widget=GovSubmitInput())


class DeepLinkForm(FlaskForm):
    """What to add to the course (the launch it answers is carried in a signed token, not the session)."""

    class Meta:
        csrf = False  # framed in the LMS, maybe without cookies: the signed, short-lived `launch` token guards it

    launch = HiddenField(validators=[DataRequired(), Length(max=4000)])
    item = RadioField("What to add to the course", widget=GovRadioInput(), choices=[],
                      validators=[DataRequired("Choose what to add to the course")])
    submit = SubmitField("Add to course", widget=GovSubmitInput())
