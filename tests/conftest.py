"""Test harness: migrate once per run per database, then give each test a fresh copy.

SQLite: the migrated (and content-loaded) database file is copied per test.
PostgreSQL (when TEST_DATABASE_URL is set): template databases are cloned per test with
CREATE DATABASE … TEMPLATE, which leaves the append-only triggers alone. A clone and a drop each wait on the
server's disk for 0.3–1.5 s, so a background thread clones the next test's database while this test runs and
drops the used one afterwards (_PgClones): the test itself gets a database that is already there.
"""

import itertools
import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from hypothesis import settings as hypothesis_settings
from jinja2 import BytecodeCache
from werkzeug.routing import Rule

from app import create_app
from modules.core.extensions import db

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 21, 9, 0, 0)

hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, max_examples=60)
hypothesis_settings.register_profile("dev", deadline=None, max_examples=100)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")

#: Cheap argon2 parameters for tests; test_passwords asserts the production defaults separately.
TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 8,
    "ARGON2_PARALLELISM": 1,
    "RATELIMIT_STORAGE_URI": "memory://",
    "SERVER_NAME": None,
    # The test body reads through its own long-lived session; deferred, so it never holds the write lock.
    "SQLITE_IMMEDIATE_OUTSIDE_REQUESTS": False,
    # The app's clock starts the run at NOW and then runs on, so pages (which read the clock) and the data
    # tests make with an explicit NOW agree on the date, whatever day the suite runs.
    # Demo approvers and HR would otherwise be sent to set up two-step verification before every other test;
    # tests/people/test_two_step.py and the browser walks of it turn this on.
    "MFA_ENFORCE": False,
    # A certificate's PDF is rendered in the test's own process after the view's commit (the test client does not
    # close responses, which is when "request" renders), or by the factories; tests/certificates/test_pdfs.py
    # covers "request", "worker" and "none".
    "CERTIFICATE_RENDERING": "inline",
    "CLOCK_OFFSET_SECONDS": (NOW - datetime.now(UTC).replace(tzinfo=None)).total_seconds(),
}


def backends() -> list[str]:
    """SQLite always; PostgreSQL too when TEST_DATABASE_URL is set."""
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


def _pg_url(database: str) -> str:
    return sa.engine.make_url(os.environ["TEST_DATABASE_URL"]).set(database=database).render_as_string(
        hide_password=False)


def _pg_admin():
    return sa.create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")


def _pg_recreate(name: str, template: str | None = None) -> None:
    engine = _pg_admin()
    with engine.connect() as conn:
        conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
            {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    engine.dispose()


def _build(url: str, instance: Path, with_content: bool) -> None:
    """Migrate to head (the shipped schema), optionally load content (with the demo's earlier E-ACT version, as
    `flask demo seed` does) and the demo people."""
    os.environ["DATABASE_URL"] = url
    try:
        app = create_app({**TEST_CONFIG, "INSTANCE_PATH": str(instance)})
        with app.app_context():
            upgrade()
            if with_content:
                from demo.cast import seed_all
                from demo.content import sync_demo_content
                from modules.core.timeutil import utcnow

                sync_demo_content(Path(app.config["CONTENT_DIR"]), now=utcnow(), app=app)
                seed_all(now=utcnow())
                db.session.commit()
            db.session.remove()
            db.engine.dispose()
    finally:
        os.environ.pop("DATABASE_URL", None)


def _pg_drop(name: str) -> None:
    engine = _pg_admin()
    with engine.connect() as conn:
        conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
            {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    engine.dispose()


class _PgClones:
    """Fresh clones of the PostgreSQL templates, one made ahead per template by background threads.

    `take(template)` returns a database no test has used (the spare made while the previous test ran, or a new
    clone); it queues the next spare, then the drop of the database it handed out last time (that test has ended:
    function fixtures are set up after the previous test's teardown). Names carry the pid, as before, and a counter.
    """

    def __init__(self) -> None:
        self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pg-clones")  # a clone, a drop
        self._names = (f"pp_test_{os.getpid()}_{n}" for n in itertools.count())
        self._spares: dict[str, Future] = {}
        self._handed: list[str] = []

    def _clone(self, template: str) -> str:
        name = next(self._names)
        _pg_recreate(name, template)
        return name

    def take(self, template: str) -> str:
        """A fresh clone of the template (its name)."""
        spare = self._spares.pop(template, None)
        name = spare.result() if spare is not None else self._clone(template)
        self._spares[template] = self._threads.submit(self._clone, template)
        for used in self._handed:
            self._threads.submit(_pg_drop, used)
        self._handed = [name]
        return name

    def close(self) -> None:
        """Wait for the thread and drop every clone made, spares included (before the templates are dropped)."""
        leftovers = list(self._handed)
        for spare in self._spares.values():
            try:
                leftovers.append(spare.result())
            except Exception:  # noqa: BLE001  (a failed spare left nothing to drop)
                pass
        self._threads.shutdown(wait=True)
        for name in leftovers:
            _pg_drop(name)


#: This process's clone maker (made on the first PostgreSQL test, closed with the templates).
_CLONES: _PgClones | None = None


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    """Per backend and kind ("empty" or "content"): a way to make a fresh database URL."""
    base = tmp_path_factory.mktemp("db-templates")
    made: dict[tuple[str, str], str] = {}

    def template(backend: str, kind: str) -> str:
        key = (backend, kind)
        if key not in made:
            if backend == "sqlite":
                path = base / f"{kind}.db"
                _build(f"sqlite:///{path}", base / "instance", kind == "content")
                made[key] = str(path)
            else:
                name = f"pp_tmpl_{kind}_{os.getpid()}"
                _pg_recreate(name)
                _build(_pg_url(name), base / "instance", kind == "content")
                made[key] = name
        return made[key]

    yield template
    global _CLONES
    if _CLONES is not None:
        _CLONES.close()
        _CLONES = None
    for (backend, _kind), name in made.items():
        if backend == "postgresql":
            engine = _pg_admin()
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            engine.dispose()


@pytest.fixture(params=backends())
def backend(request) -> str:
    """The database backend of this test run."""
    return request.param


def _fresh_url(backend: str, kind: str, templates, tmp_path: Path) -> str:
    template = templates(backend, kind)
    if backend == "sqlite":
        target = tmp_path / "test.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    global _CLONES
    if _CLONES is None:
        _CLONES = _PgClones()
    return _pg_url(_CLONES.take(template))


class FreshContextClient(FlaskClient):
    """Runs each request in its own app context, as a real server does.

    The fixtures keep an app context pushed for the test body; without this, requests would reuse it and
    share `g` (CSRF token, CSP nonce) and the database session across requests.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _compile_options(env) -> tuple:
    """What Jinja's compiled code depends on besides the source: syntax, autoescape, extensions, optimiser."""
    autoescape = getattr(env.autoescape, "__func__", env.autoescape)
    return (type(env), env.block_start_string, env.block_end_string, env.variable_start_string,
            env.variable_end_string, env.comment_start_string, env.comment_end_string, env.line_statement_prefix,
            env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks, env.newline_sequence,
            env.keep_trailing_newline, autoescape, tuple(sorted(env.extensions)), env.optimized,
            env.finalize is not None, env.is_async)


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates shared by every app this process makes; each test's app keeps its own environment.

    Compiling a template (lex, parse, generate Python, compile) was a fifth of a typical test's CPU, repeated for
    the same files in every test's new app. The code is kept with the source's checksum, as Jinja's own caches do,
    so a template changed on disk is compiled again.
    """

    def __init__(self) -> None:
        self._code: dict[tuple, tuple[str, object]] = {}

    def load_bytecode(self, bucket) -> None:
        """Hand the bucket the code compiled earlier from the same source under the same options, if any."""
        found = self._code.get((_compile_options(bucket.environment), bucket.key))
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket) -> None:
        """Keep the code just compiled, with its source's checksum."""
        self._code[(_compile_options(bucket.environment), bucket.key)] = (bucket.checksum, bucket.code)


_TEMPLATE_CODE = _SharedTemplateCode()

#: URL builders made so far in this process, by rule: werkzeug generates each one as Python source and compiles it,
#: 131 rules × 2 a new app, which after the templates was most of create_app's CPU in a test (~0.06–0.3 s).
_BUILDERS: dict[tuple, object] = {}
_werkzeug_compile_builder = Rule._compile_builder


def _shared_compile_builder(self: Rule, append_unknown: bool = True):
    """werkzeug's URL builder for this rule, compiled once per process.

    The function werkzeug generates depends only on the rule's text, its parsed parts, its defaults (rendered by
    their converters) and `append_unknown`; it takes the rule as an argument and has no globals or closure, so
    the same function serves every app's copy of the rule (werkzeug binds it to each rule).
    """
    defaults = tuple(sorted(
        (name, self._converters[name].to_url(value) if name in self._converters else repr(value))
        for name, value in (self.defaults or {}).items()))
    key = (append_unknown, self.rule, self.host, self.subdomain, tuple(self._trace), defaults)
    builder = _BUILDERS.get(key)
    if builder is None:
        builder = _BUILDERS[key] = _werkzeug_compile_builder(self, append_unknown)
    return builder


Rule._compile_builder = _shared_compile_builder


def _make_app(url: str, tmp_path: Path, extra: dict | None = None):
    os.environ["DATABASE_URL"] = url
    try:
        app = create_app({**TEST_CONFIG, "INSTANCE_PATH": str(tmp_path / "instance"), **(extra or {})})
    finally:
        os.environ.pop("DATABASE_URL", None)
    app.finish_setup()  # as a served app is before its first request (tests read its URL map and wiring)
    app.test_client_class = FreshContextClient
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    return app


@pytest.fixture
def app_config() -> dict:
    """Extra configuration for the app under test; override in a test module."""
    return {}


@pytest.fixture
def db_url(backend, templates, tmp_path) -> str:
    """A fresh database with the five trusts, their policies and the demo people loaded."""
    return _fresh_url(backend, "content", templates, tmp_path)


@pytest.fixture
def empty_db_url(backend, templates, tmp_path) -> str:
    """A fresh migrated database with no data."""
    return _fresh_url(backend, "empty", templates, tmp_path)


@pytest.fixture
def app(db_url, tmp_path, app_config):
    """The app on a fresh content-loaded database."""
    app = _make_app(db_url, tmp_path, app_config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def empty_app(empty_db_url, tmp_path, app_config):
    """The app on a fresh, migrated, empty database."""
    app = _make_app(empty_db_url, tmp_path, app_config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client for the content-loaded app."""
    return app.test_client()


@pytest.fixture
def now() -> datetime:
    """The fixed 'now' that tests pass into services."""
    return NOW


def demo_email(local: str, slug: str) -> str:
    """A demo person's email, e.g. demo_email("staff", "tkat")."""
    from demo.cast import demo_email as make

    class _T:
        pass

    trust = _T()
    trust.slug = slug
    return make(local, trust)


@pytest.fixture
def login(client):
    """Sign a demo person in through the real sign-in form: login("staff", "tkat")."""
    from tests.helpers import sign_in

    def do(local: str, slug: str, c=None):
        return sign_in(c or client, demo_email(local, slug))

    return do
