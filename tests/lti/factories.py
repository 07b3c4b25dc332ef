"""Factories for LTI tests: a registered platform and a course seen in a launch, for a trust."""

from sqlalchemy import select

from modules.core.extensions import db
from modules.lti.models import LtiCourse, LtiPlatform
from modules.people.models import Trust
from tests.conftest import NOW


def matrix_course(slug: str) -> LtiCourse:
    """A course of a platform registered for the trust (no roster service), made once per database."""
    trust = db.session.scalar(select(Trust).where(Trust.slug == slug))
    issuer = f"https://moodle.{slug}.example"
    platform = db.session.scalar(select(LtiPlatform).where(LtiPlatform.issuer == issuer))
    if platform is None:
        db.session.commit()  # begin a fresh (writing) transaction
        platform = LtiPlatform(trust_id=trust.id, name=f"{trust.short_name} Moodle", issuer=issuer,
                               client_id="pp", auth_login_url=f"{issuer}/auth", auth_token_url=f"{issuer}/token",
                               key_set_url=f"{issuer}/jwks", deployment_ids=["1"], created_at=NOW)
        db.session.add(platform)
        db.session.flush()
        db.session.add(LtiCourse(platform_id=platform.id, context_id="c1", title=f"{trust.short_name} induction",
                                 seen_at=NOW))
        db.session.commit()
    return db.session.scalar(select(LtiCourse).where(LtiCourse.platform_id == platform.id))
