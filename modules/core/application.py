"""The app's class: Flask, whose heavy setup is finished once, before the app is first used (issue 16)."""

import threading
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo
from flask.ctx import AppContext, RequestContext


class Commands(AppGroup):
    """The app's commands (`app.cli`), listed without finishing the app's setup."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands' names. Listing them (`flask --help`) needs no models or blueprints, so an app context
        that does not finish the setup is held open while click reads each command's short help: Flask's CLI
        pushes a context (which would finish it) only when none of this app is active (flask/cli.py)."""
        info = ctx.find_object(ScriptInfo)
        if info is not None and not current_app:
            app = info.load_app()
            if isinstance(app, PolicyPass):
                ctx.with_resource(app.bare_context())
        return super().list_commands(ctx)


class PolicyPass(Flask):
    """Flask, whose heavy setup (models, blueprints, wiring) is finished once, before the app is first used.

    `create_app` leaves it to `finish_setup`, which every app context (so every request, test client and CLI
    command) calls first, so `flask --help`, which only lists the commands, never pays for it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cli = Commands(self.name)
        self._setup: Callable[[Flask], None] | None = None
        self._setup_lock = threading.RLock()
        self._setting_up = False

    def set_up_later(self, setup: Callable[[Flask], None]) -> None:
        """Run `setup(app)` once, when the app is first used (or `finish_setup` is called)."""
        self._setup = setup

    def finish_setup(self) -> "PolicyPass":
        """Finish the setup now if it is not done yet (once, whichever thread asks first); returns the app."""
        if self._setup is None:
            return self
        with self._setup_lock:
            if self._setup is None or self._setting_up:  # done by another thread, or asked again from within it
                return self
            self._setting_up = True
            try:
                self._setup(self)
                self._setup = None
            finally:
                self._setting_up = False
        return self

    def app_context(self) -> AppContext:
        """An app context, the setup finished first."""
        self.finish_setup()
        return super().app_context()

    def request_context(self, environ) -> RequestContext:
        """A request context (which pushes an app context), the setup finished first, before the URL map is read."""
        self.finish_setup()
        return super().request_context(environ)

    def bare_context(self) -> AppContext:
        """An app context that does not finish the setup: for `create_app` itself and for listing the commands."""
        return super().app_context()
