"""Forms for accounts, requests, decisions, removals and "training discussed". None has a password field.

Choices (platforms, academies, accounts) are filled per trust by the view; the trust's own request-form
questions (e.g. TSAT Appendix 2) are added at runtime by `with_questions`.
"""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from modules.access.rules import ACCOUNT_ROLES
from modules.access.services import HANDLE_MAX, REVOCATION_REASONS, TEXT_MAX
from modules.core.inputs import SingleLine
from modules.people.rules import RequestForm

#: Value of the owner choice meaning the trust's central team.
CENTRAL = "central"
KEY_PATTERN = r"^[A-Za-z0-9_-]{32,64}$"
ROLE_CHOICES = list(ACCOUNT_ROLES.items())


def _text(label: str, message: str, limit: int = TEXT_MAX, **kwargs):
    return TextAreaField(label, widget=GovTextArea(), validators=[
        DataRequired(message), Length(max=limit, message=f"Must be {limit} characters or fewer")], **kwargs)


class _AccountFields(FlaskForm):
    platform = SelectField("Platform", widget=GovSelect(), validators=[DataRequired("Choose a platform")])
    handle = StringField("Handle or web address", widget=GovTextInput(),
                         description="For example @NorthParkAcad or https://northpark.example.sch.uk/blog",
                         validators=[DataRequired("Enter the handle or web address"), SingleLine(),
                                     Length(max=HANDLE_MAX, message=f"Must be {HANDLE_MAX} characters or fewer")])
    owner = SelectField("Owner", widget=GovSelect(), description="The academy that runs it, or the central team.",
                        validators=[DataRequired("Choose who owns the account")])
    purpose = _text("What is the account for?", "Enter what the account is for")


class AccountForm(_AccountFields):
    """Someone keeping the register records an official account."""

    status = RadioField("Status", widget=GovRadioInput(), choices=[("proposed", "Proposed"), ("active", "Active")],
                        default="active", validators=[InputRequired("Choose a status")])
    submit = SubmitField("Add account", widget=GovSubmitInput())


class NewAccountRequestForm(_AccountFields):
    """Ask to set up a new account or site (the trust's own questions are added by with_questions)."""

    role = RadioField("Your role on the account", widget=GovRadioInput(), choices=ROLE_CHOICES,
                      default="administrator", validators=[InputRequired("Choose your role on the account")])
    reason = _text("Why do you need this account?", "Enter why you need this account")
    submit = SubmitField("Send request", widget=GovSubmitInput())


class JoinRequestForm(FlaskForm):
    """Ask to become an administrator, moderator or publisher of an existing account."""

    account = SelectField("Account", coerce=int, widget=GovSelect(), validators=[DataRequired("Choose an account")])
    role = RadioField("Role", widget=GovRadioInput(), choices=ROLE_CHOICES,
                      validators=[InputRequired("Choose the role you need")])
    reason = _text("Why do you need access?", "Enter why you need access")
    submit = SubmitField("Send request", widget=GovSubmitInput())


class DecisionForm(FlaskForm):
    """Approve or refuse the step waiting on the approver. The step posted must be the one waiting."""

    step = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,3}$")])
    comment = TextAreaField("Comment", widget=GovTextArea(),
                            description="Needed when you refuse. The requester sees it.",
                            validators=[Optional(), Length(max=TEXT_MAX, message=f"Must be {TEXT_MAX} characters or fewer")])
    approve = SubmitField("Approve", widget=GovSubmitInput())
    refuse = SubmitField("Refuse", widget=GovSubmitInput())


class TrainingDiscussedForm(FlaskForm):
    """Record that training was discussed (attributed to the line manager), with an optional note."""

    idempotency_key = HiddenField(validators=[DataRequired(), Regexp(KEY_PATTERN)])
    request_id = HiddenField(validators=[Optional(), Regexp(r"^\d{1,12}$")])
    note = TextAreaField("Note (optional)", widget=GovTextArea(),
                         description="For example, what you agreed. It is shown with the record on your team page and on their requests.",
                         validators=[Optional(), Length(max=TEXT_MAX, message=f"The note must be {TEXT_MAX} characters or fewer")])
    submit = SubmitField("Record training discussed", widget=GovSubmitInput())


class RevokeGrantForm(FlaskForm):
    """Remove someone's access, with one of the fixed reasons."""

    reason = RadioField("Why are you removing access?", widget=GovRadioInput(),
                        choices=list(REVOCATION_REASONS.items()), validators=[InputRequired("Choose a reason")])
    #: Shown (and needed) only when removing this access takes the account below the trust's minimum.
    accept_shortfall = BooleanField("I understand that the account will be below its minimum", widget=GovCheckboxInput())
    submit = SubmitField("Remove access", widget=GovSubmitInput())


class AccountStatusForm(FlaskForm):
    """Change an account's status."""

    status = RadioField("Status", widget=GovRadioInput(),
                        choices=[("proposed", "Proposed"), ("active", "Active"), ("closed", "Closed")],
                        validators=[InputRequired("Choose a status")])
    submit = SubmitField("Change status", widget=GovSubmitInput())


class WithdrawForm(FlaskForm):
    """The confirmation page's one button: withdraw one's own pending request."""

    submit = SubmitField("Yes, withdraw my request", widget=GovSubmitInput())


def question_field(key: str) -> str:
    """The form field name of a request-form question."""
    return f"q_{key}"


class QuestionDateField(DateField):
    """A request-form date: day, month and year boxes; anything that is not a real date gets a clear message
    naming the question (never WTForms' "Not a valid date value.")."""

    def __init__(self, label: str, **kwargs):
        super().__init__(label, widget=GovDateInput(), format="%d %m %Y", **kwargs)
        self.invalid = f"Enter “{label}” as a real date, for example 1 9 2027"

    def process_formdata(self, valuelist):
        """Empty boxes mean no date; three numbers must make a real date, else the clear message."""
        if not valuelist or not any(str(v).strip() for v in valuelist):
            self.data, self.raw_data = None, [*(valuelist or []), "", "", ""][:3]
            return
        parts = [str(v).strip() for v in valuelist]
        if len(parts) != 3 or not all(p.isdigit() and len(p) <= 4 for p in parts):
            self.data, self.raw_data = None, [*parts, "", "", ""][:3]
            raise ValueError(self.invalid)
        try:
            super().process_formdata([" ".join(parts)])
        except ValueError as exc:
            raise ValueError(self.invalid) from exc


def with_questions(form_class, spec: RequestForm | None):
    """A subclass of the form with one field per question of the trust's request form."""
    if spec is None:
        return form_class
    fields = {}
    for item in spec.fields:
        description = item.hint or ""
        optional = [] if item.required else [Optional()]
        if item.type == "choices":
            fields[question_field(item.key)] = SelectMultipleField(
                item.label, widget=GovCheckboxesInput(), choices=[(c, c) for c in item.choices],
                description=description or "Select all that apply.", validate_choice=False)
        elif item.type == "date":
            fields[question_field(item.key)] = QuestionDateField(
                item.label, description=description or "For example, 1 9 2027",
                validators=optional or [InputRequired(f"Enter “{item.label}” as a real date")])
        elif item.type == "text":
            fields[question_field(item.key)] = StringField(
                item.label, widget=GovTextInput(), description=description,
                validators=[*optional, SingleLine(), Length(max=TEXT_MAX)])
        else:
            fields[question_field(item.key)] = TextAreaField(
                item.label, widget=GovTextArea(), description=description,
                validators=[*optional, Length(max=TEXT_MAX)])
    return type(form_class.__name__, (form_class,), fields)
