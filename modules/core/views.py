"""Service-wide routes: health check, and the hub page of each navigation group."""

from flask import Blueprint, abort, jsonify, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from modules.core.extensions import db, limiter
from modules.core.navigation import find_group, usable_items

bp = Blueprint("core", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """200 when the app and its database answer."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means unhealthy
        return jsonify(status="database unavailable"), 503
    return jsonify(status="ok")


@bp.get("/tools/<group>")
@login_required
def tools(group: str):
    """A navigation group's hub: every entry of the group the person may use, each with its hint."""
    found = find_group(group)
    if found is None:
        abort(404)
    items = [{"label": item.label, "hint": item.hint, "href": url_for(item.endpoint)} for item in usable_items(group)]
    if not items:
        abort(403)
    return render_template("core/tools.html", group=found, items=items, trust=current_user.trust)
