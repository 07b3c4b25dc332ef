"""LTI 1.3: the platforms (LMSs) a trust registered, who launched from them, and the scores owed back to them."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modules.core.extensions import db
from modules.people.models import Academy, Trust, User


class LtiPlatform(db.Model):
    """An LMS registered by a trust: the values its administrator gave us for this tool."""

    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust whose staff launch from it (its people are matched and provisioned into this trust only).
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: A name for the trust administrator, e.g. "Moodle (staff CPD)".
    name: Mapped[str] = mapped_column(String(200))
    #: The platform's issuer (`iss`), e.g. "https://moodle.example.org".
    issuer: Mapped[str] = mapped_column(String(400))
    #: The client id the platform gave this tool (the `aud` of its launches).
    client_id: Mapped[str] = mapped_column(String(200))
    #: The platform's OIDC authentication request URL.
    auth_login_url: Mapped[str] = mapped_column(String(400))
    #: The platform's OAuth 2 access token URL (for grade pass-back and roster sync).
    auth_token_url: Mapped[str] = mapped_column(String(400))
    #: The platform's public keyset (JWKS) URL.
    key_set_url: Mapped[str] = mapped_column(String(400))
    #: Deployment ids accepted from this platform (a launch naming another is refused).
    deployment_ids: Mapped[list] = mapped_column(JSON, default=list)
    #: Where people first seen through this platform are placed; null means the central team.
    academy_id: Mapped[int | None] = mapped_column(ForeignKey("academy.id"))
    #: When it was registered, UTC.
    created_at: Mapped[datetime]

    trust: Mapped[Trust] = relationship()
    academy: Mapped[Academy | None] = relationship()


class LtiAccount(db.Model):
    """A person as one platform knows them: its stable `sub`, matched to a PolicyPass user of the same trust."""

    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The platform that names them.
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"), index=True)
    #: The platform's user id (the launch's `sub`).
    sub: Mapped[str] = mapped_column(String(255))
    #: The PolicyPass person.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: When first matched, UTC.
    created_at: Mapped[datetime]

    user: Mapped[User] = relationship()


class LtiLogin(db.Model):
    """An OIDC login started by a platform: its state and nonce, usable once and for a few minutes."""

    #: sha256 of the state sent to the platform.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: The platform that started it.
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"), index=True)
    #: The nonce the id_token must carry.
    nonce: Mapped[str] = mapped_column(String(100))
    #: When it stops being accepted, UTC.
    expires_at: Mapped[datetime] = mapped_column(index=True)
    #: When a launch used it, UTC; a second launch with it is a replay and is refused.
    used_at: Mapped[datetime | None]


class LtiCourse(db.Model):
    """A course (LTI context) the tool was launched from, with its roster service when the platform gave one."""

    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The platform it is on.
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"), index=True)
    #: The platform's context id.
    context_id: Mapped[str] = mapped_column(String(255))
    #: The course's title as the platform gave it.
    title: Mapped[str] = mapped_column(String(300), default="")
    #: Names and Role Provisioning Services: the course's membership URL.
    memberships_url: Mapped[str | None] = mapped_column(String(400))
    #: When a launch last came from it, UTC.
    seen_at: Mapped[datetime]

    platform: Mapped[LtiPlatform] = relationship()


class LtiGradeLink(db.Model):
    """A platform line item a person was launched into: where their completion is reported."""

    __table_args__ = (UniqueConstraint("account_id", "lineitem_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who (as that platform knows them).
    account_id: Mapped[int] = mapped_column(ForeignKey("lti_account.id", ondelete="CASCADE"), index=True)
    #: The line item's URL (scores are posted to it + "/scores").
    lineitem_url: Mapped[str] = mapped_column(String(400))
    #: The AGS scopes the platform granted in the launch.
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    #: When last launched, UTC.
    seen_at: Mapped[datetime]

    account: Mapped[LtiAccount] = relationship()


class LtiScore(db.Model):
    """A score owed to a platform for one acknowledgement: an outbox row, sent by the worker, at most once."""

    __table_args__ = (UniqueConstraint("link_id", "acknowledgement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The line item it goes to.
    link_id: Mapped[int] = mapped_column(ForeignKey("lti_grade_link.id", ondelete="CASCADE"), index=True)
    #: The acknowledgement it reports (the quiz score it rests on).
    acknowledgement_id: Mapped[int] = mapped_column(ForeignKey("acknowledgement.id"), index=True)
    #: The quiz score in per cent (scoreGiven; scoreMaximum is 100).
    score: Mapped[int]
    #: pending → sending → sent, or failed after LTI_SCORE_MAX_ATTEMPTS tries.
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    #: Tries so far.
    attempts: Mapped[int] = mapped_column(default=0)
    #: The last error, for the operator.
    last_error: Mapped[str | None] = mapped_column(Text)
    #: When it was owed (the acknowledgement's time), UTC; sent as the score's timestamp.
    created_at: Mapped[datetime]
    #: Not tried again before this, UTC (backs off after a failure).
    next_try_at: Mapped[datetime]
    #: When a sender claimed it, UTC (an old claim is taken as abandoned).
    claimed_at: Mapped[datetime | None]
    #: When the platform accepted it, UTC.
    sent_at: Mapped[datetime | None]

    link: Mapped[LtiGradeLink] = relationship()
