"""Sign-in, staff import and set-password forms."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovPasswordInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp


class SignInForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email address", widget=GovTextInput(),
                       validators=[DataRequired("Enter your email address"), Length(max=254)])
    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[DataRequired("Enter your password"), Length(max=200)])
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class ReauthenticateForm(FlaskForm):
    """The password again, before signing something."""

    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[DataRequired("Enter your password"), Length(max=200)])
    submit = SubmitField("Continue", widget=GovSubmitInput())


# ---- staff import and the set-password link -----------------------------------------------------------


class StaffImportForm(FlaskForm):
    """A CSV of staff, and whether it is the full list (so absentees are leavers)."""

    file = FileField("Staff list (CSV file)", widget=GovFileInput(),
                     validators=[FileRequired("Choose a CSV file of your staff")])
    full = BooleanField("This is the full staff list: people not in it have left", widget=GovCheckboxInput())
    submit = SubmitField("Check the file", widget=GovSubmitInput())


class StaffImportApplyForm(FlaskForm):
    """Apply a previewed import: which upload, what the preview showed, and the leavers confirmation."""

    upload = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$")])
    fingerprint = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
    full = HiddenField()
    confirm_leavers = BooleanField("Yes, mark the people listed above as leavers", widget=GovCheckboxInput())
    submit = SubmitField("Import staff", widget=GovSubmitInput())


class SetPasswordForm(FlaskForm):
    """A new person chooses their password from their invitation link."""

    password = PasswordField("Choose a password", widget=GovPasswordInput(),
                             validators=[DataRequired("Choose a password"),
                                         Length(min=10, max=200, message="Use 10 to 200 characters")])
    confirm = PasswordField("Type the password again", widget=GovPasswordInput(),
                            validators=[DataRequired("Type the password again"),
                                        EqualTo("password", "The passwords do not match")])
    submit = SubmitField("Set password", widget=GovSubmitInput())
