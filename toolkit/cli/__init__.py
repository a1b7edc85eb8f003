"""The ``toolkit`` command line: a click group whose commands are thin layers over the library.

Commands are imported lazily, by name, so that ``toolkit validate`` never pays for torch.
To add a command, add its ``name: (module, attribute)`` to ``COMMANDS``.

Start-up, before a command's module is imported: logging, then the thread counts of torch,
OpenMP and BLAS (``--num-threads``, by default this process's CPU allotment:
``toolkit.utils.threads``), then the seeds.
"""

import importlib
import random
import sys
from typing import Dict, Tuple

import click

from toolkit import __version__
from toolkit.utils.errors import ToolkitError
from toolkit.utils.logging import setup_logging
from toolkit.utils.threads import apply_threads, choose_threads

COMMANDS: Dict[str, Tuple[str, str]] = {
    "prepare": ("toolkit.cli.prepare", "prepare"),
    "corpus": ("toolkit.cli.corpus", "corpus"),
    "validate": ("toolkit.cli.validate", "validate"),
    "score": ("toolkit.cli.score", "score"),
    "compare": ("toolkit.cli.compare", "compare"),
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
        # Here rather than in ``main``: click imports the command's module before it runs the group's
        # callback, and numpy's BLAS reads its thread count once, when it is loaded.
        setup_logging(ctx.params["log_level"])
        apply_threads(choose_threads(ctx.params["num_threads"]))
        try:
            return super().invoke(ctx)
        except ToolkitError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(__version__, prog_name="toolkit")
@click.option("--log-level", default="INFO", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
@click.option("--seed", default=42, type=int, help="Seed for Python's and numpy's random generators.")
@click.option("--num-threads", type=click.IntRange(min=1), default=None,
              help="CPU threads of torch, OpenMP and BLAS. Default: the CPUs this process may use, the smallest of "
                   "its CPU affinity, SLURM_CPUS_PER_TASK, its cgroup CPU quota and OMP_NUM_THREADS.")
@click.pass_context
def main(ctx: click.Context, log_level: str, seed: int, num_threads) -> None:
    """Speech emotion recognition toolkit: MSP-Podcast recipes, MEDUSA ensembles, leaderboard files."""
    # --log-level and --num-threads took effect in LazyGroup.invoke, before the command was imported.
    random.seed(seed)
    if ctx.invoked_subcommand in NUMPY_FREE_COMMANDS:
        return
    import numpy

    numpy.random.seed(seed)
