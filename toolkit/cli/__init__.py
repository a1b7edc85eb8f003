"""The ``toolkit`` command line: a click group whose commands are thin layers over the library.

Commands are imported lazily, by name, so that ``toolkit validate`` never pays for torch.
To add a command, add its ``name: (module, attribute)`` to ``COMMANDS``.
"""

import importlib
import random
import sys
from typing import Dict, Tuple

import click

from toolkit import __version__
from toolkit.utils.errors import ToolkitError
from toolkit.utils.logging import setup_logging

COMMANDS: Dict[str, Tuple[str, str]] = {
    "prepare": ("toolkit.cli.prepare", "prepare"),
    "corpus": ("toolkit.cli.corpus", "corpus"),
    "validate": ("toolkit.cli.validate", "validate"),
    "score": ("toolkit.cli.score", "score"),
    "transcribe": ("toolkit.cli.transcribe", "transcribe"),
    "extract": ("toolkit.cli.extract", "extract"),
    "train": ("toolkit.cli.train", "train"),
    "probe": ("toolkit.cli.probe", "probe"),
    "ensemble": ("toolkit.cli.ensemble", "ensemble"),
    "export": ("toolkit.cli.predict", "export"),
    "predict": ("toolkit.cli.predict", "predict"),
}

#: Commands that never use numpy: they skip importing it for seeding (about half of their start-up).
NUMPY_FREE_COMMANDS = {"validate"}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used or listed."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[name]
        return getattr(importlib.import_module(module_name), attribute)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ToolkitError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(__version__, prog_name="toolkit")
@click.option("--log-level", default="INFO", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
@click.option("--seed", default=42, type=int, help="Seed for Python's and numpy's random generators.")
@click.pass_context
def main(ctx: click.Context, log_level: str, seed: int) -> None:
    """Speech emotion recognition toolkit: MSP-Podcast recipes, MEDUSA ensembles, leaderboard files."""
    setup_logging(log_level)
    random.seed(seed)
    if ctx.invoked_subcommand in NUMPY_FREE_COMMANDS:
        return
    import numpy

    numpy.random.seed(seed)
