"""HR dashboards, drill-down, exports and evidence packs."""

from flask import Blueprint

import modules.tracking.receivers  # noqa: F401  (connects assignment completion to acknowledgements)
from modules.tracking import models as _models  # noqa: F401  (the assignment table, for every app)

bp = Blueprint("tracking", __name__)
