"""Time helpers: UTC stored (naive, meaning UTC), Europe/London shown, dates in British style."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    """The current time in UTC, naive, as stored in the database; views pass it into services.

    The app's clock runs CLOCK_OFFSET_SECONDS ahead (0 unless configured): the test suite anchors it at its
    fixed date, so the data a test sets up and the pages it reads share one calendar whatever day it runs.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    offset = current_app.config.get("CLOCK_OFFSET_SECONDS", 0) if has_app_context() else 0
    return now + timedelta(seconds=offset) if offset else now


def format_date(value: date | datetime | None) -> str:
    """A date as "21 November 2026" (datetimes are converted to London time first)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC).astimezone(LONDON).date()
    return f"{value.day} {value:%B %Y}"


def format_datetime(value: datetime | None) -> str:
    """A stored UTC time shown in London time, e.g. "21 November 2026, 2:05pm"."""
    if value is None:
        return ""
    local = value.replace(tzinfo=UTC).astimezone(LONDON)
    hour = local.hour % 12 or 12
    return f"{format_date(local.date())}, {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"
