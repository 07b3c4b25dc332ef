"""Acknowledgement, consent and paper-form forms. Statement tick boxes are added per trust at runtime."""

import secrets

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from modules.core.inputs import SingleLine

#: An idempotency key as new_idempotency_key makes it.
KEY_PATTERN = r"^[A-Za-z0-9_-]{32,64}$"


def new_idempotency_key() -> str:
    """A random key put in a form when it is shown; the record made from it is unique per key."""
    return secrets.token_urlsafe(32)


class _Keyed(FlaskForm):
    idempotency_key = HiddenField(validators=[DataRequired(), Regexp(KEY_PATTERN)])


class _Signed(_Keyed):
    shown_digest = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
    full_name = StringField("Type your full name to sign", widget=GovTextInput(),
                            validators=[Optional(), SingleLine(), Length(max=200)])


class AcknowledgeForm(_Signed):
    """The acknowledgement page: one tick box per statement, the typed name, and acknowledge or decline."""

    acknowledge = SubmitField("Acknowledge and sign", widget=GovSubmitInput())
    decline = SubmitField("I do not agree", widget=GovSubmitInput())


class DeclineForm(_Keyed):
    """The confirmation page for "I do not agree": one button records the decline."""

    submit = SubmitField("Yes, record that I do not agree", widget=GovSubmitInput())


class RecordForm(_Signed):
    """HR records an acknowledgement from a signed paper form."""

    person = SelectField("Person who signed the paper form", coerce=int, widget=GovSelect(),
                         validate_choice=True, validators=[DataRequired("Choose the person")])
    note = TextAreaField("Note about the paper form", widget=GovTextArea(),
                         validators=[DataRequired("Enter a note about the paper form"), Length(max=2000)])
    submit = SubmitField("Record acknowledgement", widget=GovSubmitInput())


#: The two answers to the consent question (a separate decision from acknowledging the policy).
CONSENT_CHOICES = [("yes", "Yes, I consent to this monitoring"), ("no", "No, I do not consent")]
#: The same question on HR's paper-form page: what the person chose on the form.
PAPER_CONSENT_CHOICES = [("yes", "They gave consent on the form"),
                         ("no", "They did not give consent (recorded as consent declined)")]


def consent_choice(value: str | None) -> bool | None:
    """The consent radio's answer as True (yes), False (no) or None (not answered)."""
    return {"yes": True, "no": False}.get(value or "")


class WithdrawConsentForm(_Keyed):
    """The confirmation page: an optional reason, then withdraw monitoring consent."""

    reason = TextAreaField("Why are you withdrawing consent? (optional)", widget=GovCharacterCount(),
                           validators=[Optional(), Length(max=1000, message="Keep the reason to 1000 characters "
                                                                                    "or fewer")])
    submit = SubmitField("Yes, withdraw my consent", widget=GovSubmitInput())


class GiveConsentForm(_Keyed):
    """Give monitoring consent again: one tick box and the typed name, as the first time."""

    shown_digest = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
    consent = BooleanField("I consent")
    full_name = StringField("Type your full name to sign", widget=GovTextInput(),
                            validators=[Optional(), SingleLine(), Length(max=200)])
    submit = SubmitField("Give my consent", widget=GovSubmitInput())


def statement_field(key: str) -> str:
    """The form field name of a statement's tick box."""
    return f"statement_{key}"


def with_statements(form_class, statements, *, consent_question: bool = False, paper: bool = False):
    """A subclass of the form with one unticked BooleanField per acknowledged statement (never the consent
    statement), and, when asked for, the consent question: two radios, neither chosen."""
    fields = {statement_field(s.key): BooleanField(s.sentence, default=False) for s in statements
              if not s.is_consent}
    if consent_question:
        label = ("On the paper form, did the person consent to monitoring?" if paper
                 else "Do you consent to the monitoring described above?")
        fields["consent"] = RadioField(label, widget=GovRadioInput(), validate_choice=False,
                                       choices=PAPER_CONSENT_CHOICES if paper else CONSENT_CHOICES)
    return type(form_class.__name__, (form_class,), fields)
