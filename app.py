"""PolicyPass application factory."""

from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from modules.core import web
from modules.core.config import ConfigError, load_config
from modules.core.database import configure_sqlite, read_before_requests, track_writes
from modules.core.extensions import csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI commands, error pages and the wiring."""
    from modules.wiring import wire

    settings = load_config(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"], template_folder=str(ROOT / "templates"),
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
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)

    web.init_app(app)
    _register_blueprints(app)
    _init_metrics(app)
    read_before_requests(app)  # after every blueprint's hooks are in place
    _register_cli(app)
    wire(app)  # every signal to its receivers, in the order of the walk (modules/wiring.py)
    if app.config["PROXY_FIX_HOPS"]:
        hops = int(app.config["PROXY_FIX_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if app.config["POLICYPASS_ENV"] == "production" and not app.config["DEMO_SERVER"]:
        _refuse_demo_accounts(app)
    return app


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


def _register_cli(app: Flask) -> None:
    from demo.cli import demo_cli  # the command only: it refuses in production before loading any demo data
    from modules.access.cli import access_cli
    from modules.assessments.cli import quizzes_cli
    from modules.certificates.cli import certificates_cli
    from modules.evidence.cli import ledger_cli
    from modules.lti.cli import lti_cli
    from modules.notifications.cli import notifications_cli
    from modules.operations.cli import (
        backup_command,
        check_command,
        erase_command,
        legal_hold_cli,
        restore_command,
        restore_drill_command,
        retention_cli,
        sar_command,
    )
    from modules.people.cli import people_cli
    from modules.platform.cli import trust_cli
    from modules.policies.cli import content_cli, policy_cli
    from modules.tracking.cli import reminders_cli, tracking_cli

    for group in (demo_cli, content_cli, policy_cli, quizzes_cli):
        app.cli.add_command(group)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(certificates_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(access_cli)
    app.cli.add_command(people_cli)
    app.cli.add_command(tracking_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(lti_cli)
    app.cli.add_command(trust_cli)
    for command in (backup_command, restore_command, restore_drill_command, check_command, sar_command,
                    erase_command, retention_cli, legal_hold_cli):
        app.cli.add_command(command)
