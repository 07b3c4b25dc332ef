"""Fresh databases and apps for the battery, and the figures every part returns."""

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from modules.core.extensions import db
from tests.conftest import TEST_CONFIG, FreshContextClient, _build, _pg_recreate, _pg_url

#: The battery's app: the tests' configuration (cheap argon2, the suite's clock) without the sign-in rate
#: limit, which every request here would share (one address), and without CSRF for the matrix's POSTs
#: (CSRF itself is tried by inputs.py on an app that has it).
BATTERY_CONFIG = {**TEST_CONFIG, "RATELIMIT_ENABLED": False}


@dataclass
class Row:
    """One line of a part's table: what was tried, how many times, and how many went wrong (must be 0)."""

    what: str
    tried: int
    bad: int
    bad_label: str = "found"
    note: str = ""


@dataclass
class Part:
    """A part's figures for one backend, and the findings behind any non-zero count."""

    title: str
    backend: str
    rows: list[Row] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    #: Facts worth knowing that are not problems (they do not fail the battery).
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, what: str, tried: int, bad: int, bad_label: str = "found", note: str = "") -> Row:
        """Add a row and return it."""
        row = Row(what, tried, bad, bad_label, note)
        self.rows.append(row)
        return row

    @property
    def bad(self) -> int:
        """Everything that went wrong in this part."""
        return sum(row.bad for row in self.rows)


@dataclass
class Database:
    """A fresh demo database: its URL and the instance folder its app uses."""

    backend: str
    url: str
    instance: Path


#: Per backend, the database built once per process (migrated, content and demo loaded) that each part copies.
_templates: dict[str, str] = {}


def _template(backend: str, folder: Path) -> str:
    if backend not in _templates:
        instance = folder / "template-instance"
        if backend == "sqlite":
            path = folder / "template.db"
            _build(f"sqlite:///{path}", instance, with_content=True)
            _templates[backend] = str(path)
        else:
            name = f"pp_assurance_tmpl_{os.getpid()}"
            _pg_recreate(name)
            try:
                _build(_pg_url(name), instance, with_content=True)
            except BaseException:
                _drop(os.environ["TEST_DATABASE_URL"], name)  # a failed build leaves no database behind
                raise
            _templates[backend] = name
    return _templates[backend]


def drop_templates(postgres_url: str | None) -> None:
    """Drop the PostgreSQL template database this process made, if any."""
    name = _templates.pop("postgresql", None)
    _templates.pop("sqlite", None)
    if name and postgres_url:
        _drop(postgres_url, name)


def _drop(postgres_url: str, name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                             "AND pid <> pg_backend_pid()"), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    engine.dispose()


@contextlib.contextmanager
def fresh_database(backend: str, workdir: Path, postgres_url: str | None = None) -> Iterator[Database]:
    """A new database migrated to head with the content and demo people loaded (as `make setup` does): a copy
    of one built once per process. A PostgreSQL copy is dropped afterwards."""
    instance = workdir / f"instance-{backend}"
    instance.mkdir(parents=True, exist_ok=True)
    name = None
    if backend == "sqlite":
        target = workdir / "assurance.db"
        shutil.copyfile(_template(backend, workdir.parent), target)
        url = f"sqlite:///{target}"
    else:
        if not postgres_url:
            raise ValueError("the PostgreSQL run needs --postgres URL (or TEST_DATABASE_URL)")
        os.environ.setdefault("TEST_DATABASE_URL", postgres_url)
        name = f"pp_assurance_{os.getpid()}"
        _pg_recreate(name, _template(backend, workdir.parent))
        url = _pg_url(name)
    try:
        yield Database(backend, url, instance)
    finally:
        if name:
            _drop(postgres_url, name)


def make_app(database: Database, **extra):
    """The app on the database, with each test-client request in its own app context (as a server does)."""
    from app import create_app

    os.environ["DATABASE_URL"] = database.url
    try:
        app = create_app({**BATTERY_CONFIG, "INSTANCE_PATH": str(database.instance), **extra})
    finally:
        os.environ.pop("DATABASE_URL", None)
    app.test_client_class = FreshContextClient
    return app


@contextlib.contextmanager
def app_context(database: Database, **extra):
    """An app on the database with its context pushed; the session is closed and the engine disposed after."""
    app = make_app(database, **extra)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


@contextlib.contextmanager
def workdir(keep: Path | None = None) -> Iterator[Path]:
    """A scratch folder for databases, logs and servers (removed afterwards unless `keep` is given)."""
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="pp-assurance-") as folder:
        yield Path(folder)
