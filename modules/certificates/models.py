"""Certificate evidence (append-only), its personal data (deletable) and revocations.

- `Certificate` and `CertificateRevocation` are append-only evidence (ids, dates, hashes), refused
  UPDATE/DELETE/TRUNCATE by database triggers and committed to by ledger entries;
- `CertificatePersonal` (the holder's name) and `CertificateRevocationPersonal` (HR's free-text reason) are
  deletable: an erasure deletes them with their salt, and the ledger still verifies, because the evidence row
  keeps only a salted digest of them;
- the PDF is rendered after the issuing transaction has committed (WeasyPrint takes 0.1 s and more; never
  inside the ledger lock) and recorded on its own: `CertificateRendering` (append-only evidence: which
  certificate, the PDF's sha256, when) and `CertificatePdf` (the bytes, deletable). Certificates issued
  before that change hold their PDF's sha256 in `Certificate.pdf_sha256` and its bytes in
  `CertificatePersonal.pdf`; `Certificate.issued_sha256` and `Certificate.pdf_bytes` read either;
- `CertificateRenderProblem` (ordinary, not evidence) counts failed renders of a certificate for HR and retries.

Status (valid / expired / revoked / superseded) is never stored: see status.py and `superseded_since`.
"""

from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from modules.attestation.models import Acknowledgement
from modules.core.extensions import db
from modules.evidence.records import Personal, evidence_record, sha256_hex
from modules.evidence.triggers import APPEND_ONLY, EVIDENCE
from modules.people.models import Trust, User
from modules.policies.models import PolicyVersion


class CertificateRevocation(db.Model):
    """HR revoked a certificate: append-only, at most one per certificate."""

    __table_args__ = ({"info": {APPEND_ONLY: True, EVIDENCE: True}},)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust (and ledger) the record belongs to.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The certificate revoked (unique: a certificate is revoked once).
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), unique=True)
    #: Who revoked it.
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: salted_hash of the personal row (the reason); its salt lives in that row and goes with it.
    personal_digest: Mapped[str] = mapped_column(String(64))
    #: When it was revoked, UTC.
    created_at: Mapped[datetime]

    actor: Mapped[User] = relationship()
    personal: Mapped["CertificateRevocationPersonal | None"] = relationship(back_populates="revocation")


class CertificateRevocationPersonal(db.Model):
    """HR's reason for a revocation: free text about a person, so deletable like other personal data."""

    __table_args__ = ({"info": {EVIDENCE: True}},)

    #: The revocation it explains.
    revocation_id: Mapped[int] = mapped_column(ForeignKey("certificate_revocation.id"), primary_key=True,
                                               autoincrement=False)
    #: Random salt (hex) of the revocation's personal digest.
    salt: Mapped[str] = mapped_column(String(64))
    #: Why it was revoked, as HR wrote it.
    reason: Mapped[str] = mapped_column(Text)

    revocation: Mapped[CertificateRevocation] = relationship(back_populates="personal")


# Table aliases, not ORM aliases: aliased() configures every mapper at import, which every command would pay.
_this = PolicyVersion.__table__.alias("this_version")
_later = PolicyVersion.__table__.alias("later_version")


class Certificate(db.Model):
    """A certificate issued for an acknowledgement: append-only evidence; its PDF is in CertificatePersonal."""

    __table_args__ = ({"info": {APPEND_ONLY: True, EVIDENCE: True}},)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust (and ledger) the record belongs to.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The holder.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: The policy version it certifies.
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_version.id"), index=True)
    #: The acknowledgement it was issued for (unique: one certificate per acknowledgement).
    acknowledgement_id: Mapped[int] = mapped_column(ForeignKey("acknowledgement.id"), unique=True)
    #: The holder's previous certificate that this one renews, if any (the history is a chain).
    renews_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), unique=True)
    #: Verification code: 32 Crockford base32 symbols (160 random bits), printed in groups of four.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    #: When the training was completed (the acknowledgement's time), UTC.
    completed_at: Mapped[datetime]
    #: The London date on which it stops being valid (completion + the trust's validity at issue).
    expires_on: Mapped[date]
    #: sha256 of the PDF, for certificates rendered inside the issue (before issue 16); NULL for later ones,
    #: whose PDF is its own record (CertificateRendering). Kept after the bytes are erased.
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    #: salted_hash of the personal row (holder name, PDF digest); its salt lives in that row.
    personal_digest: Mapped[str] = mapped_column(String(64))
    #: When it was issued, UTC.
    issued_at: Mapped[datetime]

    trust: Mapped[Trust] = relationship()
    user: Mapped[User] = relationship()
    version: Mapped[PolicyVersion] = relationship()
    acknowledgement: Mapped[Acknowledgement] = relationship()
    renews: Mapped["Certificate | None"] = relationship(remote_side="Certificate.id", back_populates="renewal")
    #: The certificate that renews this one, if any (the next link of the chain).
    renewal: Mapped["Certificate | None"] = relationship(back_populates="renews")
    personal: Mapped["CertificatePersonal | None"] = relationship(back_populates="certificate")
    revocation: Mapped[CertificateRevocation | None] = relationship(viewonly=True)
    #: The PDF's own record, once rendered (None before, and for certificates rendered inside the issue).
    rendering: Mapped["CertificateRendering | None"] = relationship(viewonly=True)

    #: When it was revoked (UTC), if it was; loaded with the row.
    revoked_at: Mapped[datetime | None] = column_property(
        select(CertificateRevocation.created_at).where(CertificateRevocation.certificate_id == id)
        .correlate_except(CertificateRevocation).scalar_subquery(), deferred=False)
    #: When a later version of the same policy (series) took effect (UTC; its `in_force_at`), if one has been
    #: published; loaded with the row. The grace period runs from then.
    superseded_since: Mapped[datetime | None] = column_property(
        select(func.min(_later.c.in_force_at))
        .where(_this.c.id == version_id, _later.c.series_id == _this.c.series_id, _later.c.number > _this.c.number,
               _later.c.in_force_at.is_not(None))
        .correlate_except(_this, _later).scalar_subquery(), deferred=False)

    @property
    def issued_sha256(self) -> str | None:
        """sha256 of the PDF issued with this certificate; None while it is still being prepared."""
        if self.pdf_sha256 is not None:
            return self.pdf_sha256
        return self.rendering.pdf_sha256 if self.rendering is not None else None

    @property
    def pdf_bytes(self) -> bytes | None:
        """The stored PDF, exactly as issued; None while being prepared, or after an erasure."""
        if self.personal is not None and self.personal.pdf is not None:
            return self.personal.pdf
        stored = self.rendering.stored if self.rendering is not None else None
        return stored.pdf if stored is not None else None

    @property
    def pdf_state(self) -> str:
        """"ready", "preparing" (not rendered yet) or "erased" (rendered, then erased; or erased before)."""
        if self.pdf_bytes is not None:
            return "ready"
        if self.issued_sha256 is not None or self.personal is None:
            return "erased"
        return "preparing"

    @property
    def grace_days(self) -> int:
        """Days it stays valid after the next version is published (the trust's current rule)."""
        return self.trust.rules.supersede_grace_days


class CertificatePersonal(db.Model):
    """The holder's name and the PDF bytes: personal data, deletable by a lawful erasure."""

    __table_args__ = ({"info": {EVIDENCE: True}},)

    #: The certificate it belongs to.
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), primary_key=True,
                                                autoincrement=False)
    #: Random salt (hex) of the certificate's personal digest.
    salt: Mapped[str] = mapped_column(String(64))
    #: The holder's full name as printed.
    holder_name: Mapped[str] = mapped_column(String(200))
    #: The PDF, for certificates rendered inside the issue (before issue 16); NULL for later ones (CertificatePdf).
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)

    certificate: Mapped[Certificate] = relationship(back_populates="personal")


class CertificateRendering(db.Model):
    """A certificate's PDF was rendered (after the issue committed): append-only; the bytes are in CertificatePdf."""

    __table_args__ = ({"info": {APPEND_ONLY: True, EVIDENCE: True}},)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust (and ledger) the record belongs to.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The certificate rendered (unique: its PDF is rendered once; a download returns these bytes for ever).
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), unique=True)
    #: sha256 of the PDF bytes; kept after the bytes are erased, so an upload can still be checked.
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    #: salted_hash of the bytes row (the PDF, as its sha256); its salt lives in that row.
    personal_digest: Mapped[str] = mapped_column(String(64))
    #: When it was rendered, UTC.
    rendered_at: Mapped[datetime]

    certificate: Mapped[Certificate] = relationship(viewonly=True)
    stored: Mapped["CertificatePdf | None"] = relationship(back_populates="rendering")


class CertificatePdf(db.Model):
    """A rendered certificate's PDF bytes: personal data (the holder's name is printed), deletable by an erasure."""

    __table_args__ = ({"info": {EVIDENCE: True}},)

    #: The rendering it stores.
    rendering_id: Mapped[int] = mapped_column(ForeignKey("certificate_rendering.id"), primary_key=True,
                                              autoincrement=False)
    #: Random salt (hex) of the rendering's personal digest.
    salt: Mapped[str] = mapped_column(String(64))
    #: The PDF exactly as rendered: a download returns these bytes (re-renders are not byte-stable).
    pdf: Mapped[bytes] = mapped_column(LargeBinary)

    rendering: Mapped[CertificateRendering] = relationship(back_populates="stored")


class CertificateRenderProblem(db.Model):
    """Failed attempts to render a certificate's PDF, for HR to see and the sweep to retry; removed once rendered.

    Not evidence: a note about the work, like an outbox row's delivery attempts.
    """

    #: The certificate whose PDF could not be rendered yet.
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), primary_key=True, autoincrement=False)
    #: How many attempts have failed.
    attempts: Mapped[int] = mapped_column(default=0)
    #: The last failure, as logged (never the holder's details).
    last_error: Mapped[str] = mapped_column(String(300))
    #: When the last attempt failed, UTC.
    last_tried_at: Mapped[datetime]


def _pdf_sha256(personal: CertificatePersonal) -> str | None:
    return sha256_hex(personal.pdf) if personal.pdf is not None else None


def _pdf_is_the_one_issued(cert: Certificate, personal: CertificatePersonal) -> str | None:
    if _pdf_sha256(personal) != cert.pdf_sha256:
        return "the stored PDF is not the one issued (sha256 differs)"
    return None


def _pdf_is_the_one_rendered(rendering: CertificateRendering, stored: CertificatePdf) -> str | None:
    if sha256_hex(stored.pdf) != rendering.pdf_sha256:
        return "the stored PDF is not the one rendered (sha256 differs)"
    return None


#: The certificate as evidence. Its personal row's digest covers the holder's name and the PDF (as its
#: sha256, None since the PDF is its own record); the row's key is left out: the digest is made before the
#: certificate has an id, and a row moved to another certificate is caught anyway (its digest then matches
#: neither).
CERTIFICATE_EVIDENCE = evidence_record(
    Certificate,
    fields=("trust_id", "user_id", "version_id", "acknowledgement_id", "renews_id", "code", "completed_at",
            "expires_on", "pdf_sha256", "personal_digest", "issued_at"),
    personal=Personal(CertificatePersonal, key="certificate_id", fields=("holder_name",),
                      derived={"pdf_sha256": _pdf_sha256}),
    check=_pdf_is_the_one_issued,
)
#: A certificate's rendered PDF as evidence; its personal row is the bytes (entering the digest as their sha256).
RENDERING_EVIDENCE = evidence_record(
    CertificateRendering,
    fields=("trust_id", "certificate_id", "pdf_sha256", "personal_digest", "rendered_at"),
    personal=Personal(CertificatePdf, key="rendering_id", fields=(),
                      derived={"pdf_sha256": lambda stored: sha256_hex(stored.pdf)}),
    check=_pdf_is_the_one_rendered,
)
#: A revocation as evidence; its personal row is HR's free-text reason.
REVOCATION_EVIDENCE = evidence_record(
    CertificateRevocation,
    fields=("trust_id", "certificate_id", "actor_id", "personal_digest", "created_at"),
    personal=Personal(CertificateRevocationPersonal, key="revocation_id", fields=("reason",)),
)
