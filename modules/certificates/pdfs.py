"""A certificate's PDF, rendered after the issue has committed: never inside a transaction or the ledger lock.

For each certificate: read what the PDF shows (a read that takes no write lock), render it (WeasyPrint, with no
transaction open), then in a short write transaction record it (`CertificateRendering`, ledgered, and its bytes
in `CertificatePdf`), queue the certificate email with the PDF attached, and commit. A failure is noted in
`CertificateRenderProblem` (HR sees it on the certificate list) and left for a retry: the worker task retries,
and the sweep (`flask certificates render-missing`, also in the daily run) renders every certificate still
without its PDF, so nothing is lost if a process dies between the issue and the render.

Like a CLI command, this commits (once per certificate).
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, select

from modules.certificates.codes import group_code
from modules.certificates.links import absolute, verify_url
from modules.certificates.models import (
    Certificate,
    CertificatePdf,
    CertificatePersonal,
    CertificateRendering,
    CertificateRenderProblem,
)
from modules.certificates.rendering import CertificateContent, logo_svg, render_certificate
from modules.core.database import reading, writing
from modules.core.extensions import db
from modules.core.timeutil import format_date
from modules.evidence.ledger import lock_trust
from modules.evidence.records import new_personal, personal_digest, record, sha256_hex
from modules.notifications.services import Attachment, london_date, queue_email

log = logging.getLogger(__name__)

#: Ledger entry kind of a rendered PDF.
KIND_RENDERED = "certificate_rendered"
RENDERED, ALREADY, ERASED, MISSING, FAILED = "rendered", "already rendered", "erased", "missing", "failed"


@dataclass
class RenderReport:
    """What a batch of renders did: each certificate's outcome, and the emails it queued."""

    outcomes: dict[int, str] = field(default_factory=dict)
    emails: list[int] = field(default_factory=list)

    @property
    def failed(self) -> list[int]:
        """The certificates whose render failed (left for a retry)."""
        return [cid for cid, outcome in self.outcomes.items() if outcome == FAILED]


def missing_ids(limit: int | None = None) -> list[int]:
    """Certificates still without their PDF (and whose holder's data has not been erased), oldest first."""
    query = (select(Certificate.id)
             .join(CertificatePersonal, CertificatePersonal.certificate_id == Certificate.id)
             .where(Certificate.pdf_sha256.is_(None),
                    ~exists().where(CertificateRendering.certificate_id == Certificate.id))
             .order_by(Certificate.id))
    return list(db.session.scalars(query.limit(limit) if limit else query))


def content_of(cert: Certificate, base: str | None = None) -> CertificateContent:
    """Everything the certificate's PDF shows, from its record (the holder's name as issued)."""
    ack, version, rules = cert.acknowledgement, cert.version, cert.trust.rules
    return CertificateContent(
        holder_name=cert.personal.holder_name, trust_name=cert.trust.name, academy_name=ack.signer_academy,
        policy_title=version.title, version_label=version.label.capitalize(),
        completed_on=format_date(london_date(cert.completed_at)), expires_on=format_date(cert.expires_on),
        code_grouped=group_code(cert.code), verify_url=verify_url(cert.code, base), assessed=ack.attempt_id is not None,
        logo_svg=logo_svg(rules.logo),
        signatory_name=rules.certificate_signatory.name if rules.certificate_signatory else "",
        signatory_role=rules.certificate_signatory.role if rules.certificate_signatory else "")


def render_one(certificate_id: int, *, now: datetime, report: RenderReport | None = None,
               base: str | None = None) -> str:
    """Render one certificate's PDF and record it (idempotent); commits. Raises when rendering fails.

    `base` is the address links use when PUBLIC_BASE_URL is unset (from the request that issued it).
    """
    report = report if report is not None else RenderReport()
    with reading():
        cert = db.session.get(Certificate, certificate_id)
        state = MISSING if cert is None else ALREADY if cert.issued_sha256 is not None else \
            ERASED if cert.personal is None else None
        content = content_of(cert, base) if state is None else None
    if state is not None:
        return state
    pdf = render_certificate(content).pdf  # no transaction open: WeasyPrint holds no lock of ours
    with writing():
        cert = db.session.get(Certificate, certificate_id)
        lock_trust(cert.trust_id)  # one chain per trust; and a twin render waits here, then finds this one
        if cert.personal is None or db.session.scalar(
                select(CertificateRendering.id).where(CertificateRendering.certificate_id == cert.id)):
            db.session.rollback()
            return ALREADY
        stored = new_personal(CertificatePdf, pdf=pdf)
        rendering = CertificateRendering(trust_id=cert.trust_id, certificate_id=cert.id, pdf_sha256=sha256_hex(pdf),
                                         personal_digest=personal_digest(stored), rendered_at=now)
        db.session.add(rendering)
        db.session.flush()
        stored.rendering_id = rendering.id
        db.session.add(stored)
        record(rendering, kind=KIND_RENDERED, now=now)
        problem = db.session.get(CertificateRenderProblem, cert.id)
        if problem is not None:
            db.session.delete(problem)
        message = _email_certificate(cert, content, pdf, now=now, base=base)
        db.session.commit()
    report.emails.append(message)
    return RENDERED


def render_certificates(ids, *, now: datetime, base: str | None = None) -> RenderReport:
    """Render each certificate's PDF; a failure is noted for HR (and a retry), and the others still render."""
    report = RenderReport()
    for certificate_id in sorted(set(ids)):
        try:
            report.outcomes[certificate_id] = render_one(certificate_id, now=now, report=report, base=base)
        except Exception as exc:  # noted, retried later; one bad certificate must not stop the others
            db.session.rollback()
            log.exception("rendering the PDF of certificate %s failed; it will be retried", certificate_id)
            report.outcomes[certificate_id] = FAILED
            note_problem(certificate_id, exc, now=now)
    return report


def note_problem(certificate_id: int, exc: BaseException, *, now: datetime) -> None:
    """Count a failed render of the certificate, with the error, for HR's list; commits."""
    text = f"{type(exc).__name__}: {exc}"[:300]
    with writing():
        problem = db.session.get(CertificateRenderProblem, certificate_id)
        if problem is None:
            problem = CertificateRenderProblem(certificate_id=certificate_id, attempts=0)
            db.session.add(problem)
        problem.attempts += 1
        problem.last_error, problem.last_tried_at = text, now
        db.session.commit()


def render_missing(*, now: datetime, limit: int | None = None) -> RenderReport:
    """The sweep: render every certificate still without its PDF (after a crash, a failure, or with no worker)."""
    with reading():
        ids = missing_ids(limit)
    return render_certificates(ids, now=now)


def _email_certificate(cert: Certificate, content: CertificateContent, pdf: bytes, *, now: datetime,
                       base: str | None) -> int:
    user = cert.user
    body = (
        f"Dear {content.holder_name},\n\n"
        f"You have completed {content.trust_name}'s social media policy training: {content.policy_title} "
        f"({content.version_label.lower()}). Your certificate is attached.\n\n"
        f"Completed: {content.completed_on}\n"
        f"Expires: {content.expires_on}\n"
        f"Verification code: {content.code_grouped}\n\n"
        f"Anyone you show the certificate to can check whether it is still valid at:\n{content.verify_url}\n\n"
        f"You can download it again at any time from My certificates:\n{absolute('certificates.mine', base=base)}\n\n"
        "PolicyPass\n")
    message = queue_email(recipient=user.email, reason=f"certificate-issued:{cert.id}", user=user,
                          trust_id=cert.trust_id, subject=f"Your certificate: {content.policy_title}", body=body,
                          now=now, attachments=[Attachment(f"certificate-{cert.code[:8]}.pdf", "application/pdf", pdf)])
    return message.id
