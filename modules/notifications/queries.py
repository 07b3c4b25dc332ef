"""Read-only questions about the outbox."""

from sqlalchemy import func, select

from modules.core.extensions import db
from modules.notifications.models import OutboxMessage


def outbox_gauge() -> tuple[str, str, str, list[tuple[str, int]]]:
    """Outbox messages by status, as a /metrics gauge (a failed count above 0 wants an operator's look)."""
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return ("policypass_outbox_messages", "Email outbox messages by status.", "status",
            [(status, count) for status, count in rows])
