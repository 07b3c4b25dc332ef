"""`flask --help` lists every command without building the app's models, blueprints or wiring (issue 16); the
setup is finished, once, when the app is first used, and the commands still run."""

import importlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import click
from werkzeug.middleware.proxy_fix import ProxyFix

from app import COMMANDS, create_app
from modules.core.cli import LazyCommand
from modules.core.extensions import db
from tests.conftest import TEST_CONFIG

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).parent / "flask")
#: Every module holding commands: demo/cli.py and each package's cli.py.
CLI_MODULES = ["demo.cli", *sorted(f"modules.{path.parent.name}.cli" for path in (ROOT / "modules").glob("*/cli.py")
                                   if path.parent.name != "core")]
PROBE = ("import json, sys, runpy; sys.argv = ['flask', '--help']\n"
         "try:\n    runpy.run_module('flask', run_name='__main__')\n"
         "except SystemExit as exit:\n    code = exit.code\n"
         "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}), file=sys.stderr)\n")


def _env(tmp_path: Path, **extra) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return {**env, "FLASK_APP": "app:create_app", "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "x",
            **extra}


def _top_level_commands() -> dict[str, click.Command]:
    """Every command or group defined in a cli module that is not a subcommand of another: the full set."""
    found, nested = {}, set()
    for name in CLI_MODULES:
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if isinstance(value, click.Command):
                found[f"{name}:{attribute}"] = value
                if isinstance(value, click.Group):
                    nested.update(id(command) for command in value.commands.values())
    return {target: command for target, command in found.items() if id(command) not in nested}


def test_the_registry_names_every_command_with_its_own_help():
    """COMMANDS names each top-level command of every cli module once, under its own name and help text."""
    everything = _top_level_commands()
    assert sorted(target for _, target, _ in COMMANDS) == sorted(everything)
    for name, target, _ in COMMANDS:
        real, listed = everything[target], LazyCommand(*next(entry for entry in COMMANDS if entry[0] == name))
        assert real.name == name
        assert listed.load() is real
        for limit in (30, 45, 80, 200):
            assert listed.get_short_help_str(limit) == real.get_short_help_str(limit), name


def test_flask_help_lists_every_command_without_importing_the_app_setup(tmp_path):
    """The real `flask --help`: every command with its help, and no model, view, cli module or wiring imported."""
    listing = subprocess.run([FLASK, "--help"], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True,
                             check=True).stdout
    listed = dict(line.strip().split(None, 1) for line in listing.split("Commands:\n", 1)[1].splitlines()
                  if line.startswith("  ") and not line.startswith("   "))
    assert sorted(listed) == sorted([name for name, _, _ in COMMANDS] + ["db", "limiter", "routes", "run", "shell"])
    for name, target, _ in COMMANDS:
        module, _, attribute = target.partition(":")
        whole = getattr(importlib.import_module(module), attribute).get_short_help_str(1000)
        assert len(listed[name]) > 10 and whole.startswith(listed[name].removesuffix("...")), name

    probe = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=_env(tmp_path), capture_output=True,
                           text=True, check=True)
    report = json.loads(probe.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None)
    ours = [name for name in report["modules"] if name.split(".")[0] in ("modules", "demo")]
    setup = [name for name in ours if name == "modules.wiring" or name.endswith((".models", ".views", ".cli"))]
    assert setup == ["modules.core.cli"], setup
    assert not {"flask_migrate", "alembic"} & set(report["modules"])


def test_a_command_runs_the_setup_first(db_url, tmp_path):
    """Real commands, from a fresh process, on a loaded database: `flask routes` lists every route and
    `flask ledger verify` passes."""
    env = _env(tmp_path, DATABASE_URL=db_url)
    routes = subprocess.run([FLASK, "routes"], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    app = create_app({**TEST_CONFIG, "INSTANCE_PATH": str(tmp_path / "other")}).finish_setup()
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert len(endpoints) > 100
    assert all(f"{endpoint} " in routes for endpoint in endpoints)
    verify = subprocess.run([FLASK, "ledger", "verify"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_the_setup_is_finished_once_before_the_app_is_first_used(db_url, tmp_path):
    """A new app has no blueprints until it is used (an app context, a request, a command); then it has them all,
    set up once however many threads ask at the same time."""
    os.environ["DATABASE_URL"] = db_url
    try:
        fresh = create_app({**TEST_CONFIG, "INSTANCE_PATH": str(tmp_path / "a")})
        requested = create_app({**TEST_CONFIG, "INSTANCE_PATH": str(tmp_path / "b")})
        commanded = create_app({**TEST_CONFIG, "INSTANCE_PATH": str(tmp_path / "c")})
    finally:
        os.environ.pop("DATABASE_URL", None)
    assert [rule.endpoint for rule in fresh.url_map.iter_rules()] == ["static"]

    threads = [threading.Thread(target=fresh.app_context) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rules = sorted(str(rule) for rule in fresh.url_map.iter_rules())
    reference = create_app({**TEST_CONFIG, "INSTANCE_PATH": str(tmp_path / "d")}).finish_setup()
    assert len(rules) > 100 and rules == sorted(str(rule) for rule in reference.url_map.iter_rules())
    with fresh.app_context():
        assert sorted(str(rule) for rule in fresh.url_map.iter_rules()) == rules

    assert requested.test_client().get("/").status_code != 404  # a request finishes it first

    os.environ["DATABASE_URL"] = db_url
    try:
        proxied = create_app({**TEST_CONFIG, "INSTANCE_PATH": str(tmp_path / "e"), "PROXY_FIX_HOPS": 1})
    finally:
        os.environ.pop("DATABASE_URL", None)
    assert isinstance(proxied.wsgi_app, ProxyFix)  # before setup: the first request enters through it

    result = commanded.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    with commanded.app_context():
        db.session.remove()
        db.engine.dispose()
