"""``toolkit train``: MEDUSA stage 1 or 2 of one DeepSER member (a thin layer over toolkit.training)."""

import os
from pathlib import Path

import click


@click.command(context_settings={"show_default": True})
@click.argument("config_path", metavar="CONFIG.yaml", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--exp-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Experiment directory of this member (checkpoints, metrics, predictions).")
@click.option("--medusa-stage", type=click.IntRange(1, 2), default=1,
              help="1: full training data, class-weighted; 2: balanced subsets from stage 1's best checkpoint.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config key, e.g. --set stage1.lr=3e-5 --set data.streams=[wavlm_large]. Repeatable.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last checkpoint.")
@click.option("--device", default="auto", help="auto, cpu, cuda or cuda:N (under torchrun: one GPU per process).")
@click.option("--predict-train", is_flag=True, help="Also write predictions for the training split.")
@click.option("--stop-after-steps", type=click.IntRange(min=1), default=None,
              help="End cleanly after this many optimizer steps (wall-clock-limited jobs); resume later.")
def train(config_path: Path, exp_dir: Path, medusa_stage: int, overrides, resume: bool, device: str,
          predict_train: bool, stop_after_steps) -> None:
    """Train one DeepSER member (MEDUSA stage 1 or 2) from CONFIG.yaml.

    Writes EXP_DIR/best.pt (the selected checkpoint), EXP_DIR/predictions/<split>.csv,
    EXP_DIR/metrics.csv and metrics.png, and EXP_DIR/config.yaml. Run it under
    `torchrun --nproc_per_node N` for multi-GPU training (batch size is per process).
    """
    from toolkit.training.config import load_config
    from toolkit.training.trainer import train_member

    config = load_config(config_path, overrides)
    result = train_member(config, exp_dir, medusa_stage, resume=resume, device=device,
                          predict_train=predict_train, stop_after_steps=stop_after_steps)
    if os.environ.get("RANK", "0") != "0":
        return
    state = "finished" if result.finished else "stopped (continue with --resume)"
    click.echo(f"stage {result.stage} {state}: best Development Macro-F1 {result.best_macro_f1:.4f} "
               f"(epoch {result.best_epoch}); selected checkpoint {result.exp_dir / 'best.pt'}")
