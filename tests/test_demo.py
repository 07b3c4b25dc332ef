"""Demo data stays out of production: demo/ is read only by `flask demo seed`, which production config refuses;
`flask content sync` publishes exactly the real policies; the demo story (E-ACT's invented version 1, the
seed as a version 2 draft) still comes from `flask demo seed`."""

import builtins
import os
import pathlib
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.people.models import Trust, User
from modules.policies.models import PolicyVersion
from tests.conftest import _make_app

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"
PRODUCTION = {"POLICYPASS_ENV": "production", "PUBLIC_BASE_URL": "https://policypass.example.org", "MFA_ENFORCE": True}


@pytest.fixture
def production_app(empty_db_url, tmp_path):
    """The app under production config on a fresh, migrated, empty database."""
    app = _make_app(empty_db_url, tmp_path, PRODUCTION)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def files_read(monkeypatch) -> list[Path]:
    """Every file opened for reading while the test runs (Path.read_bytes / read_text and open)."""
    seen: list[Path] = []
    read_bytes, read_text, real_open = pathlib.Path.read_bytes, pathlib.Path.read_text, builtins.open

    def spy_bytes(self, *args, **kwargs):
        seen.append(Path(self).resolve())
        return read_bytes(self, *args, **kwargs)

    def spy_text(self, *args, **kwargs):
        seen.append(Path(self).resolve())
        return read_text(self, *args, **kwargs)

    def spy_open(file, *args, **kwargs):
        if isinstance(file, str | os.PathLike):
            seen.append(Path(file).resolve())
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "read_bytes", spy_bytes)
    monkeypatch.setattr(pathlib.Path, "read_text", spy_text)
    monkeypatch.setattr(builtins, "open", spy_open)
    return seen


def _versions(slug: str) -> list[tuple[int, str, str]]:
    return [(v.number, v.source_file, v.status) for v in db.session.scalars(
        select(PolicyVersion).join(Trust).where(Trust.slug == slug).order_by(PolicyVersion.number))]


def test_production_sync_publishes_the_real_policies_and_reads_no_demo_file(production_app, files_read):
    result = production_app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert not [path for path in files_read if path.is_relative_to(DEMO)]
    assert any(path == ROOT / "content" / "policies" / "e-act.txt" for path in files_read)  # the spy works
    db.session.expire_all()
    assert _versions("e-act") == [(1, "policies/e-act.txt", "published")]
    versions = db.session.scalars(select(PolicyVersion)).all()
    assert len(versions) == 5 and {v.status for v in versions} == {"published"}
    assert not any("demo" in v.source_file for v in versions)
    e_act = next(v for v in versions if v.source_file == "policies/e-act.txt")
    assert e_act.source_text == (ROOT / "content" / "policies" / "e-act.txt").read_text(encoding="utf-8")


def test_content_folder_holds_no_demo_file():
    import yaml

    assert not list((ROOT / "content").rglob("*demo*"))
    config = yaml.safe_load((ROOT / "content" / "trusts.yaml").read_text())
    files = [item["file"] for trust in config["trusts"] for item in trust["policy"]["versions"]]
    assert files == [f"policies/{trust['slug']}.txt" for trust in config["trusts"]]  # each trust's real policy


def test_demo_seed_refuses_under_production_config(production_app):
    production_app.test_cli_runner().invoke(args=["content", "sync"])
    result = production_app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0
    assert "refused under production config (POLICYPASS_ENV=production)" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert _versions("e-act") == [(1, "policies/e-act.txt", "published")]


def test_demo_seed_on_a_fresh_database_tells_the_readme_story(empty_app):
    """E-ACT's invented earlier version is version 1 (published); the real policy arrives as a version 2 draft."""
    result = empty_app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "e-act: demo/policies/e-act-2021-demo.txt → version 1 (published)" in result.output
    assert "e-act: policies/e-act.txt → version 2 (draft)" in result.output
    db.session.expire_all()
    assert _versions("e-act") == [(1, "demo/policies/e-act-2021-demo.txt", "published"),
                                  (2, "policies/e-act.txt", "draft")]
    assert _versions("tkat") == [(1, "policies/tkat.txt", "published")]
    # `make db` runs content sync after the seed: it changes nothing.
    again = empty_app.test_cli_runner().invoke(args=["content", "sync"])
    assert again.exit_code == 0 and "0 new versions" in again.output, again.output


def test_demo_seed_after_a_real_sync_keeps_the_real_version_one(empty_app):
    assert empty_app.test_cli_runner().invoke(args=["content", "sync"]).exit_code == 0
    result = empty_app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "not loaded: e-act: demo/policies/e-act-2021-demo.txt" in result.output
    db.session.expire_all()
    assert _versions("e-act") == [(1, "policies/e-act.txt", "published")]


def _make_db(tmp_path: Path, env: dict) -> tuple[subprocess.CompletedProcess, list[str]]:
    """`make db` with a stub flask that logs its arguments (and a venv stamp, so nothing is installed)."""
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    (stamps / "venv").touch()
    log = tmp_path / "flask.log"
    stub = tmp_path / "flask"
    stub.write_text(f'#!/usr/bin/env bash\necho "$*" >> "{log}"\n')
    stub.chmod(0o755)
    result = subprocess.run(["make", "-s", "db", f"FLASK={stub}", f"STAMPS={stamps}"], cwd=ROOT,
                            env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    return result, log.read_text().splitlines()


def test_make_db_in_production_skips_the_demo_seed_and_goes_on(tmp_path):
    result, calls = _make_db(tmp_path, {"POLICYPASS_ENV": "production"})
    assert result.returncode == 0, result.stderr
    assert calls == ["db upgrade", "content sync", "tracking assign"]
    assert "no demo data" in result.stdout


def test_make_db_elsewhere_seeds_the_demo_before_the_content_sync(tmp_path):
    result, calls = _make_db(tmp_path, {"POLICYPASS_ENV": "development"})
    assert result.returncode == 0, result.stderr
    assert calls == ["db upgrade", "demo seed", "content sync", "tracking assign"]
