"""Forms for revoking a certificate and for the public verification page."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from modules.certificates.services import REASON_MAX
from modules.core.inputs import SingleLine


class RevokeForm(FlaskForm):
    """HR's reason for revoking a certificate."""

    reason = TextAreaField(
        "Why are you revoking this certificate?", widget=GovTextArea(),
        description="The holder's certificate will show as revoked to anyone who checks it. The reason is kept "
                    "with the holder's personal data and is not shown on the public check page.",
        validators=[DataRequired("Enter the reason for revoking the certificate"),
                    Length(max=REASON_MAX, message=f"The reason must be {REASON_MAX} characters or fewer")])
    submit = SubmitField("Revoke certificate", widget=GovSubmitInput())


class UploadCheckForm(FlaskForm):
    """A PDF to compare, byte for byte, with the certificate issued under a code."""

    pdf = FileField("Upload the certificate PDF", widget=GovFileInput(),
                    description="We compare it with the file we issued. It is not stored.",
                    validators=[FileRequired("Select the certificate PDF file")])
    submit = SubmitField("Check the file", widget=GovSubmitInput())


class CodeForm(FlaskForm):
    """A verification code typed from a printed certificate (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    code = StringField("Verification code", widget=GovTextInput(),
                       description="32 letters and numbers, printed under the QR code, for example "
                                   "7K3M-9QXA-…. Hyphens and spaces do not matter.",
                       validators=[DataRequired("Enter the verification code"), SingleLine(), Length(max=80)])
    submit = SubmitField("Check certificate", widget=GovSubmitInput())
