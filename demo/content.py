"""The demo's invented earlier policy versions (demo/versions.yaml), loaded before the real content."""

from datetime import datetime
from pathlib import Path

import yaml

from modules.policies.services import ContentError, SyncReport, sync_content

DEMO_DIR = Path(__file__).resolve().parent


def earlier_versions() -> dict[str, list[tuple[str, Path]]]:
    """Per trust slug, the invented versions to load first, as (name shown to HR, path)."""
    path = DEMO_DIR / "versions.yaml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"{path}: {exc}") from exc
    return {slug: [(f"demo/{item['file']}", DEMO_DIR / item["file"]) for item in items]
            for slug, items in config.items()}


def sync_demo_content(content_dir: Path, *, now: datetime, app=None) -> SyncReport:
    """`flask content sync`, with the demo's earlier versions loaded first into a trust that has none yet."""
    return sync_content(content_dir, now=now, app=app, earlier=earlier_versions())
