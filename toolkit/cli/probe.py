"""``toolkit probe``: a linear-probe baseline over the streams of a training config (a thin layer over toolkit.probes)."""

from pathlib import Path

import click


def _grid(text: str) -> list:
    try:
        values = [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r}: give comma-separated numbers, e.g. 0.01,0.1,1") from None
    if not values or min(values) <= 0:
        raise click.BadParameter(f"{text!r}: give one or more positive numbers")
    return values


@click.command(context_settings={"show_default": True})
@click.argument("config_path", metavar="CONFIG.yaml", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--exp-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where the probe and its predictions go, e.g. exp/<tag>/probes/<streams>.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config key, e.g. --set data.streams=[fbank,minilm]. Repeatable.")
@click.option("--c-grid", default="0.001,0.003,0.01,0.03,0.1,0.3,1",
              help="Inverse regularisation strengths of the logistic regression; the best Development Macro-F1 wins.")
@click.option("--alpha-grid", default="1,10,100,1000,10000",
              help="Ridge penalties of the attribute regression; the best Development mean CCC wins.")
@click.option("--extend-grids/--fixed-grids", default=True,
              help="When the best C or alpha is at an end of its grid, go on past that end until it is not "
                   "(C within 1e-5..10, alpha within 0.01..1e6); --fixed-grids keeps the grids as given.")
def probe(config_path: Path, exp_dir: Path, overrides, c_grid: str, alpha_grid: str, extend_grids: bool) -> None:
    """Fit a linear probe on mean+std pooled features of the config's streams (the EmoBox/SUPERB baseline).

    Writes EXP_DIR/probe.npz, probe.json and predictions/<split>.csv in the member format.
    """
    from toolkit.probes.run import run_probe
    from toolkit.training.config import load_config

    config = load_config(config_path, overrides)
    result = run_probe(config, exp_dir, _grid(c_grid), _grid(alpha_grid), extend_grids)
    click.echo(f"probe over {'+'.join(config.data.streams)}: Development Macro-F1 {result.dev_macro_f1:.4f} "
               f"(C={result.C:g}, alpha={result.alpha:g}); predictions in {result.exp_dir / 'predictions'}")
