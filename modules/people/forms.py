"""Sign-in, staff import and set-password forms."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovFileInput,
    GovPasswordInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from modules.core.inputs import SingleLine


class SignInForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email address", widget=GovTextInput(),
                       validators=[DataRequired("Enter your email address"), SingleLine(), Length(max=254)])
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


#: Said wherever a new password is chosen.
NEW_PASSWORD_HINT = ("At least 10 characters. Common passwords, and ones made from your name or email address, "
                     "are refused. Three or four unrelated words make a good password.")


def _new_password(label: str = "Choose a password") -> PasswordField:
    return PasswordField(label, widget=GovPasswordInput(), description=NEW_PASSWORD_HINT,
                         validators=[DataRequired("Choose a password"),
                                     Length(min=10, max=200, message="Use 10 to 200 characters")])


class SetPasswordForm(FlaskForm):
    """A new person chooses their password from their invitation link."""

    password = _new_password()
    confirm = PasswordField("Type the password again", widget=GovPasswordInput(),
                            validators=[DataRequired("Type the password again"),
                                        EqualTo("password", "The passwords do not match")])
    submit = SubmitField("Set password", widget=GovSubmitInput())


# ---- forgotten, reset and changed passwords ------------------------------------------------------------


class ForgotPasswordForm(FlaskForm):
    """The email address to send a reset link to."""

    email = EmailField("Email address", widget=GovTextInput(),
                       validators=[DataRequired("Enter your email address"), SingleLine(), Length(max=254)])
    submit = SubmitField("Send me a link", widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):
    """A new password from a reset link."""

    password = _new_password("New password")
    confirm = PasswordField("Type the new password again", widget=GovPasswordInput(),
                            validators=[DataRequired("Type the new password again"),
                                        EqualTo("password", "The passwords do not match")])
    submit = SubmitField("Reset password", widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    """The current password, and the new one twice."""

    current = PasswordField("Current password", widget=GovPasswordInput(),
                            validators=[DataRequired("Enter your current password"), Length(max=200)])
    password = _new_password("New password")
    confirm = PasswordField("Type the new password again", widget=GovPasswordInput(),
                            validators=[DataRequired("Type the new password again"),
                                        EqualTo("password", "The passwords do not match")])
    submit = SubmitField("Change password", widget=GovSubmitInput())


# ---- two-step verification -----------------------------------------------------------------------------


class TwoStepCodeForm(FlaskForm):
    """A code from the authenticator app (or, at sign-in, a recovery code)."""

    code = StringField("Code", widget=GovTextInput(),
                       validators=[DataRequired("Enter the code"), SingleLine(), Length(max=20, message="Enter the code")])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class TwoStepSetUpForm(FlaskForm):
    """The first code from a newly set-up authenticator app."""

    code = StringField("Code from the app", widget=GovTextInput(), description="The 6-digit code it shows now",
                       validators=[DataRequired("Enter the 6-digit code from your authenticator app"), SingleLine(),
                                   Length(max=20, message="Enter the 6-digit code from your authenticator app")])
    submit = SubmitField("Turn on two-step verification", widget=GovSubmitInput())


class TwoStepOffForm(FlaskForm):
    """The password, to turn two-step verification off."""

    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[DataRequired("Enter your password"), Length(max=200)])
    submit = SubmitField("Turn off two-step verification", widget=GovSubmitInput())


class RecoveryCodesForm(FlaskForm):
    """A button: replace the recovery codes."""

    submit = SubmitField("Get new recovery codes", widget=GovSubmitInput())


# ---- the security event log ----------------------------------------------------------------------------


class OptionalDateField(DateField):
    """A day / month / year date that may be left empty; a half-filled or impossible one gets a clear message."""

    def __init__(self, label, *, invalid: str, **kwargs):
        super().__init__(label, widget=GovDateInput(), format="%d %m %Y", validators=[Optional()], **kwargs)
        self.invalid = invalid

    def process_formdata(self, valuelist):
        """Empty boxes mean no date; anything but three numbers that make a real date is refused."""
        if not valuelist or not any(v.strip() for v in valuelist):
            self.data, self.raw_data = None, None
            return
        if len(valuelist) != 3:
            self.data, self.raw_data = None, [*valuelist, "", "", ""][:3]  # the widget shows exactly three boxes
            raise ValueError(self.invalid)
        if not all(v.strip().isdigit() and len(v.strip()) <= 4 for v in valuelist):
            self.data = None
            raise ValueError(self.invalid)
        try:
            super().process_formdata([" ".join(v.strip() for v in valuelist)])
        except ValueError as exc:
            raise ValueError(self.invalid) from exc


class SecurityEventFilterForm(FlaskForm):
    """Filters for the security event log (a GET form: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    kind = SelectField("What happened", widget=GovSelect(), validators=[Optional()], validate_choice=True)
    outcome = SelectField("Outcome", widget=GovSelect(), validators=[Optional()], validate_choice=True,
                          choices=[("", "Any"), ("success", "Succeeded"), ("failure", "Failed or refused")])
    person = StringField("Person (name or email address)", widget=GovTextInput(),
                         validators=[Optional(), SingleLine(), Length(max=254, message="Enter at most 254 characters")])
    since = OptionalDateField("From", invalid="Enter the start date as a real date, for example 1 11 2026")
    until = OptionalDateField("To", invalid="Enter the end date as a real date, for example 30 11 2026")
    submit = SubmitField("Filter", widget=GovSubmitInput())


class RolesForm(FlaskForm):
    """The roles a person holds (choices are the trust's roles, set by the view)."""

    roles = SelectMultipleField("Roles", widget=GovCheckboxesInput(), validate_choice=True,
                                description="Academy roles are held at the person's own academy.")
    submit = SubmitField("Save roles", widget=GovSubmitInput())
