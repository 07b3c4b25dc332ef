"""Flask extensions, created unbound and bound in create_app with init_app."""

from functools import cached_property

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from modules.core.cli import LazyCommand

#: Constraint names are fixed so Alembic batch migrations can find them on SQLite.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base shared by every model."""

    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)


class _MigrateSettings:
    """What Flask-Migrate keeps in app.extensions["migrate"], without importing it (and Alembic, 0.5 s)."""

    def __init__(self, db, directory: str, options: dict):
        self.db = db
        self.directory = str(directory)
        #: Passed to Alembic's context.configure by migrations/env.py.
        self.configure_args = dict(options)

    @cached_property
    def migrate(self):
        """The Flask-Migrate object, made (and Alembic imported) when a migration command first needs it."""
        from flask_migrate import Migrate

        return Migrate(db=self.db, directory=self.directory, **self.configure_args)

    @property
    def metadata(self):
        """The models' metadata (older env.py scripts read it here)."""
        return self.db.metadata


class LazyMigrate:
    """Flask-Migrate bound with init_app like the real extension, but importing nothing until used."""

    def __init__(self, **options):
        self.options = options

    def init_app(self, app, db, directory: str) -> None:
        """Record the settings the migration commands (and `flask_migrate.upgrade()`) read; add `flask db`."""
        app.extensions["migrate"] = _MigrateSettings(db, directory, self.options)
        # `flask db …`: Flask-Migrate's command group, imported only when it runs, so other commands start fast.
        app.cli.add_command(LazyCommand("db", "flask_migrate.cli:db", "Perform database migrations."))


migrate = LazyMigrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
