"""The bank loader run by `flask content sync` (connected to policies' `content_synced` in modules/wiring.py)."""

from pathlib import Path

from modules.assessments.services import sync_banks


def load_quiz_banks(sender, *, content_dir: Path, now, **_extra) -> None:
    """Load quizzes/<slug>.yaml in the sync's transaction; a bank problem raises ContentError and aborts it."""
    config = getattr(sender, "config", None) or {}
    quizzes_dir = Path(config.get("QUIZZES_DIR") or Path(content_dir).parent / "quizzes")
    sync_banks(quizzes_dir, now=now)
