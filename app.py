"""PolicyPass application factory."""

from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from modules.core import web
from modules.core.application import PolicyPass
from modules.core.cli import LazyCommand
from modules.core.config import ConfigError, load_config
from modules.core.database import configure_sqlite, read_before_requests, track_writes
from modules.core.extensions import csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent

#: Every command group and command of the app: name, where it is (`module:attribute`, imported only when it runs)
#: and its short help for `flask --help` (tests/core/test_cli.py checks each against the command's own).
COMMANDS = (
    ("demo", "demo.cli:demo_cli", "Demo data (never in production)."),
    ("content", "modules.policies.cli:content_cli", "Load trusts, policies and quiz banks from content/ and quizzes/."),
    ("policy", "modules.policies.cli:policy_cli", "Work with policy source files."),
    ("quizzes", "modules.assessments.cli:quizzes_cli", "Draft quiz banks and check how well they cover the policies."),
    ("ledger", "modules.evidence.cli:ledger_cli", "Verify and checkpoint the per-trust evidence ledger."),
    ("certificates", "modules.certificates.cli:certificates_cli", "Certificates and their PDFs."),
    ("notifications", "modules.notifications.cli:notifications_cli", "The email outbox."),
    ("access", "modules.access.cli:access_cli", "Official accounts and the authorised-user register."),
    ("people", "modules.people.cli:people_cli", "People: change a person's roles."),
    ("tracking", "modules.tracking.cli:tracking_cli", "Assignments and deadlines."),
    ("reminders", "modules.tracking.cli:reminders_cli", "Training reminder emails."),
    ("lti", "modules.lti.cli:lti_cli", "LTI 1.3: learning platforms (LMSs) that open PolicyPass."),
    ("trust", "modules.platform.cli:trust_cli",
     "Trusts: platform administrators, new trusts, trusts.yaml export and import."),
    ("backup", "modules.operations.cli:backup_command",
     "Write a consistent backup of the database to OUT (SQLite online backup, or pg_dump -Fc)."),
    ("restore", "modules.operations.cli:restore_command",
     "Replace the database with the backup IN; refuses a database holding data unless --force."),
    ("restore-drill", "modules.operations.cli:restore_drill_command",
     "Restore IN into a scratch database, verify the ledger there against the checkpoint, then discard it."),
    ("check", "modules.operations.cli:check_command",
     "With --deploy: list every insecure production setting and exit 1 if there is any."),
    ("sar", "modules.operations.cli:sar_command",
     "Write everything held about the person with EMAIL (every table referring to them) to a ZIP."),
    ("erase", "modules.operations.cli:erase_command",
     "Erase a leaver's personal data on a lawful request; refused (and logged) under a legal hold."),
    ("retention", "modules.operations.cli:retention_cli",
     "Erase leavers' personal data once each trust's retention period has ended."),
    ("legal-hold", "modules.operations.cli:legal_hold_cli",
     "Place or lift a legal hold on a person's data (erasure is refused while one is in place)."),
)


def create_app(config: dict | None = None) -> PolicyPass:
    """Build the app: configuration, extensions, error pages and the list of CLI commands now; blueprints, metrics
    and the wiring when it is first used (`PolicyPass.finish_setup`), or now in production, for its start-up checks."""
    settings = load_config(config)
    app = PolicyPass(__name__, instance_path=settings["INSTANCE_PATH"], template_folder=str(ROOT / "templates"),
                     static_folder=str(ROOT / "static"))
    app.jinja_environment = web.TemplateEnvironment  # before anything reads app.jinja_env
    app.config.update(settings)
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(ROOT / "templates")),
        PrefixLoader({
            "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
            "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
        }),
    ])

    db.init_app(app)
    track_writes(db.session.session_factory.class_)  # so reading() can end a transaction that only read
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    with app.bare_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)

    web.init_app(app)
    for name, target, short_help in COMMANDS:
        app.cli.add_command(LazyCommand(name, target, short_help))
    app.set_up_later(_finish_setup)
    if app.config["PROXY_FIX_HOPS"]:  # now: a first request is already inside app.wsgi_app when it finishes setup
        hops = int(app.config["PROXY_FIX_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if app.config["POLICYPASS_ENV"] == "production":
        app.finish_setup()  # a server starts ready, and its start-up checks fail at start
        if not app.config["DEMO_SERVER"]:
            _refuse_demo_accounts(app)
    return app


def _finish_setup(app: Flask) -> None:
    """Blueprints, metrics, the read-only request hooks and the wiring (which imports every model)."""
    from modules.wiring import wire

    _register_blueprints(app)
    _init_metrics(app)
    read_before_requests(app)  # after every blueprint's hooks are in place
    wire(app)  # every signal to its receivers, in the order of the walk (modules/wiring.py)


def _refuse_demo_accounts(app: Flask) -> None:
    """Production on a database that holds demo accounts does not start, unless it is declared a demo server."""
    from modules.people.queries import count_demo_accounts

    with app.app_context():
        found = count_demo_accounts()
        db.session.remove()
    if found:
        raise ConfigError(
            f"The database holds {found} demo accounts (made by `flask demo seed`), so PolicyPass will not start "
            "with POLICYPASS_ENV=production: use a database that was never demo-seeded, or, for a demo server, "
            "set POLICYPASS_DEMO_SERVER=1 (demo accounts still cannot sign in under production configuration).")


def _init_metrics(app: Flask) -> None:
    """Request counts and timings, and the gauges an operator watches, at /metrics (when METRICS_TOKEN is set)."""
    from modules.core import metrics
    from modules.notifications.queries import outbox_gauge

    metrics.init_app(app, gauges=(outbox_gauge,))


def _register_blueprints(app: Flask) -> None:
    from modules.access.views import bp as access_bp
    from modules.assessments.views import bp as assessments_bp
    from modules.attestation.views import bp as attestation_bp
    from modules.certificates.hooks import bp as certificate_pdfs_bp
    from modules.certificates.views import bp as certificates_bp
    from modules.core.views import bp as core_bp
    from modules.lti.views import bp as lti_bp
    from modules.notifications.hooks import bp as notifications_bp
    from modules.operations.views import bp as privacy_bp
    from modules.people.views import account_bp, security_bp, staff_bp
    from modules.people.views import bp as people_bp
    from modules.platform.views import bp as platform_bp
    from modules.platform.views import rules_bp
    from modules.policies.views import bp as policies_bp
    from modules.tracking.views import bp as tracking_bp
    from modules.training.views import bp as training_bp

    for blueprint in (core_bp, people_bp, training_bp, assessments_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(attestation_bp)
    for blueprint in (notifications_bp, certificates_bp, certificate_pdfs_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(access_bp)
    app.register_blueprint(tracking_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(security_bp)
    app.register_blueprint(policies_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(lti_bp)
    app.register_blueprint(platform_bp)
    app.register_blueprint(rules_bp)
