"""Forms: a new trust, an academy, a trust administrator's invitation, and the trust's rules."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput

from modules.core.inputs import SingleLine

#: Approval chain rows the rules page offers (a chain longer than this is kept as it is in trusts.yaml).
CHAIN_ROWS = 4


class TrustForm(FlaskForm):
    """A new trust: its slug (in addresses), full name and short name. The service checks every value."""

    name = StringField("Full name", description="For example, “North Downs Learning Trust”", widget=GovTextInput(),
                       validators=[SingleLine(), Length(max=400)])
    short_name = StringField("Short name", description="Used in the interface, for example “NDLT”",
                             widget=GovTextInput(), validators=[SingleLine(), Length(max=400)])
    slug = StringField("Slug", description="Lower-case letters, digits and hyphens, for example “north-downs”. "
                       "It cannot be changed later.", widget=GovTextInput(), validators=[SingleLine(), Length(max=400)])
    submit = SubmitField("Create trust", widget=GovSubmitInput())


class AcademyForm(FlaskForm):
    """A new academy of the trust."""

    name = StringField("Academy name", widget=GovTextInput(), validators=[SingleLine(), Length(max=400)])
    submit = SubmitField("Add academy", widget=GovSubmitInput())


class InviteAdminForm(FlaskForm):
    """The trust's first administrator: invited by email to set a password."""

    name = StringField("Full name", widget=GovTextInput(), validators=[SingleLine(), Length(max=400)])
    email = StringField("Email address", widget=GovTextInput(), validators=[SingleLine(), Length(max=400)])
    submit = SubmitField("Send invitation", widget=GovSubmitInput())


class MultiCheckboxField(SelectMultipleField):
    """Several options, shown as GOV.UK checkboxes."""

    widget = GovCheckboxesInput()
    option_widget = CheckboxInput()


def _number(label: str, hint: str = "") -> StringField:
    return StringField(label, description=hint, widget=GovTextInput(), validators=[SingleLine(), Length(max=20)])


def _clauses(label: str = "Clauses it comes from") -> StringField:
    return StringField(label, description="Clause numbers from the policy, separated by commas; leave empty for a "
                       "trust setting", widget=GovTextInput(), validators=[SingleLine(), Length(max=400)])


class RulesForm(FlaskForm):
    """The trust's rules the trust administrator edits; TrustRules (modules/people/rules.py) checks every value."""

    monitoring_kind = RadioField("What the policy says about monitoring staff", widget=GovRadioInput(), choices=[
        ("none", "Nothing: the policy states no monitoring"),
        ("notice", "A notice: staff acknowledge that they may be monitored"),
        ("consent", "Consent: staff are asked to consent, as a decision of its own")], validate_choice=False)
    monitoring_clauses = MultiCheckboxField("The clauses that state it", choices=[], validate_choice=False)
    pass_mark = _number("Pass mark (per cent)")
    pass_mark_clauses = _clauses()
    quiz_questions = _number("Questions in each quiz attempt", "Drawn from the reviewed questions; every module "
                             "with reviewed questions is asked about, so at least one per such module")
    quiz_questions_clauses = _clauses()
    certificate_validity_months = _number("Certificates are valid for (months)")
    certificate_validity_months_clauses = _clauses()
    reminders = RadioField("Training reminder emails", widget=GovRadioInput(), validate_choice=False,
                           choices=[("yes", "On"), ("no", "Off")])
    reminder_days_before = _number("“Due soon” email, days before the due date")
    reminder_repeat_days = _number("While overdue, remind every (days)")
    minimum_administrators = _number("Fewest approved administrators per official account")
    minimum_administrators_clauses = _clauses()
    minimum_moderators = _number("Fewest approved moderators per official account")
    minimum_moderators_clauses = _clauses()
    register_policy = SelectField("The policy whose certificate is needed for the authorised-user register",
                                  widget=GovSelect(), choices=[], validate_choice=False)
    submit = SubmitField("Save rules", widget=GovSubmitInput())


for _i in range(CHAIN_ROWS):
    setattr(RulesForm, f"step{_i}_approver", SelectField(f"Step {_i + 1}: who approves", widget=GovSelect(),
                                                         choices=[], validate_choice=False))
    setattr(RulesForm, f"step{_i}_central_role", SelectField(
        f"Step {_i + 1}: for the central team's accounts", widget=GovSelect(), choices=[], validate_choice=False))
    setattr(RulesForm, f"step{_i}_label", StringField(f"Step {_i + 1}: name shown to staff", widget=GovTextInput(),
                                                      validators=[SingleLine(), Length(max=400)]))
    setattr(RulesForm, f"step{_i}_clauses", _clauses(f"Step {_i + 1}: clauses it comes from"))
