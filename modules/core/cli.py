"""Commands listed by name and short help, each imported only when it runs, so `flask --help` imports none."""

from importlib import import_module

import click


class LazyCommand(click.Command):
    """A command (or group) at `module:attribute`, imported when it runs or its own --help is asked for."""

    def __init__(self, name: str, target: str, help: str):
        super().__init__(name, help=help)
        self.target = target

    def load(self) -> click.Command:
        """The real command, importing its module."""
        module, _, attribute = self.target.partition(":")
        return getattr(import_module(module), attribute)

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        """The real command's context: click then invokes the real command (`sub_ctx.command`)."""
        return self.load().make_context(info_name, args, parent=parent, **extra)
