"""The walk, as signals: which later package hears what an earlier one did. The app calls `wire` once, before it
is first used (app.py `_finish_setup`: not for `flask --help`).

An earlier package may not import a later one, so it sends a signal (defined in its `signals.py`) and this
module, which may import everything, connects each signal to its receivers, one line each, in the order of
the walk. Receivers are called in that order, inside the sender's transaction (modules/core/signals.py).
A signal is never asked for an answer: where an earlier package needs one, the callable is passed in here.
Wiring again (tests build many apps) connects nothing twice.
"""

from flask import Flask

from modules.access.versions import warn_before_lapse
from modules.assessments.authoring import publish_gate
from modules.assessments.receivers import load_quiz_banks
from modules.assessments.services import quiz_size_problems
from modules.assessments.versions import quiz_bank_check
from modules.attestation.signals import acknowledged, consent_declined, withdrawn
from modules.certificates.receivers import issue_on_acknowledgement
from modules.evidence.role_changes import ledger_role_change
from modules.lti.jobs import register_tasks as lti_tasks
from modules.lti.services import owe_scores
from modules.notifications.queue import add_tasks
from modules.notifications.receivers import send_password_notice, send_reset_link
from modules.operations.erasure import retention_step
from modules.people.signals import (
    password_changed,
    password_reset_requested,
    roles_changed,
    staff_imported,
    staff_invited,
    staff_left,
)
from modules.people.views import use_import_job
from modules.platform.services import use_draw_check
from modules.policies.signals import content_synced, version_published
from modules.policies.views import use_publish_gate, use_quiz_bank_check
from modules.tracking.background import start_import
from modules.tracking.jobs import use_daily_step
from modules.tracking.receivers import (
    assign_imported,
    close_leaver,
    complete_assignment,
    send_invitation,
    tell_hr_and_dpo_of_consent,
)
from modules.tracking.standing import staff_standing
from modules.tracking.versions import on_version_published
from modules.training.views import use_home_standing


def wire(app: Flask) -> None:
    """Connect every signal to its receivers in the order of the walk, and pass answers in where needed."""
    # `flask content sync` (which checks every trust's rules itself): load the quiz banks (may abort it).
    content_synced.connect(load_quiz_banks, weak=False)

    # A staff file of thousands of rows is applied by the worker (a job, with its progress page: an answer, the
    # job's id, so passed in).
    use_import_job(app, start_import)
    # People arrive and leave (staff import): training is assigned, new people invited. (`flask demo seed`, in
    # demo/, calls tracking's services itself: it sits above every package.)
    staff_imported.connect(assign_imported, weak=False)
    staff_invited.connect(send_invitation, weak=False)
    staff_left.connect(close_leaver, weak=False)
    # A person's roles change (staff import): the change is ledgered.
    roles_changed.connect(ledger_role_change, weak=False)

    # A person forgets or changes their password: the reset link, and a notice of the change, are emailed.
    password_reset_requested.connect(send_reset_link, weak=False)
    password_changed.connect(send_password_notice, weak=False)

    # A person acknowledges: the certificate is issued, then their assignment is complete.
    # (Access grants derive from the certificate; nothing is connected for them.)
    acknowledged.connect(issue_on_acknowledgement, weak=False)
    acknowledged.connect(complete_assignment, weak=False)
    # … and, if they were launched from an LMS (LTI), their score is owed to its line item (the worker sends it).
    acknowledged.connect(owe_scores, weak=False)
    add_tasks(app, lti_tasks)
    # A person declines or withdraws monitoring consent (its own decision): HR and the DPO are emailed.
    consent_declined.connect(tell_hr_and_dpo_of_consent, weak=False)
    withdrawn.connect(tell_hr_and_dpo_of_consent, weak=False)
    # attestation's declined and consent_given are sent for whoever needs them; nobody listens yet.

    # HR reviews a draft version: the page shows assessments' quiz bank check (an answer, so passed in).
    use_quiz_bank_check(app, quiz_bank_check)
    # … and publishes it only once its quiz covers every must / must-not clause and fills the draw (an answer).
    use_publish_gate(app, publish_gate)
    # The trust administrator sets the quiz's size only to what the published quiz can draw (an answer).
    use_draw_check(app, quiz_size_problems)
    # The staff home page shows where the person stands (deadlines, acknowledgement, certificate: later packages).
    use_home_standing(app, staff_standing)

    # HR publishes it: holders keep credit for unchanged modules and everyone is assigned the new version;
    # grantees whose access would lapse with the old version, and their approvers, are warned.
    version_published.connect(on_version_published, weak=False)
    version_published.connect(warn_before_lapse, weak=False)

    # Every day (`flask reminders run`, the worker): leavers past their trust's retention period are erased,
    # unless under a legal hold (an answer-free step of tracking's daily run, so passed in).
    use_daily_step(app, retention_step)
