"""Course roster sync (Names and Role Provisioning Services): the course's members become a staff list that
goes through the CSV staff import's own checks (modules/people/importer.py) — preview, then apply.

Each active member is a row: name and email from the platform, the platform's academy, the trust's LMS role
(trust.rules.lti.learner_role), and — only when the trust says so (trust.rules.lti.instructor_line_manages) —
the course's one Instructor as the line manager of its Learners. A member with no email, a bad one or one
used in another trust is shown as a row with errors and never applied, exactly as in a CSV file.
"""

import csv
import io
from datetime import datetime

import requests
from pylti1p3.exception import LtiException
from pylti1p3.names_roles import NamesRolesProvisioningService
from sqlalchemy import select

from modules.core.extensions import db
from modules.lti.models import LtiAccount, LtiCourse
from modules.lti.tool import service_connector
from modules.people.importer import ImportFileError, ImportPlan, apply_import, plan_import
from modules.people.models import User
from modules.people.services import normalise_email

INSTRUCTOR = "Instructor"


class RosterError(ValueError):
    """The roster could not be fetched or read; the message says why, for the trust administrator."""


def fetch_members(course: LtiCourse) -> list[dict]:
    """The course's members from the platform (every page); RosterError when the platform will not say."""
    if not course.memberships_url:
        raise RosterError("The platform did not offer this course's roster (Names and Role Provisioning "
                          "Services) in its launches. Turn the service on for PolicyPass in the platform, then "
                          "open PolicyPass from the course once as a teacher.")
    service = NamesRolesProvisioningService(service_connector(course.platform),
                                            {"context_memberships_url": course.memberships_url})
    try:
        return [m for m in service.get_members() if isinstance(m, dict)]
    except (LtiException, requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise RosterError(f"The platform did not give the course's roster ({type(exc).__name__}). Check the "
                          "platform is reachable and PolicyPass may read rosters there, then try again.") from exc


def _is_instructor(member: dict) -> bool:
    return any(str(role).split("#")[-1].split("/")[-1] == INSTRUCTOR for role in member.get("roles") or [])


def roster_csv(course: LtiCourse, members: list[dict]) -> bytes:
    """The members as a staff-import CSV (the same columns HR would upload)."""
    trust = course.platform.trust
    rules = trust.rules.lti
    active = [m for m in members if (m.get("status") or "Active") == "Active"]
    instructors = [m for m in active if _is_instructor(m)]
    manager = (normalise_email(str(instructors[0].get("email") or ""))
               if rules.instructor_line_manages and len(instructors) == 1 else "")
    academy = course.platform.academy.slug if course.platform.academy else ""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Name", "Email", "Academy", "Line manager email", "Roles"])
    for member in active:
        name = str(member.get("name") or " ".join(
            f"{member.get('given_name') or ''} {member.get('family_name') or ''}".split()))
        writer.writerow([name, str(member.get("email") or ""), academy,
                         "" if _is_instructor(member) else manager,
                         rules.learner_role if rules.learner_role != "staff" else ""])
    return out.getvalue().encode()


def plan_roster(course: LtiCourse, members: list[dict], *, actor: User) -> ImportPlan:
    """The dry run of importing the roster (never a full import: nobody is marked as a leaver)."""
    if not members:
        raise RosterError("The platform says the course has no members, so there is nothing to sync.")
    try:
        return plan_import(course.platform.trust, roster_csv(course, members), full=False, actor=actor)
    except ImportFileError as exc:
        raise RosterError(str(exc)) from exc


def apply_roster(course: LtiCourse, members: list[dict], plan: ImportPlan, *, now: datetime):
    """Apply the plan's good rows, then link each member's platform id to their person; add and flush."""
    result = apply_import(plan, now=now, confirm_leavers=False)
    platform = course.platform
    for member in members:
        sub, email = str(member.get("user_id") or ""), normalise_email(str(member.get("email") or ""))
        if not sub or not email:
            continue
        user = db.session.scalar(select(User).where(User.email == email, User.trust_id == platform.trust_id))
        known = db.session.scalar(select(LtiAccount.id).where(LtiAccount.platform_id == platform.id,
                                                              LtiAccount.sub == sub))
        if user is not None and known is None:
            db.session.add(LtiAccount(platform_id=platform.id, sub=sub[:255], user_id=user.id, created_at=now))
    db.session.flush()
    return result
