"""Service-wide routes: health check."""

from flask import Blueprint, jsonify
from sqlalchemy import text

from modules.core.extensions import db, limiter

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
