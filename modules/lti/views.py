"""LTI 1.3 routes: the tool's keyset, login initiation, launch, deep linking, and the trust administrator's
platform registration and roster sync pages."""

from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from modules.core import formview
from modules.core.capabilities import require
from modules.core.extensions import csrf, db
from modules.core.links import absolute
from modules.core.navigation import nav_item
from modules.core.timeutil import utcnow
from modules.lti import jobs, services, web
from modules.lti.errors import LaunchRefused
from modules.lti.forms import DeepLinkForm, PlatformForm, RosterApplyForm
from modules.lti.models import LtiCourse, LtiPlatform
from modules.people import security
from modules.people import services as people_services
from modules.people.auth import SEEN_KEY, SESSION_KEY
from modules.people.models import Academy
from modules.training.queries import current_version

bp = Blueprint("lti", __name__, url_prefix="/lti")
nav_item("Learning platforms", "lti.platforms", "trust:admin", order=96, group="admin",
         hint="Register the learning platforms (Moodle and others) your staff open PolicyPass from")

#: The custom parameter a deep-linked activity carries: what it opens.
TARGET = "policypass_target"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
MESSAGE_TYPE = "https://purl.imsglobal.org/spec/lti/claim/message_type"
DEPLOYMENT = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
#: How long the deep-linking choice page may wait for the LMS administrator.
DEEP_LINK_MAX_AGE = 30 * 60


@bp.record_once
def _install(state):
    state.app.session_interface = web.FramedSessionInterface()


bp.before_app_request(web.frame_framed_session)
bp.after_app_request(jobs.send_after_response)


def _refused(exc: LaunchRefused):
    """The clear 400/403 page for a refused login or launch, logged in the security log."""
    db.session.rollback()
    platform = exc.platform
    security.note_event("lti-launch", now=utcnow(), outcome="failure", target=exc.code,
                        trust_id=platform.trust_id if platform else None,
                        details={"reason": exc.code, "issuer": (platform.issuer if platform else
                                                                (request.values.get("iss") or "")[:200])})
    if platform is not None:
        web.allow_framing(platform.trust_id)
    return render_template("lti/refused.html", message=exc.message, status=exc.status), exc.status


@bp.get("/jwks")
def keyset():
    """The tool's public keys (JWKS), which platforms use to check its service tokens and deep-linking replies."""
    from modules.lti.keys import jwks

    return jsonify(jwks())


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt  # the platform starts the login (third-party initiated login); no session exists yet
def login():
    """OIDC login initiation: check the browser keeps cookies in the frame, then go to the platform."""
    from modules.lti.tool import login_platform, start_login  # the LTI libraries load on the first launch

    params = {key: request.values.get(key, "")[:2000] for key in
              ("iss", "login_hint", "target_link_uri", "lti_message_hint", "lti_deployment_id", "client_id")}
    params = {key: value for key, value in params.items() if value}
    try:
        if not request.values.get("checked") and not request.values.get("new_window"):
            platform = login_platform(params)
            web.allow_framing(platform.trust_id)
            here = url_for("lti.login")
            return render_template("lti/cookie_check.html",
                                   continue_url=here + "?" + urlencode({**params, "checked": "1"}),
                                   new_window_url=here + "?" + urlencode({**params, "new_window": "1"}))
        platform, location = start_login(params, launch_url=absolute("lti.launch"), now=utcnow())
        web.allow_framing(platform.trust_id)
    except LaunchRefused as exc:
        return _refused(exc)
    db.session.commit()
    return redirect(location)


@bp.post("/launch")
@csrf.exempt  # the platform posts the signed id_token here; the single-use state stands for the CSRF token
def launch():
    """A resource-link or deep-linking launch: verify it, then sign the person in, or offer deep linking."""
    from modules.lti.tool import Launch

    now = utcnow()
    checked = Launch(request.form, now=now)
    try:
        claims = checked.checked()
        platform = checked.platform
        web.allow_framing(platform.trust_id)
        if claims.get(MESSAGE_TYPE) == "LtiDeepLinkingRequest":
            db.session.commit()
            return _deep_link_choice(platform, claims)
        user = services.person_for_launch(platform, claims, now=now)
    except LaunchRefused as exc:
        return _refused(exc)
    account = services.account_for(platform, user)
    services.note_course(platform, claims, now=now)
    services.note_line_item(account, claims, now=now)
    token = people_services.start_session(user, now=now, method="lti", ip=request.remote_addr,
                                          user_agent=request.user_agent.string)
    security.record_event("sign-in", now=now, actor=user, target_user=user,
                          details={"method": "lti", "platform": platform.issuer})
    db.session.commit()
    session.clear()
    session[SESSION_KEY], session[SEEN_KEY], session[web.FRAME_KEY] = token, now.isoformat(), platform.trust_id
    login_user(user)
    return redirect(_target_url(user, claims))


def _target_url(user, claims: dict) -> str:
    """Where a launch opens: the training, one module, or the quiz (the deep-linked activity's choice)."""
    custom = claims.get("https://purl.imsglobal.org/spec/lti/claim/custom") or {}
    target = str(custom.get(TARGET) or "training") if isinstance(custom, dict) else "training"
    if target == "quiz":
        return url_for("assessments.quiz_home")
    if target.startswith("module-") and target[7:].isdigit():
        version = current_version(user.trust_id)
        if version and any(s.id == int(target[7:]) for s in version.sections):
            return url_for("training.module", section_id=int(target[7:]))
    return url_for("training.home")


# ---- deep linking -----------------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="policypass-lti-deep-link")


def _choices(trust_id: int) -> list[tuple[str, str]]:
    version = current_version(trust_id)
    items = [("training", "The social media policy training (every module, the quiz and the acknowledgement)"),
             ("quiz", "The quiz only")]
    if version:
        items += [(f"module-{s.id}", f"Module: {s.number} {s.title}".strip()) for s in version.sections]
    return items


def _deep_link_choice(platform: LtiPlatform, claims: dict):
    settings = claims.get(DL_CLAIM) or {}
    if not isinstance(settings, dict) or not settings.get("deep_link_return_url"):
        raise LaunchRefused(400, "deep-link-settings", "The platform asked to add PolicyPass to a course but did "
                            "not say where to send the choice back.", platform)
    token = _serializer().dumps({"platform": platform.id, "deployment": claims.get(DEPLOYMENT),
                                 "settings": {"deep_link_return_url": settings["deep_link_return_url"],
                                              "data": settings.get("data")}})
    form = DeepLinkForm(formdata=None, launch=token)
    form.item.choices = _choices(platform.trust_id)
    return render_template("lti/deep_link.html", form=form, platform=platform)


@bp.post("/deep-link")
@csrf.exempt  # framed, maybe without cookies: the signed launch token (30 minutes) guards it
def deep_link():
    """The LMS administrator's choice, signed and posted back to the platform's deep-linking return URL."""
    from pylti1p3.deep_link import DeepLink
    from pylti1p3.deep_link_resource import DeepLinkResource
    from pylti1p3.lineitem import LineItem

    from modules.lti.tool import registration_for

    form = DeepLinkForm()
    try:
        carried = _serializer().loads(form.launch.data or "", max_age=DEEP_LINK_MAX_AGE)
    except BadSignature:
        return _refused(LaunchRefused(400, "deep-link-token", "This page has expired or was changed. Add "
                                      "PolicyPass to the course again from your learning platform."))
    platform = db.session.get(LtiPlatform, carried["platform"]) or abort(400)
    web.allow_framing(platform.trust_id)
    form.item.choices = _choices(platform.trust_id)
    if not form.validate():
        return render_template("lti/deep_link.html", form=form, platform=platform), 400
    labels = dict(form.item.choices)
    resource = (DeepLinkResource().set_url(absolute("lti.launch")).set_title(labels[form.item.data])
                .set_custom_params({TARGET: form.item.data}))
    if form.item.data in ("training", "quiz"):
        resource.set_lineitem(LineItem().set_score_maximum(100).set_label(labels[form.item.data][:100]))
    link = DeepLink(registration_for(platform), carried["deployment"], carried["settings"])
    jwt_value = link.get_response_jwt([resource])
    return_url = carried["settings"]["deep_link_return_url"]
    parts = urlsplit(return_url)
    g.form_action_origins = [f"{parts.scheme}://{parts.netloc}"]
    return render_template("lti/deep_link_return.html", return_url=return_url, jwt=jwt_value)


# ---- the trust administrator's pages ------------------------------------------------------------------------

def _academy_choices() -> list[tuple[str, str]]:
    academies = db.session.scalars(select(Academy).where(Academy.trust_id == current_user.trust_id)
                                   .order_by(Academy.name))
    return [("", "Central team")] + [(str(a.id), a.name) for a in academies]


@bp.route("/platforms", methods=["GET", "POST"])
@require("trust:admin")
def platforms():
    """The values to paste into the LMS, the trust's registered platforms and a form to register one."""
    form = PlatformForm()
    form.academy.choices = _academy_choices()
    if form.is_submitted():
        academy = (db.session.get(Academy, int(form.academy.data)) if form.academy.data and
                   form.academy.data.isdigit() else None)
        values = services.PlatformValues(
            name=(form.name.data or "").strip(), issuer=(form.issuer.data or "").strip().rstrip("/"),
            client_id=(form.client_id.data or "").strip(), auth_login_url=(form.auth_login_url.data or "").strip(),
            auth_token_url=(form.auth_token_url.data or "").strip(),
            key_set_url=(form.key_set_url.data or "").strip(),
            deployment_ids=tuple((form.deployment_ids.data or "").splitlines()))
        outcome = formview.submit(form, lambda: _register(values, academy), refusals=services.RegistrationError)
        if outcome.done:
            flash(f"{outcome.result.name} is registered. Launches from it now open PolicyPass.", "success")
            return redirect(url_for("lti.platforms"))
    registered = list(db.session.scalars(select(LtiPlatform).where(LtiPlatform.trust_id == current_user.trust_id)
                                         .order_by(LtiPlatform.created_at)))
    courses = list(db.session.scalars(select(LtiCourse).join(LtiPlatform).where(
        LtiPlatform.trust_id == current_user.trust_id).order_by(LtiCourse.title)))
    status = 400 if form.errors else 200
    return render_template("lti/platforms.html", form=form, platforms=registered, courses=courses,
                           tool={"login": absolute("lti.login"), "launch": absolute("lti.launch"),
                                 "jwks": absolute("lti.keyset"), "deep_link": absolute("lti.launch")}), status


def _register(values: services.PlatformValues, academy: Academy | None):
    if academy is not None and academy.trust_id != current_user.trust_id:
        raise services.RegistrationError("Choose one of your trust's academies")
    now = utcnow()
    platform = services.register_platform(current_user.trust, values, now=now, academy=academy)
    security.record_event("lti-platform-registered", now=now, actor=current_user,
                          target=f"{platform.issuer} ({platform.client_id})")
    return platform


def _course_or_404(course_id: int) -> LtiCourse:
    course = db.session.get(LtiCourse, course_id)
    if course is None or course.platform.trust_id != current_user.trust_id:
        abort(404)
    return course


@bp.route("/courses/<int:course_id>/roster", methods=["GET", "POST"])
@login_required
def roster(course_id: int):
    """Preview the course's roster as a staff import (GET), then apply what was previewed (POST)."""
    from modules.lti.roster import RosterError, apply_roster, fetch_members, plan_roster

    course = _course_or_404(course_id)  # another trust's course is a 404 for everyone, then the capability
    if not current_user.can("trust:admin"):
        abort(403)
    form = RosterApplyForm()
    try:
        members = fetch_members(course)
        plan = plan_roster(course, members, actor=current_user)
    except RosterError as exc:
        db.session.rollback()
        return render_template("lti/roster_error.html", course=course, message=str(exc)), 400
    changed = False
    if form.is_submitted():
        if form.validate() and form.fingerprint.data == plan.fingerprint:
            now = utcnow()
            result = apply_roster(course, members, plan, now=now)
            security.record_event("lti-roster-sync", now=now, actor=current_user, target=course.title[:300],
                                  details={"created": len(result.created), "updated": result.updated,
                                           "skipped": result.skipped})
            db.session.commit()
            flash(f"Roster of {course.title} synced: {len(result.created)} new, {result.updated} updated, "
                  f"{result.unchanged} unchanged, {result.skipped} not added (errors).", "success")
            return redirect(url_for("lti.platforms"))
        changed = True
    form.fingerprint.data = plan.fingerprint
    return render_template("lti/roster.html", course=course, plan=plan, form=form, changed=changed)
