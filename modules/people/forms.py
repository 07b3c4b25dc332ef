"""Sign-in forms."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length


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
