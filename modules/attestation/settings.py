"""The trust settings page's rows: every rule that shapes what staff, HR and line managers see, read from the
trust's one typed rules object (`trust.rules`), each with the clause that states it or labelled a trust setting.
Read-only: nothing here changes a rule."""

from dataclasses import dataclass
from datetime import date

from modules.core.capabilities import CAPABILITIES
from modules.people.rules import TrustRules


@dataclass(frozen=True)
class SettingRow:
    """One rule as the page shows it: what it is, its value in words, and the clauses that state it (none: a
    trust setting)."""

    key: str
    label: str
    value: str
    clauses: tuple[str, ...]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _refresh(rules: TrustRules) -> str:
    refresh = rules.refresh
    if refresh.mode == "window":
        month = date(2000, refresh.month, 1).strftime("%B")
        return (f"Every year from {refresh.day} {month}, due {_plural(refresh.days, 'day')} later, for everyone "
                f"who completed at least {_plural(refresh.min_months, 'month')} before")
    return (f"{_plural(refresh.months, 'month')} after each person's last completion, assigned "
            f"{_plural(refresh.open_days, 'day')} before it is due")


def _escalation(rules: TrustRules, role_labels: dict[str, str]) -> str:
    if not rules.escalation:
        return "None"
    steps = []
    for step in rules.escalation:
        who = "the line manager" if step.relation else f"the {role_labels.get(step.role, step.role)}"
        if step.central_role:
            who += f" (the {role_labels.get(step.central_role, step.central_role)} for the central team)"
        steps.append(f"{who} after {_plural(step.after_days, 'day')} overdue")
    text = "; then ".join(steps)
    return text[0].upper() + text[1:]


def setting_groups(rules: TrustRules, role_labels: dict[str, str]) -> list[tuple[str, list[SettingRow]]]:
    """The rules by group, each row with its value in words and its source (clauses, or none: a trust setting)."""

    def row(key: str, label: str, value: str) -> SettingRow:
        return SettingRow(key, label, value, tuple(rules.source(key)))

    contact = rules.hr_contact
    signatory = rules.certificate_signatory
    return [
        ("Certificates", [
            row("certificate_validity_months", "A certificate is valid for",
                _plural(rules.certificate_validity_months, "month")),
            row("supersede_grace_days", "Old certificates stay valid after a new version takes effect for",
                _plural(rules.supersede_grace_days, "day")),
            row("certificate_signatory", "Certificate signatory",
                f"{signatory.name}, {signatory.role}" if signatory else "None: certificates carry no signatory"),
            row("logo", "Logo on certificates", rules.logo or "None: the trust's name only"),
            row("register_policy", "The policy whose certificate is needed for the authorised-user register",
                rules.register_policy or "The trust's first policy"),
        ]),
        ("Training deadlines", [
            row("induction_days", "Induction training is due", f"{_plural(rules.induction_days, 'day')} after "
                "the start date"),
            row("new_version_days", "Training on a new version is due",
                f"{_plural(rules.new_version_due_days, 'day')} after it takes effect"),
            row("refresh", "Annual refresh", _refresh(rules)),
        ]),
        ("Reminders and escalation", [
            row("reminders", "Reminder emails", "On" if rules.reminders else "Off: no reminder or escalation "
                "emails are sent"),
            row("reminder_days_before", "A “due soon” reminder is sent",
                f"{_plural(rules.reminder_days_before, 'day')} before the due date"),
            row("reminder_repeat_days", "While training is overdue, a reminder is sent",
                f"every {_plural(rules.reminder_repeat_days, 'day')}, copied to the line manager"),
            row("escalation", "Overdue training is escalated to", _escalation(rules, role_labels)),
        ]),
        ("Help and personal data", [
            row("hr_contact", "Staff are told to contact",
                contact.name + (f" ({contact.email})" if contact.email else " (through the help page)")),
            row("retention_months_after_leaving", "A leaver's personal data is erased",
                f"{_plural(rules.retention_months_after_leaving, 'month')} after the day they left, unless a "
                "legal hold is in place"),
        ]),
        ("Signing in and the quiz", [
            row("mfa_required_capabilities", "Two-step verification is required of people who can",
                "; ".join(CAPABILITIES.get(c, c) for c in rules.mfa_required_capabilities) or "Nobody"),
            row("session_idle_minutes", "A session ends after",
                f"{_plural(rules.session_idle_minutes, 'minute')} without use "
                f"({rules.session_idle_minutes_staff_manage} for people who manage staff)"),
            row("sign_in_lockout_attempts", "An account is locked after",
                f"{_plural(rules.sign_in_lockout_attempts, 'refused sign-in')} within "
                f"{_plural(rules.sign_in_lockout_minutes, 'minute')}"),
            row("quiz_questions", "Quiz questions in each attempt", str(rules.quiz_questions)),
            row("pass_mark", "Pass mark", f"{rules.pass_mark}%"),
        ]),
    ]
