"""URL × role × trust: who may reach each route, and that what they see is their own trust's data.

Every route in the app must appear in MATRIX; a new route without an entry fails test_every_route_listed.
Each entry names, per person, the expected status; routes that take an id are also requested with an id
from another trust (expect 404, and nothing changes).
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from modules.core.extensions import db
from tests.conftest import demo_email
from tests.helpers import sign_in

OWN, OTHER = "tkat", "e-act"

#: The people each route is tried as: anonymous, then demo people of the OWN trust by role.
PEOPLE = ["anonymous", "staff", "manager", "head", "hr", "comms", "dpo", "ceo", "admin"]


class Ids:
    """Looks up ids of real rows in a trust, for building URLs."""

    def __init__(self, slug: str):
        self.slug = slug

    def trust(self):
        from modules.people.models import Trust

        return db.session.scalar(select(Trust).where(Trust.slug == self.slug))

    def section(self, position: int = 1) -> int:
        from modules.training.queries import current_version

        return current_version(self.trust().id).sections[position - 1].id

    def user(self, local: str = "staff") -> int:
        from modules.people.models import User

        return db.session.scalar(select(User.id).where(User.email == demo_email(local, self.slug)))


@dataclass
class Route:
    """How to request a route and what each person should get."""

    method: str
    path: Callable[[Ids], str]
    expect: dict[str, int]                 # person → status; people not listed get `default`
    default: int = 200
    takes_id: bool = False                 # also request with another trust's id: expect 404
    data: dict | None = None               # form data for POST (a CSRF token is added)
    contains: Callable[[Ids], str] | None = None   # text a 200 page must show (the own trust's data)
    public: bool = False


SIGNED_OUT = {"anonymous": 302}

#: Who sees the tracking dashboards in the demo data (see modules/tracking/scope.py).
TRACKING_VIEWERS = {"manager": 200, "head": 200, "hr": 200, "ceo": 200, "admin": 200}
#: Who may download evidence packs in the demo data (evidence:export).
EVIDENCE_EXPORTERS = {"hr": 200, "dpo": 200, "admin": 200}
#: Who may import staff in the demo data (staff:manage).
STAFF_MANAGERS = {"hr": 200, "admin": 200}


def _attempt(ids: Ids) -> int:
    """A finished quiz attempt of the trust's demo staff member (someone else's, for everyone else)."""
    from tests.assessments.factories import finished_attempt_id

    return finished_attempt_id(ids.slug)

def _acknowledgement(ids: Ids) -> int:
    """An acknowledgement of the trust's demo staff member (made once per database)."""
    from tests.attestation.factories import acknowledgement_id

    return acknowledgement_id(ids.slug)


def _certificate(ids: Ids):
    """The trust's demo staff member's certificate (issued through a real acknowledgement, once per database)."""
    from tests.certificates.factories import certificate_of

    return certificate_of("staff", ids.slug)


def _access(kind: str):
    """Rows of the access register in a trust, made once per database (see tests/access/factories.py)."""
    from tests.access import factories

    return getattr(factories, f"matrix_{kind}")


def _lti_course(ids: Ids):
    """A course of an LMS registered for the trust (made once per database)."""
    from tests.lti.factories import matrix_course

    return matrix_course(ids.slug)


def _made(kind: str, path: str):
    """A path whose page shows access rows: they are made (once) before the page is requested."""
    return lambda i: _access(kind)(i.slug) and path


def _version(ids: Ids) -> int:
    """The trust's newest policy version (TKAT: its one, published; E-ACT: the seed's draft)."""
    from modules.policies.queries import versions_of

    return versions_of(ids.trust().id)[0].id


def _current_version(ids: Ids) -> int:
    """The trust's version in force."""
    from modules.training.queries import current_version

    return current_version(ids.trust().id).id


def _today_boxes() -> list[str]:
    from modules.core.timeutil import utcnow
    from modules.policies.services import london_date

    today = london_date(utcnow())
    return [str(today.day), str(today.month), str(today.year)]


POLICY_PUBLISHERS = {"hr": 200, "admin": 200}
#: Who may upload a policy and correct how it was read (policies:manage).
POLICY_MANAGERS = {"hr": 200, "admin": 200}


def _upload(ids: Ids) -> int:
    """An uploaded policy file of the trust (made once per database), for the upload preview routes."""
    from modules.core.timeutil import utcnow
    from modules.policies.models import PolicySource
    from modules.policies.services import upload_source

    trust = ids.trust()
    found = db.session.scalar(select(PolicySource.id).where(PolicySource.trust_id == trust.id))
    if found is None:
        from modules.people.models import User

        admin = db.session.scalar(select(User).where(User.email == demo_email("admin", ids.slug)))
        text = f"{trust.name} upload.txt"
        found = upload_source(trust, admin, filename=text, now=utcnow(),
                              data=b"Staff Social Media Policy\n\n1 Scope\n\n1.1 Applies to all staff.\n").id
        db.session.commit()
    return found


def _question(ids: Ids) -> str:
    """The first question of the newest version that has one, as a path prefix (the assurance battery may have
    saved an upload as a newer version without questions: then a question id that is not there)."""
    from modules.assessments.authoring import questions_of
    from modules.policies.queries import versions_of

    versions = versions_of(ids.trust().id)
    for version in versions:
        found = questions_of(version)
        if found:
            return f"/hr/policy/versions/{version.id}/quiz/questions/{found[0].id}"
    return f"/hr/policy/versions/{versions[0].id}/quiz/questions/9"


def _exclusion(ids: Ids) -> str:
    """The newest version's first clause left out of the quiz (TKAT's bank leaves two out), as a path."""
    from modules.assessments.authoring import exclusions_of
    from modules.policies.queries import versions_of

    version = versions_of(ids.trust().id)[0]
    found = exclusions_of(version)
    return f"/hr/policy/versions/{version.id}/quiz/exclusions/{found[0].id if found else 9}/remove"


MATRIX: dict[str, Route] = {
    "core.healthz": Route("GET", lambda i: "/healthz", {}, public=True),
    # The HR tools hub: for anyone who may use at least one of its entries (the DPO: the evidence pack); others
    # get 403, an unknown group 404 (tests/core/test_navigation.py checks which entries each person sees).
    "core.tools": Route("GET", lambda i: "/tools/hr", {**SIGNED_OUT, "hr": 200, "admin": 200, "dpo": 200},
                        default=403, contains=lambda i: "Evidence pack"),
    "static": Route("GET", lambda i: "/static/images/favicon.svg", {}, public=True),
    "auth.sign_in": Route("GET", lambda i: "/sign-in", {"anonymous": 200}, default=302, public=True),
    "auth.logout": Route("POST", lambda i: "/sign-out", {}, default=302, public=True),
    "auth.reauthenticate": Route("GET", lambda i: "/reauthenticate", SIGNED_OUT),
    "training.home": Route("GET", lambda i: "/", SIGNED_OUT, contains=lambda i: i.trust().name),
    "training.print_policy": Route("GET", lambda i: "/policy/print", SIGNED_OUT, contains=lambda i: i.trust().name),
    "training.help": Route("GET", lambda i: "/help", SIGNED_OUT, contains=lambda i: i.trust().name),
    "training.module": Route("GET", lambda i: f"/modules/{i.section(3)}", SIGNED_OUT, takes_id=True,
                             contains=lambda i: "General Rules"),
    "training.mark_read": Route("POST", lambda i: f"/modules/{i.section(1)}/read", SIGNED_OUT, default=302,
                                takes_id=True),
    # Quizzes: nobody in the demo data has read every module, so starting redirects back to /quiz.
    "assessments.quiz_home": Route("GET", lambda i: "/quiz", SIGNED_OUT, contains=lambda i: i.trust().name),
    "assessments.start": Route("POST", lambda i: "/quiz/start", {}, default=302),
    "assessments.attempt": Route("GET", lambda i: f"/quiz/attempts/{_attempt(i)}", {**SIGNED_OUT, "staff": 200},
                                 default=404, takes_id=True, contains=lambda i: i.trust().name),
    "assessments.submit": Route("POST", lambda i: f"/quiz/attempts/{_attempt(i)}", {**SIGNED_OUT, "staff": 400},
                                default=404, takes_id=True),
    # Saving a draft of a finished attempt changes nothing and goes back to its result.
    "assessments.save_draft": Route("POST", lambda i: f"/quiz/attempts/{_attempt(i)}/draft",
                                    {**SIGNED_OUT, "staff": 302}, default=404, takes_id=True),
    # Attestation: nobody in the demo data has passed, so /acknowledge shows "pass the quiz first"; TKAT asks
    # no monitoring consent, so the consent pages are 404 there.
    "attestation.acknowledge": Route("GET", lambda i: "/acknowledge", SIGNED_OUT, contains=lambda i: i.trust().name),
    "attestation.decline": Route("GET", lambda i: "/acknowledge/decline", SIGNED_OUT),
    "attestation.mine": Route("GET", lambda i: "/acknowledgements", SIGNED_OUT,
                              contains=lambda i: "My acknowledgements"),
    "attestation.receipt": Route("GET", lambda i: f"/acknowledgements/{_acknowledgement(i)}",
                                 {**SIGNED_OUT, "staff": 200, "hr": 200, "admin": 200}, default=404, takes_id=True,
                                 contains=lambda i: "Sam Taylor"),
    # Reading a version: the one in force, for everyone signed in (old versions: tests/attestation/test_versions_read.py).
    "attestation.read_version": Route("GET", lambda i: f"/policy/versions/{_current_version(i)}", SIGNED_OUT,
                                      takes_id=True, contains=lambda i: "the version in force"),
    # A module of the version in force is the ordinary module page.
    "attestation.read_version_module": Route(
        "GET", lambda i: f"/policy/versions/{_current_version(i)}/modules/{i.section(3)}", {}, default=302,
        takes_id=True),
    "attestation.consent": Route("GET", lambda i: "/consent", SIGNED_OUT, default=404),
    "attestation.withdraw_consent": Route("POST", lambda i: "/consent/withdraw", SIGNED_OUT, default=404),
    "attestation.give_consent": Route("POST", lambda i: "/consent/give", SIGNED_OUT, default=404),
    # Monitoring consent decisions: HR, the DPO and the admin hold consent:view, but TKAT asks no consent (404).
    "attestation.consent_decisions": Route("GET", lambda i: "/hr/consent",
                                           {**SIGNED_OUT, "hr": 404, "dpo": 404, "admin": 404}, default=403),
    "attestation.trust_settings": Route("GET", lambda i: "/trust/settings", {**SIGNED_OUT, "dpo": 200, "admin": 200},
                                        default=403, contains=lambda i: i.trust().name),
    "attestation.hr_overview": Route("GET", lambda i: "/hr/acknowledgements", {**SIGNED_OUT, "hr": 200, "admin": 200},
                                     default=403, contains=lambda i: i.trust().name),
    "attestation.record_paper": Route("GET", lambda i: "/hr/acknowledgements/record",
                                      {**SIGNED_OUT, "hr": 200, "admin": 200}, default=403,
                                      contains=lambda i: "Record a paper acknowledgement"),
    "assessments.analytics": Route("GET", lambda i: "/quiz/analytics", {**SIGNED_OUT, "hr": 200, "admin": 200},
                                   default=403, contains=lambda i: i.trust().name),
    # Certificates. Revoking checks the capability before the id, so people without it get 403 for any id;
    # HR's 404 for another trust's certificate is tested in tests/certificates/test_views.py.
    "certificates.mine": Route("GET", lambda i: "/certificates", SIGNED_OUT, contains=lambda i: i.trust().name),
    "certificates.download": Route("GET", lambda i: f"/certificates/{_certificate(i).id}/download",
                                   {**SIGNED_OUT, "staff": 200}, default=404, takes_id=True),
    "certificates.manage": Route("GET", lambda i: "/certificates/manage", {**SIGNED_OUT, "hr": 200, "admin": 200},
                                 default=403, contains=lambda i: i.trust().name),
    "certificates.revoke": Route("GET", lambda i: f"/certificates/{_certificate(i).id}/revoke",
                                 {**SIGNED_OUT, "hr": 200, "admin": 200}, default=403,
                                 contains=lambda i: "Sam Taylor"),
    "certificates.lookup": Route("GET", lambda i: "/verify", {}, public=True),
    "certificates.verify": Route("GET", lambda i: f"/verify/{_certificate(i).code}", {}, public=True,
                                 contains=lambda i: i.trust().name),
    # Tracking dashboards: HR, admin and the CEO trust-wide, the headteacher for their academy, a line manager
    # for their team; the team page is for anyone who line-manages someone. Another trust's person is a 404.
    "tracking.overview": Route("GET", lambda i: "/tracking", {**SIGNED_OUT, **TRACKING_VIEWERS}, default=403,
                               contains=lambda i: i.trust().name),
    # Who has completed one of the trust's policies (every trust's first is "social-media"; another trust's
    # slug is a 404: tests/policies/test_series.py).
    "tracking.policy_completion": Route("GET", lambda i: "/tracking/policies/social-media",
                                        {**SIGNED_OUT, **TRACKING_VIEWERS}, default=403,
                                        contains=lambda i: i.trust().name),
    "tracking.people": Route("GET", lambda i: "/tracking/people", {**SIGNED_OUT, **TRACKING_VIEWERS}, default=403,
                             contains=lambda i: i.trust().name),
    "tracking.overdue": Route("GET", lambda i: "/tracking/overdue", {**SIGNED_OUT, **TRACKING_VIEWERS},
                              default=403, contains=lambda i: i.trust().name),
    "tracking.expiring": Route("GET", lambda i: "/tracking/expiring", {**SIGNED_OUT, **TRACKING_VIEWERS},
                               default=403, contains=lambda i: i.trust().name),
    "tracking.team": Route("GET", lambda i: "/tracking/team",
                           {**SIGNED_OUT, "manager": 200, "head": 200, "ceo": 200}, default=403,
                           contains=lambda i: i.trust().name),
    "tracking.person": Route("GET", lambda i: f"/tracking/people/{i.user('staff')}",
                             {**SIGNED_OUT, **TRACKING_VIEWERS}, default=403, takes_id=True,
                             contains=lambda i: demo_email("staff", i.slug)),
    "tracking.person_export": Route("GET", lambda i: f"/tracking/people/{i.user('staff')}/history.csv",
                                    {**SIGNED_OUT, **TRACKING_VIEWERS}, default=403, takes_id=True,
                                    contains=lambda i: demo_email("staff", i.slug)),
    "tracking.export": Route("GET", lambda i: "/tracking/export/people.csv", {**SIGNED_OUT, **TRACKING_VIEWERS},
                             default=403, contains=lambda i: demo_email("staff", i.slug)),
    "tracking.evidence": Route("GET", lambda i: "/tracking/evidence", {**SIGNED_OUT, **EVIDENCE_EXPORTERS},
                               default=403, contains=lambda i: i.trust().name),
    # A ZIP is binary: its contents (this trust's records only) are checked in tests/tracking/test_evidence_pack.py.
    "tracking.evidence_job": Route("POST", lambda i: "/tracking/evidence/jobs", {**SIGNED_OUT, **{p: 302 for p in EVIDENCE_EXPORTERS}},
                                   default=403),
    # A job's pages answer only the person who started it; an unknown job is a 404 for everyone signed in.
    "tracking.job": Route("GET", lambda i: "/tracking/jobs/no-such-job", SIGNED_OUT, default=404),
    "tracking.job_status": Route("GET", lambda i: "/tracking/jobs/no-such-job/status", SIGNED_OUT, default=404),
    "tracking.job_download": Route("GET", lambda i: "/tracking/jobs/no-such-job/download", SIGNED_OUT, default=404),
    "tracking.evidence_pack": Route("GET", lambda i: "/tracking/evidence/pack.zip",
                                    {**SIGNED_OUT, **EVIDENCE_EXPORTERS}, default=403),
    # HR's actions on a person and on a filtered list: staff:manage only (HR, the trust administrator).
    "tracking.remind": Route("GET", lambda i: f"/tracking/people/{i.user('staff')}/remind",
                             {**SIGNED_OUT, **STAFF_MANAGERS}, default=403, takes_id=True,
                             contains=lambda i: "Sam Taylor"),
    # The demo staff member has a password, so there is no invitation to send again: a clear 400.
    "tracking.invite": Route("POST", lambda i: f"/tracking/people/{i.user('staff')}/invite",
                             {**SIGNED_OUT, "hr": 400, "admin": 400}, default=403, takes_id=True),
    "tracking.extend": Route("GET", lambda i: f"/tracking/people/{i.user('staff')}/extend",
                             {**SIGNED_OUT, **STAFF_MANAGERS}, default=403, takes_id=True,
                             contains=lambda i: "Sam Taylor"),
    "tracking.exempt": Route("GET", lambda i: f"/tracking/people/{i.user('staff')}/exempt",
                             {**SIGNED_OUT, **STAFF_MANAGERS}, default=403, takes_id=True,
                             contains=lambda i: "Sam Taylor"),
    "tracking.leaver": Route("GET", lambda i: f"/tracking/people/{i.user('staff')}/leaver",
                             {**SIGNED_OUT, **STAFF_MANAGERS}, default=403, takes_id=True,
                             contains=lambda i: "Sam Taylor"),
    "tracking.bulk": Route("GET", lambda i: "/tracking/bulk?view=people", {**SIGNED_OUT, **STAFF_MANAGERS},
                           default=403, contains=lambda i: i.trust().name),
    "tracking.bulk_action": Route("GET", lambda i: "/tracking/bulk/extend?view=overdue",
                                  {**SIGNED_OUT, **STAFF_MANAGERS}, default=403, contains=lambda i: "Extend"),
    "tracking.email_previews": Route("GET", lambda i: "/tracking/emails", {**SIGNED_OUT, **STAFF_MANAGERS},
                                     default=403, contains=lambda i: i.trust().name),
    # Staff import: HR and the trust administrator (staff:manage). An empty apply is a clear 400.
    "staff.import_staff": Route("GET", lambda i: "/staff/import", {**SIGNED_OUT, **STAFF_MANAGERS}, default=403,
                                contains=lambda i: i.trust().name),
    "staff.apply_import": Route("POST", lambda i: "/staff/import/apply", {**SIGNED_OUT, "hr": 400, "admin": 400},
                                default=403),
    "staff.import_template": Route("GET", lambda i: "/staff/import/template.csv", {**SIGNED_OUT, **STAFF_MANAGERS},
                                   default=403, contains=lambda i: "Line manager email"),
    # A person's roles page (staff:manage): HR and the trust administrator; the person is looked up in the trust
    # first (404). tests/people/test_role_changes.py and the browser walk check who may give what.
    "staff.roles": Route("GET", lambda i: f"/staff/people/{i.user('staff')}/roles", {**SIGNED_OUT, **STAFF_MANAGERS},
                         default=403, takes_id=True, contains=lambda i: "Sam Taylor"),
    # The set-password link: an unknown or expired token is a 400 for anyone (tests/people/test_import.py).
    "auth.set_password": Route("GET", lambda i: "/set-password/not-a-token", {}, default=400, public=True),
    # Forgotten password, the code step of sign-in and the person's account (tests/people/test_accounts.py and
    # test_two_step.py walk them). Without a password step first, the code page sends people back to sign in;
    # an unknown reset token is a clear 400; the two-step pages redirect to the account page when it is off.
    "auth.sign_in_code": Route("GET", lambda i: "/sign-in/code", {}, default=302, public=True),
    "auth.forgot_password": Route("GET", lambda i: "/forgot-password", {}, public=True,
                                  contains=lambda i: "Reset your password"),
    "auth.reset_password": Route("GET", lambda i: "/reset-password/not-a-token", {}, default=400, public=True),
    # Single sign-on: a trust without the `sso` rule (none here) has no such pages, for anyone; with a provider
    # configured, tests/people/test_sso.py and tests/browser/test_sso.py walk them.
    "auth.sso_start": Route("GET", lambda i: f"/sign-in/sso/{i.slug}", {}, default=404, public=True),
    "auth.sso_callback": Route("GET", lambda i: f"/sign-in/sso/{i.slug}/callback?code=x&state=y", {},
                               default=404, public=True),
    "auth.sso_signed_out": Route("GET", lambda i: f"/sign-in/sso/{i.slug}/signed-out", {}, default=404,
                                 public=True),
    "account.overview": Route("GET", lambda i: "/account", SIGNED_OUT, contains=lambda i: i.trust().name),
    "account.change_password": Route("GET", lambda i: "/account/password", SIGNED_OUT,
                                     contains=lambda i: "Change your password"),
    "account.two_step_setup": Route("GET", lambda i: "/account/two-step/set-up", SIGNED_OUT,
                                    contains=lambda i: "Set up two-step verification"),
    "account.recovery_codes": Route("POST", lambda i: "/account/two-step/recovery-codes", {}, default=302),
    "account.two_step_off": Route("GET", lambda i: "/account/two-step/turn-off", {}, default=302),
    # The security event log: the trust administrator only (trust:admin), their own trust's events.
    "security.events": Route("GET", lambda i: "/security/events", {**SIGNED_OUT, "admin": 200}, default=403,
                             contains=lambda i: i.trust().name),
    # The DPO's personal data pages (personal-data:erase): erasure and legal holds (tests/operations/test_erasure.py
    # and tests/browser/test_privacy.py walk them). A person's pages look the id up in the trust first (404).
    # An empty hold form is a clear 400.
    "privacy.overview": Route("GET", lambda i: "/privacy", {**SIGNED_OUT, "dpo": 200}, default=403,
                              contains=lambda i: i.trust().name),
    "privacy.person": Route("GET", lambda i: f"/privacy/people/{i.user('staff')}", {**SIGNED_OUT, "dpo": 200},
                            default=403, takes_id=True, contains=lambda i: "Sam Taylor"),
    "privacy.hold": Route("POST", lambda i: f"/privacy/people/{i.user('staff')}/hold", {**SIGNED_OUT, "dpo": 400},
                          default=403, takes_id=True),
    "privacy.erase_person": Route("GET", lambda i: f"/privacy/people/{i.user('staff')}/erase", {**SIGNED_OUT, "dpo": 200},
                           default=403, takes_id=True, contains=lambda i: "Sam Taylor"),
    # Policy versions (policy:publish). The version pages look the id up in the trust first (another trust's id
    # is a 404 for everyone), then check the capability (403). TKAT's only version is already published, so
    # publishing it again is the idempotent redirect; tests/policies/test_versions_views.py publishes a real draft.
    "policies.versions": Route("GET", lambda i: "/hr/policy", {**SIGNED_OUT, **POLICY_PUBLISHERS}, default=403,
                               contains=lambda i: i.trust().name),
    "policies.version": Route("GET", lambda i: f"/hr/policy/versions/{_version(i)}",
                              {**SIGNED_OUT, **POLICY_PUBLISHERS}, default=403, takes_id=True,
                              contains=lambda i: f"policies/{i.slug}.txt"),
    "policies.publish": Route("POST", lambda i: f"/hr/policy/versions/{_version(i)}/publish",
                              {**SIGNED_OUT, "hr": 302, "admin": 302}, default=403, takes_id=True,
                              data={"confirm": "y", "effective_on": _today_boxes()}),
    "policies.next_review": Route("POST", lambda i: f"/hr/policy/versions/{_version(i)}/next-review",
                                  {**SIGNED_OUT, "hr": 302, "admin": 302}, default=403, takes_id=True,
                                  data={"next_review_on": ["31", "12", "2027"]}),
    # Uploading a policy (policies:manage; tests/policies/test_uploads.py and tests/browser/test_policy_upload.py
    # walk it). An upload is looked up in the trust first (another trust's id is a 404), then capability-checked.
    # The forms posted here are incomplete, so they are refused with a 400 and change nothing.
    "policies.upload": Route("GET", lambda i: "/hr/policy/upload", {**SIGNED_OUT, **POLICY_MANAGERS}, default=403,
                             contains=lambda i: i.trust().name),
    # The trust's policies (series) and adding one (policies:manage); tests/policies/test_series.py walks it.
    "policies.series_list": Route("GET", lambda i: "/hr/policy/policies", {**SIGNED_OUT, **POLICY_MANAGERS},
                                  default=403, contains=lambda i: i.trust().name),
    "policies.preview": Route("GET", lambda i: f"/hr/policy/uploads/{_upload(i)}", {**SIGNED_OUT, **POLICY_MANAGERS},
                              default=403, takes_id=True, contains=lambda i: f"{i.trust().name} upload.txt"),
    "policies.source_file": Route("GET", lambda i: f"/hr/policy/uploads/{_upload(i)}/file",
                                  {**SIGNED_OUT, **POLICY_MANAGERS}, default=403, takes_id=True,
                                  contains=lambda i: "1.1 Applies to all staff."),
    "policies.correct": Route("POST", lambda i: f"/hr/policy/uploads/{_upload(i)}/corrections",
                              {**SIGNED_OUT, "hr": 400, "admin": 400}, default=403, takes_id=True, data={"line": "1"}),
    "policies.remove_correction": Route("POST", lambda i: f"/hr/policy/uploads/{_upload(i)}/corrections/9/remove",
                                        {**SIGNED_OUT, "hr": 400, "admin": 400}, default=403, takes_id=True),
    "policies.save_draft": Route("POST", lambda i: f"/hr/policy/uploads/{_upload(i)}/save",
                                 {**SIGNED_OUT, "hr": 400, "admin": 400}, default=403, takes_id=True),
    # Writing and reviewing a draft version's quiz (policies:manage; tests/assessments/test_authoring.py and
    # tests/browser/test_quiz_authoring.py walk it). The version is looked up in the trust first (another trust's id
    # is a 404), then capability-checked. TKAT's newest version is published, so every change is a clear 400.
    "assessments.quiz_bank": Route("GET", lambda i: f"/hr/policy/versions/{_version(i)}/quiz",
                                   {**SIGNED_OUT, **POLICY_MANAGERS}, default=403, takes_id=True,
                                   contains=lambda i: i.trust().name),
    "assessments.export_bank": Route("GET", lambda i: f"/hr/policy/versions/{_version(i)}/quiz.yaml",
                                     {**SIGNED_OUT, **POLICY_MANAGERS}, default=403, takes_id=True,
                                     contains=lambda i: f"trust: {i.slug}"),
    "assessments.start_from_draft": Route("POST", lambda i: f"/hr/policy/versions/{_version(i)}/quiz/draft",
                                          {**SIGNED_OUT, "hr": 400, "admin": 400}, default=403, takes_id=True),
    "assessments.new_question": Route("GET", lambda i: f"/hr/policy/versions/{_version(i)}/quiz/questions/new",
                                      {**SIGNED_OUT, "hr": 400, "admin": 400}, default=403, takes_id=True),
    "assessments.edit_question": Route("GET", _question, {**SIGNED_OUT, "hr": 400, "admin": 400}, default=403,
                                       takes_id=True),
    "assessments.remove_question": Route("POST", lambda i: f"{_question(i)}/remove",
                                         {**SIGNED_OUT, "hr": 400, "admin": 400}, default=403, takes_id=True),
    "assessments.approve_question": Route("POST", lambda i: f"{_question(i)}/approve",
                                          {**SIGNED_OUT, "hr": 400, "admin": 400}, default=403, takes_id=True),
    "assessments.exclude_clause": Route("POST", lambda i: f"/hr/policy/versions/{_version(i)}/quiz/exclusions",
                                        {**SIGNED_OUT, "hr": 400, "admin": 400}, default=403, takes_id=True,
                                        data={"clause": "3.3.1", "reason": "x"}),
    "assessments.remove_exclusion": Route("POST", _exclusion, {**SIGNED_OUT, "hr": 400, "admin": 400}, default=403,
                                          takes_id=True),
    "assessments.approve_exclusion": Route("POST", lambda i: _exclusion(i).removesuffix("/remove") + "/approve",
                                           {**SIGNED_OUT, "hr": 400, "admin": 400}, default=403, takes_id=True),
    "assessments.import_bank": Route("POST", lambda i: f"/hr/policy/versions/{_version(i)}/quiz/import",
                                     {**SIGNED_OUT, "hr": 400, "admin": 400}, default=403, takes_id=True),
    # Access register (tests/access/ checks the data in depth). A grant's revoke page, an account's status and
    # a decision are looked up in the trust first (another trust's id is a 404), then capability-checked (403).
    "access.accounts": Route("GET", _made("account", "/access/accounts"), SIGNED_OUT,
                             contains=lambda i: _access("account")(i.slug).handle),
    "access.account": Route("GET", lambda i: f"/access/accounts/{_access('account')(i.slug).id}", SIGNED_OUT,
                            takes_id=True, contains=lambda i: _access("account")(i.slug).handle),
    "access.new_account": Route("GET", lambda i: "/access/accounts/new", {**SIGNED_OUT, "comms": 200, "admin": 200},
                                default=403, contains=lambda i: i.trust().name),
    "access.account_status": Route("POST", lambda i: f"/access/accounts/{_access('account')(i.slug).id}/status",
                                   {**SIGNED_OUT, "comms": 302, "admin": 302}, default=403, takes_id=True,
                                   data={"status": "active"}),
    "access.revoke_grant": Route("GET", lambda i: f"/access/grants/{_access('grant')(i.slug).id}/revoke",
                                 {**SIGNED_OUT, "comms": 200, "admin": 200}, default=403, takes_id=True,
                                 contains=lambda i: _access("grant")(i.slug).user.name),
    "access.register": Route("GET", _made("grant", "/access/register"), {**SIGNED_OUT, "staff": 403, "manager": 403},
                             contains=lambda i: _access("grant")(i.slug).user.name),
    "access.register_csv": Route("GET", _made("grant", "/access/register.csv"),
                                 {**SIGNED_OUT, "staff": 403, "manager": 403},
                                 contains=lambda i: _access("grant")(i.slug).user.name),
    # An XLSX is zipped: its headers and rows are read with openpyxl in tests/access/test_exports.py.
    "access.register_xlsx": Route("GET", lambda i: "/access/register.xlsx",
                                  {**SIGNED_OUT, "staff": 403, "manager": 403}),
    "access.my_requests": Route("GET", lambda i: "/access/requests", SIGNED_OUT, contains=lambda i: i.trust().name),
    "access.request_join": Route("GET", _made("account", "/access/requests/join"), SIGNED_OUT,
                                 contains=lambda i: _access("account")(i.slug).handle),
    "access.request_new_account": Route("GET", lambda i: "/access/requests/new-account", SIGNED_OUT,
                                        contains=lambda i: i.trust().name),
    # The staff member's request: seen by them, their line manager, its approvers and the register's keepers.
    "access.request_detail": Route("GET", lambda i: f"/access/requests/{_access('request')(i.slug).id}", SIGNED_OUT,
                                   takes_id=True, contains=lambda i: _access("request")(i.slug).reason),
    "access.decide": Route("POST", lambda i: f"/access/requests/{_access('request')(i.slug).id}/decide",
                           {**SIGNED_OUT, "comms": 400}, default=403, takes_id=True),
    "access.withdraw_request": Route("POST", lambda i: f"/access/requests/{_access('request')(i.slug).id}/withdraw",
                                     {**SIGNED_OUT, "staff": 302}, default=404, takes_id=True),
    "access.approvals": Route("GET", lambda i: "/access/approvals",
                              {**SIGNED_OUT, "staff": 403, "hr": 403, "admin": 403},
                              contains=lambda i: i.trust().name),
    "access.team": Route("GET", lambda i: "/access/team", {**SIGNED_OUT, "manager": 200, "head": 200, "ceo": 200},
                         default=403, contains=lambda i: i.trust().name),
    # LTI 1.3 (tests/lti walk them against a real platform): the keyset is public; login, launch and the
    # deep-linking reply are public and refuse incomplete requests with a clear 400; the platforms page and a
    # course's roster sync are the trust administrator's (another trust's course is a 404; with no roster
    # service offered by the platform, a clear 400).
    "lti.keyset": Route("GET", lambda i: "/lti/jwks", {}, public=True, contains=lambda i: "RS256"),
    "lti.login": Route("GET", lambda i: "/lti/login", {}, default=400, public=True),
    "lti.launch": Route("POST", lambda i: "/lti/launch", {}, default=400, public=True),
    "lti.deep_link": Route("POST", lambda i: "/lti/deep-link", {}, default=400, public=True),
    # Platform administration: no trust's person may reach it (platform administrators are tested in
    # tests/platform/test_platform.py); the rules page is the trust administrator's.
    "platform.trusts": Route("GET", lambda i: "/platform/", SIGNED_OUT, default=403),
    "platform.new_trust": Route("GET", lambda i: "/platform/trusts/new", SIGNED_OUT, default=403),
    "platform.trust": Route("GET", lambda i: f"/platform/trusts/{i.slug}", SIGNED_OUT, default=403),
    "platform.add_academy": Route("POST", lambda i: f"/platform/trusts/{i.slug}/academies", SIGNED_OUT,
                                  default=403, data={"academy-name": "Matrix Academy"}),
    "platform.invite_admin": Route("POST", lambda i: f"/platform/trusts/{i.slug}/administrators", SIGNED_OUT,
                                   default=403, data={"admin-name": "M", "admin-email": "m@example.org"}),
    "trust_rules.edit": Route("GET", lambda i: "/trust/rules", {**SIGNED_OUT, "admin": 200}, default=403,
                              contains=lambda i: i.trust().name),
    "lti.platforms": Route("GET", lambda i: "/lti/platforms", {**SIGNED_OUT, "admin": 200}, default=403,
                           contains=lambda i: i.trust().name),
    "lti.roster": Route("GET", lambda i: f"/lti/courses/{_lti_course(i).id}/roster", {**SIGNED_OUT, "admin": 400},
                        default=403, takes_id=True, contains=lambda i: _lti_course(i).title),
    "access.training_discussed": Route("POST", lambda i: f"/access/team/{i.user('staff')}/training-discussed",
                                       {**SIGNED_OUT, "manager": 302}, default=404, takes_id=True,
                                       data={"idempotency_key": "k" * 40}),
}


def test_every_route_listed(app):
    """A route added without an access-matrix entry fails here."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - MATRIX.keys())
    assert not missing, f"routes missing from the access matrix: {missing}"
    stale = sorted(MATRIX.keys() - endpoints)
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"


def _request(client, route: Route, path: str):
    if route.method == "GET":
        return client.get(path)
    return client.post(path, data=dict(route.data or {}))


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_route_access(app, endpoint):
    """Each person gets the expected status, sees their own trust's data, and never another trust's ids."""
    route = MATRIX[endpoint]
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF itself is tested elsewhere; here only access is
    own = Ids(OWN)
    for person in PEOPLE:
        client = app.test_client()
        if person != "anonymous":
            sign_in(client, demo_email(person, OWN))
        response = _request(client, route, route.path(own))
        expected = route.expect.get(person, route.default)
        assert response.status_code == expected, f"{endpoint} as {person}: {response.status_code} != {expected}"
        if expected == 200 and route.contains and route.method == "GET":
            assert route.contains(own) in response.get_data(as_text=True), f"{endpoint} as {person}: wrong data"
        if route.takes_id and person != "anonymous":
            foreign = client.open(route.path(Ids(OTHER)), method=route.method, data=dict(route.data or {}))
            assert foreign.status_code == 404, f"{endpoint} as {person} with another trust's id: {foreign.status_code}"
