"""PolicyVersion, Section and Clause: a trust's policy as parsed from its source file; PolicySource: an uploaded
file and HR's corrections to how it was read."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modules.core.extensions import db


class PolicySeries(db.Model):
    """One of a trust's policies (e.g. staff social media, acceptable use): its versions, modules, quiz,
    acknowledgement and certificate are its own, and its audience says who must complete it."""

    __table_args__ = (UniqueConstraint("trust_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust whose policy this is.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: Short name in addresses (`?policy=<slug>`), unique in the trust, e.g. "social-media".
    slug: Mapped[str] = mapped_column(String(80))
    #: The policy's name as staff see it, e.g. "Acceptable use policy".
    title: Mapped[str] = mapped_column(String(300))
    #: Who must complete it: {"roles": [role keys], "academies": [academy slugs]}; an empty list means any
    #: (so an empty mapping is all staff).
    audience: Mapped[dict] = mapped_column(db.JSON, default=dict)
    #: Order on the staff home and HR's pages (the first is the default register policy).
    position: Mapped[int] = mapped_column(default=1)
    #: When it was created, UTC.
    created_at: Mapped[datetime]

    @property
    def audience_roles(self) -> list[str]:
        """Role keys of the audience (empty: every role)."""
        return list((self.audience or {}).get("roles") or [])

    @property
    def audience_academies(self) -> list[str]:
        """Academy slugs of the audience (empty: every academy and the central team)."""
        return list((self.audience or {}).get("academies") or [])


def _first_series(context) -> int | None:
    """Column default of a version's (or upload's) series: its trust's first, when the row names none."""
    trust_id = context.get_current_parameters().get("trust_id")
    table = PolicySeries.__table__
    return context.connection.execute(
        select(table.c.id).where(table.c.trust_id == trust_id).order_by(table.c.position, table.c.id).limit(1)
    ).scalar()


def _same_number(context) -> int | None:
    """Column default of a version's number within its series: its trust-wide number (one series)."""
    return context.get_current_parameters().get("number")


class PolicyVersion(db.Model):
    """One version of a trust's policy; never edited once it has acknowledgements (a change is a new version)."""

    __table_args__ = (UniqueConstraint("trust_id", "source_sha256"), UniqueConstraint("trust_id", "number"),
                      Index("uq_policy_version_series_number", "series_id", "series_number", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust whose policy this is.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The policy (series) it is a version of; versions of different series never supersede each other.
    series_id: Mapped[int | None] = mapped_column(ForeignKey("policy_series.id"), index=True,
                                                  default=_first_series)
    #: 1, 2, 3 … per trust (across its series), in the order versions arrived: the order of versions.
    number: Mapped[int]
    #: 1, 2, 3 … within its series: how the version is named ("version 1" of the acceptable use policy).
    series_number: Mapped[int | None] = mapped_column(default=_same_number)
    #: The title as the document states it.
    title: Mapped[str] = mapped_column(String(300))
    #: Path of the source under content/, e.g. "policies/tkat.txt".
    source_file: Mapped[str] = mapped_column(String(300))
    #: sha256 of the exact source bytes.
    source_sha256: Mapped[str] = mapped_column(String(64))
    #: The source text exactly as received (for an upload: the text read from the file with HR's corrections
    #: applied, which its structure was parsed from; the file's bytes are in its PolicySource).
    source_text: Mapped[str] = mapped_column(Text)
    #: "draft" until HR publishes it, then "published"; a later published version makes it "superseded".
    status: Mapped[str] = mapped_column(String(20), default="draft")
    #: Dates the document states: {"issued", "reviewed", "next_review"} as ISO strings.
    stated_dates: Mapped[dict] = mapped_column(db.JSON, default=dict)
    #: When the next review is due (from the document, or set by HR).
    next_review_on: Mapped[date | None]
    #: When it was loaded, UTC.
    created_at: Mapped[datetime]
    #: When it was published, UTC.
    published_at: Mapped[datetime | None]
    #: The London date HR gave, when publishing, from which the version applies (null: on publication).
    effective_on: Mapped[date | None]
    #: The London date HR set `next_review_on` by hand; null while it is the date the document states.
    next_review_set_on: Mapped[date | None]
    #: When it takes effect, UTC: the start of `effective_on` (London), or publication if that is later. The
    #: version before it is superseded from then (certificates of it stay valid for the grace period after).
    in_force_at: Mapped[datetime | None]

    sections: Mapped[list["Section"]] = relationship(back_populates="version", order_by="Section.position",
                                                     cascade="all, delete-orphan")
    series: Mapped[PolicySeries | None] = relationship()

    @property
    def label(self) -> str:
        """How the version is named in the interface, e.g. "version 2" (its number within its policy)."""
        return f"version {self.series_number if self.series_number is not None else self.number}"


class Section(db.Model):
    """A top-level section of a policy version; each is one training module."""

    __table_args__ = (UniqueConstraint("version_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The version it belongs to.
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_version.id", ondelete="CASCADE"), index=True)
    #: 1-based order in the document.
    position: Mapped[int]
    #: The section number as printed, e.g. "3" or "Appendix 1".
    number: Mapped[str] = mapped_column(String(40))
    #: The section heading.
    title: Mapped[str] = mapped_column(String(300))
    #: Sanitised HTML of the section, rendered once at import.
    html: Mapped[str] = mapped_column(Text)
    #: Estimated minutes to read.
    reading_minutes: Mapped[int]
    #: Whether any clause states a must / must-not obligation.
    has_obligation: Mapped[bool] = mapped_column(default=False)
    #: "text", or "form" for an appendix that is a blank form or a template (optional reading unless the
    #: trust's rule form_appendices_compulsory says otherwise); detected from the text at import.
    kind: Mapped[str] = mapped_column(String(20), default="text", server_default="text")

    version: Mapped[PolicyVersion] = relationship(back_populates="sections")
    clauses: Mapped[list["Clause"]] = relationship(back_populates="section", order_by="Clause.position",
                                                   cascade="all, delete-orphan")

    @property
    def is_form(self) -> bool:
        """Whether the section is an appendix that is a blank form or a template."""
        return self.kind == "form"

    @property
    def heading(self) -> str:
        """Number and title together, e.g. "3. General Rules"."""
        sep = " – " if self.number.startswith(("Appendix", "APPENDIX")) else ". "
        return f"{self.number}{sep}{self.title}" if self.title else self.number


class Clause(db.Model):
    """A numbered clause (or the unnumbered text opening a section) with its modality."""

    __table_args__ = (Index("ix_clause_version_ref", "version_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The version (denormalised from the section so clauses are found by ref quickly).
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_version.id", ondelete="CASCADE"))
    #: The section it sits in.
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"), index=True)
    #: Order within the version.
    position: Mapped[int]
    #: Normalised reference, e.g. "3.3.1" or "A.3.2".
    ref: Mapped[str] = mapped_column(String(40))
    #: The reference one level up, if any.
    parent_ref: Mapped[str | None] = mapped_column(String(40))
    #: The clause text as the document gives it.
    text: Mapped[str] = mapped_column(Text)
    #: must / must_not / should / should_not / may / info.
    modality: Mapped[str] = mapped_column(String(20))

    section: Mapped[Section] = relationship(back_populates="clauses")
    version: Mapped[PolicyVersion] = relationship()


class PolicySource(db.Model):
    """An uploaded policy file, byte-identical, with HR's structure corrections stored beside it (never in it).

    One row per trust and file content: uploading the same bytes again finds this row, so its corrections are
    applied again. The version saved from it has the same (trust_id, sha256) as `PolicyVersion.source_sha256`.
    """

    __table_args__ = (UniqueConstraint("trust_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust that uploaded it.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: sha256 of `data`.
    sha256: Mapped[str] = mapped_column(String(64))
    #: The file's name as uploaded (shown only; the type comes from the bytes).
    filename: Mapped[str] = mapped_column(String(255))
    #: "docx", "pdf" or "text", from the file's first bytes.
    kind: Mapped[str] = mapped_column(String(10))
    #: The uploaded bytes, exactly as received.
    data: Mapped[bytes] = mapped_column(db.LargeBinary)
    #: HR's corrections, in order: [{"op", "line", "text", "to"?, "ref"?}] on the lines of the text read.
    overlay: Mapped[list] = mapped_column(db.JSON, default=list)
    #: The policy (series) it is uploaded into (null on uploads from before series: the first series).
    series_id: Mapped[int | None] = mapped_column(ForeignKey("policy_series.id"), default=_first_series)
    #: Who uploaded it first.
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: When it was first uploaded, UTC.
    created_at: Mapped[datetime]
    #: When it was last uploaded or corrected, UTC.
    updated_at: Mapped[datetime]
