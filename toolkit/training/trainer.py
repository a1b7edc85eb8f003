"""MEDUSA stages 1 and 2 for one DeepSER member (DESIGN-NOTES §4).

Stage 1 trains on the whole training split (X/O rows through their soft labels) with
class-weighted soft cross-entropy plus the attribute loss and Manifold MixUp. Stage 2
continues from stage 1's best checkpoint on class-balanced subsets re-drawn every epoch,
with unweighted loss and a lower learning rate. Both select and stop early on Development
Macro-F1 over the classes of the corpus's inventory (the training manifest's soft-label
columns, ``toolkit.data.inventory``; the challenge's 8 for MSP-Podcast); with
``train.ema_decay``, the weights evaluated, selected and saved are a moving average of the trained ones.

Reads the manifests and feature stores named by the config; writes into the experiment
directory the files listed in ``toolkit.training.checkpoint`` (resumable checkpoints, best
checkpoints, ``metrics.csv``/``metrics.png``, ``config.yaml``, ``predictions/<split>.csv``) and
done markers ``.stage1.done`` / ``.stage2.done``. Runs in one process or under torchrun (DDP).
"""

import logging
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from toolkit.data.inventory import read_inventory
from toolkit.emotions import ATTRIBUTES
from toolkit.metrics import attribute_ccc, macro_f1, per_class_f1
from toolkit.predictions import write_predictions
from toolkit.training.checkpoint import (
    model_payload,
    payload_inventory,
    read_checkpoint,
    remove_stale_temporaries,
    save_checkpoint,
    stored_config,
)
from toolkit.training.config import TrainingConfig
from toolkit.training.dataset import (
    FeatureDataset,
    SplitData,
    balanced_subset,
    bucket_batches,
    check_classes_present,
    collate,
    eval_batches,
    load_split,
    manifest_path,
    stream_specs,
)
from toolkit.training.distributed import (
    DistContext,
    barrier,
    broadcast_object,
    gather_objects,
    init_distributed,
    rank_batches,
    shutdown,
)
from toolkit.training.history import plot_metrics, read_metrics, write_metrics
from toolkit.utils.atomic import PathLike, atomic_path, atomic_write_text, is_done, mark_done
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)


@dataclass
class RunState:
    """Everything besides weights and optimizer that a resumed run needs."""

    epoch: int = 0                 # epochs finished in this stage
    batch_in_epoch: int = 0        # batches of the current epoch already trained (this process's share)
    global_step: int = 0           # optimizer steps in this stage
    best_score: float = -1.0
    best_epoch: int = 0
    bad_epochs: int = 0
    history: List[Dict] = field(default_factory=list)
    epoch_sums: Dict[str, float] = field(default_factory=dict)


@dataclass
class TrainResult:
    exp_dir: Path
    stage: int
    best_macro_f1: float
    best_epoch: int
    finished: bool


def _seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _loader(dataset: FeatureDataset, batches: List[List[int]], num_workers: int):
    """Yield collated batches; a DataLoader worker's ToolkitError comes out as a plain one-line error."""
    import torch
    from torch.utils.data import DataLoader

    # A private generator: creating the iterator must not consume the global RNG that dropout uses,
    # or a resumed run would diverge from an uninterrupted one.
    loader = DataLoader(dataset, batch_sampler=batches, collate_fn=collate, num_workers=num_workers,
                        generator=torch.Generator().manual_seed(0), persistent_workers=False)
    try:
        yield from loader
    except ToolkitError as error:
        # A worker's error arrives wrapped in its traceback text; keep only the message for the user.
        message = str(error).rstrip().splitlines()[-1]
        prefix = "toolkit.utils.errors.ToolkitError: "
        raise ToolkitError(message[len(prefix):] if message.startswith(prefix) else str(error)) from None


def accumulation_groups(batch_sizes: Sequence[int], accumulation: int) -> List[Tuple[float, bool]]:
    """Per batch of an epoch: (scale of its mean loss, whether an optimizer step follows it).

    Batches form groups of ``accumulation`` from the epoch's start; the epoch's last group may be
    shorter. Each batch's loss is scaled by its share of its group's samples, so the summed gradient
    of a group is the gradient of the mean loss over all its samples, as one batch holding them
    would give (also for a short last group, and for a group holding the epoch's short batch).
    """
    plan = []
    for start in range(0, len(batch_sizes), accumulation):
        sizes = batch_sizes[start : start + accumulation]
        total = float(sum(sizes))
        plan.extend((size / total, position == len(sizes) - 1) for position, size in enumerate(sizes))
    return plan


def moving_average_update(decay: float, warmup: bool):
    """The ``AveragedModel`` update rule for ``train.ema_decay`` (and ``train.ema_warmup``).

    Without warm-up, torch's fixed-decay rule. With it, the decay after n updates is
    min(decay, (1 + n) / (10 + n)), as TensorFlow's ExponentialMovingAverage with ``num_updates``.
    Why: a fixed decay of 0.995 still gives the random initialisation 8 % of the weight after the
    500 steps of a 600-utterance run, and averages its last eight epochs where a 3,000-utterance
    run averages under two; with warm-up the average covers about the last tenth of the steps so far.
    """
    import torch
    from torch.optim.swa_utils import get_ema_multi_avg_fn

    if not warmup:
        return get_ema_multi_avg_fn(decay)

    @torch.no_grad()
    def update(averaged, current, updates_so_far) -> None:
        # The count arrives as a device tensor; computing the weight there keeps the step free of a
        # second device-to-host wait (the logged losses already cost one).
        updates = updates_so_far.to(averaged[0].dtype)
        weight = 1.0 - torch.clamp((1.0 + updates) / (10.0 + updates), max=decay)
        for average, value in zip(averaged, current):  # DeepSER's buffers are all floating point
            average.lerp_(value, weight)

    return update


def predict_split(model, data: SplitData, config: TrainingConfig, context: DistContext):
    """(logits (n, classes), attributes (n, 3)) for every row of ``data``, computed across all processes."""
    import torch

    batches = eval_batches(data.total_lengths, config.train.eval_batch_size)
    mine = batches[context.rank :: context.world_size]
    results = []
    model.eval()
    with torch.no_grad():
        if mine:
            for batch in _loader(FeatureDataset(data), mine, config.data.num_workers):
                features = [x.to(context.device) for x in batch["features"]]
                masks = [m.to(context.device) for m in batch["masks"]]
                logits, attributes = model(features, masks)
                results.append((batch["indices"].numpy(), logits.float().cpu().numpy(), attributes.float().cpu().numpy()))
    model.train()
    logits = np.zeros((len(data), model.class_head.out_features), dtype=np.float32)
    attributes = np.zeros((len(data), len(ATTRIBUTES)), dtype=np.float32)
    for part in gather_objects(context, results):
        for indices, batch_logits, batch_attributes in part:
            logits[indices] = batch_logits
            attributes[indices] = batch_attributes
    return logits, attributes


def evaluate(logits: np.ndarray, attributes: np.ndarray, data: SplitData) -> Dict[str, float]:
    """Development metrics: Macro-F1 and per-class F1 on consensus rows, CE there, CCC on known attributes."""
    codes = data.inventory.codes
    labelled = data.class_indices >= 0
    truth = data.class_indices[labelled]
    predicted = logits[labelled].argmax(axis=1)
    shifted = logits[labelled] - logits[labelled].max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    metrics = {
        "dev_ce": float(-log_probs[np.arange(len(truth)), truth].mean()),
        "dev_macro_f1": macro_f1(truth, predicted, len(codes)),
    }
    metrics.update({f"dev_f1_{code}": float(v) for code, v in zip(codes, per_class_f1(truth, predicted, len(codes)))})
    known = np.isfinite(data.attributes).all(axis=1)
    if known.sum() >= 2:
        scores = attribute_ccc(data.attributes[known], attributes[known])
    else:
        scores = {name: float("nan") for name in (*ATTRIBUTES, "mean")}
    metrics.update({f"dev_ccc_{name}": value for name, value in scores.items()})
    return metrics


def _write_config(config: TrainingConfig, path: Path) -> None:
    import yaml

    atomic_write_text(path, yaml.safe_dump(config.to_dict(), sort_keys=False))


def _check_stage2_compatible(config: TrainingConfig, stage1_config: Dict, exp_dir: Path) -> None:
    for section, keys in (("data", ("streams",)), ("model", tuple(config.model.__dataclass_fields__))):
        for key in keys:
            now, before = getattr(getattr(config, section), key), stage1_config[section][key]
            if now != before:
                raise ToolkitError(
                    f"config key {section}.{key}: stage 2 continues {exp_dir}/stage1/best.pt, trained with "
                    f"{before!r}, but this config says {now!r}; use the stage-1 value"
                )


class StageTrainer:
    """One MEDUSA stage of one member; ``run()`` trains, selects, predicts and marks the stage done."""

    def __init__(self, config: TrainingConfig, exp_dir: PathLike, stage: int, context: DistContext,
                 resume: bool = False, predict_train: bool = False, stop_after_steps: Optional[int] = None):
        if stage not in (1, 2):
            raise ToolkitError(f"--medusa-stage must be 1 or 2, got {stage}")
        self.config = config
        self.exp_dir = Path(exp_dir)
        self.stage = stage
        self.context = context
        self.resume = resume
        self.predict_train = predict_train
        self.stop_after_steps = stop_after_steps
        self.stage_dir = self.exp_dir / f"stage{stage}"
        self.stage_config = config.stage1 if stage == 1 else config.stage2

    # ----------------------------------------------------------------- set-up
    def _prepare(self) -> None:
        import torch

        config = self.config
        data = config.data
        _seed_everything(config.train.seed + self.context.rank)
        self.inventory = read_inventory(manifest_path(data.manifest_dir, data.train_split))
        logger.info("classes (%d): %s", self.inventory.num_classes, self.inventory.describe())
        self.train_data = load_split(data.manifest_dir, data.features_dir, data.streams, data.train_split,
                                     targets=config.loss.targets, inventory=self.inventory, store_split=data.store_split,
                                     ambiguous_rows=config.loss.ambiguous_rows)
        check_classes_present(self.train_data)
        self.dev_data = self._load(data.dev_split)
        if not (self.dev_data.class_indices >= 0).any():
            raise ToolkitError(
                f"split {data.dev_split!r} has no row with a consensus class of {self.inventory.describe()}; "
                "model selection on Macro-F1 needs them (check data.dev_split)"
            )
        self.specs = stream_specs(data.features_dir, data.streams, data.store_split or data.train_split)
        dev_specs = stream_specs(data.features_dir, data.streams, data.store_split or data.dev_split)
        if dev_specs != self.specs:
            raise ToolkitError(f"feature stores of {data.train_split} and {data.dev_split} differ in width: "
                               f"{self.specs} vs {dev_specs}; extract both with the same encoder config")
        from toolkit.models.deepser import build_model

        self.model = build_model(self.specs, config.model, self.inventory.num_classes)
        last = self.stage_dir / "last.pt"
        # A resumed run restores the statistics from its checkpoint, and DDP copies rank 0's
        # buffers to every other process, so only a fresh main process reads the sample.
        if self.stage == 1 and data.normalize_features and self.context.is_main and not last.exists():
            from toolkit.training.normalization import feature_statistics

            self.model.set_input_statistics(feature_statistics(self.train_data, data.normalize_utterances))
        self.model.to(self.context.device)
        if self.stage == 1:
            weights = np.ones(self.inventory.num_classes, dtype=np.float32)
            if config.loss.class_weight_alpha:
                from toolkit.training.losses import class_weights

                weights = class_weights(self.train_data.targets, config.loss.class_weight_alpha)
            logger.info("stage 1 class weights %s",
                        {c: round(float(w), 3) for c, w in zip(self.inventory.codes, weights)})
        else:
            weights = None
        self.class_weights = None if weights is None else torch.tensor(weights, device=self.context.device)
        self.logit_offset = None
        if self.stage == 1 and config.loss.logit_adjustment:
            from toolkit.training.losses import class_log_prior

            prior = class_log_prior(self.train_data.targets)
            logger.info("stage 1 logit adjustment tau=%g with the training prior %s", config.loss.logit_adjustment,
                        {c: round(float(np.exp(p)), 3) for c, p in zip(self.inventory.codes, prior)})
            self.logit_offset = torch.tensor(config.loss.logit_adjustment * prior, device=self.context.device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.stage_config.lr,
                                           weight_decay=config.train.weight_decay)
        self.mix_generator = torch.Generator().manual_seed(config.train.seed * 1000 + self.stage * 100 + self.context.rank)
        self.state = RunState()
        self.earlier_rows = [row for row in read_metrics(self.exp_dir / "metrics.csv") if row["stage"] < self.stage]
        if self.stage == 2:
            stage1 = read_checkpoint(self.exp_dir / "stage1" / "best.pt")
            _check_stage2_compatible(config, stored_config(stage1), self.exp_dir)
            if payload_inventory(stage1) != self.inventory:
                raise ToolkitError(
                    f"{self.exp_dir}/stage1/best.pt predicts {payload_inventory(stage1).describe()}, but the training "
                    f"manifest's classes are {self.inventory.describe()}; stage 0 changed since stage 1, retrain stage 1"
                )
            self.model.load_state_dict(stage1["model_state"])
            # Stage 2 must beat stage 1's selection to replace it.
            self.state.best_score = float(stage1["dev_macro_f1"])
            self.state.best_epoch = 0
        self.averaged = None
        if config.train.ema_decay:
            from torch.optim.swa_utils import AveragedModel

            # A copy of the model (after stage 2 loaded stage 1's) whose weights follow the trained ones
            # with the decay. Buffers are averaged too: under torchrun the input statistics reach the other
            # processes only when DDP wraps the model, after this copy, and the first update copies them in.
            self.averaged = AveragedModel(
                self.model, use_buffers=True,
                multi_avg_fn=moving_average_update(config.train.ema_decay, config.train.ema_warmup))
        if last.exists():
            if not self.resume:
                raise ToolkitError(
                    f"{last}: an unfinished stage-{self.stage} run exists; pass --resume to continue it "
                    f"or delete {self.stage_dir} to start the stage over"
                )
            self._load_resume(last)
        elif self.resume:
            logger.info("--resume: no %s yet, starting stage %d from the beginning", last, self.stage)

    def _load(self, split: str) -> SplitData:
        """A split other than training, its classes indexed over the training inventory."""
        data = self.config.data
        return load_split(data.manifest_dir, data.features_dir, data.streams, split, inventory=self.inventory,
                          store_split=data.store_split)

    def _load_resume(self, path: Path) -> None:
        import torch

        payload = torch.load(path, map_location="cpu", weights_only=False)
        expected, saved = set(self.model.state_dict()), set(payload["model_state"])
        if expected != saved:
            different = sorted(expected ^ saved)
            raise ToolkitError(
                f"{path}: saved from a model with other layers than this config builds ({', '.join(different[:3])}"
                f"{', ...' if len(different) > 3 else ''}); resume with the config the run started with "
                "(a run started before model.fusion_projection existed needs --set model.fusion_projection=false)"
            )
        self.model.load_state_dict(payload["model_state"])
        self.optimizer.load_state_dict(payload["optimizer_state"])
        if self.averaged is not None:
            if "averaged_state" not in payload:
                raise ToolkitError(f"{path}: saved without train.ema_decay; resume with the config the run started with")
            self.averaged.load_state_dict(payload["averaged_state"])
        self.state = RunState(**payload["run_state"])
        rng = payload["rng"][min(self.context.rank, len(payload["rng"]) - 1)]
        torch.set_rng_state(rng["torch"])
        self.mix_generator.set_state(rng["mix"])
        np.random.set_state(rng["numpy"])
        random.setstate(rng["python"])
        logger.info("resumed stage %d at epoch %d, batch %d (best Macro-F1 %.4f)", self.stage,
                    self.state.epoch + 1, self.state.batch_in_epoch, self.state.best_score)

    def _save_resume(self) -> None:
        import torch

        rng = {"torch": torch.get_rng_state(), "mix": self.mix_generator.get_state(),
               "numpy": np.random.get_state(), "python": random.getstate()}
        states = gather_objects(self.context, rng)
        if self.context.is_main:
            save_checkpoint(self.stage_dir / "last.pt", {
                "model_state": {k: v.detach().cpu() for k, v in self._bare_model().state_dict().items()},
                "optimizer_state": self.optimizer.state_dict(),
                "run_state": self.state.__dict__,
                "rng": states,
                **({} if self.averaged is None else {"averaged_state": self.averaged.state_dict()}),
            })
        barrier(self.context)

    def _bare_model(self):
        return getattr(self.training_model, "module", self.training_model)

    def _selected_model(self):
        """The weights that are evaluated, selected and saved: the moving average with train.ema_decay."""
        return self._bare_model() if self.averaged is None else self.averaged.module

    # ------------------------------------------------------------------ epochs
    def _learning_rate(self, step: int, batches_per_epoch: int) -> float:
        """The stage's learning rate at optimizer step ``step``: constant, or warm-up then cosine decay.

        A function of the step alone, so a resumed run continues the schedule exactly.
        """
        import math

        stage = self.stage_config
        if stage.lr_schedule == "constant":
            return stage.lr
        steps_per_epoch = math.ceil(batches_per_epoch / self.config.train.grad_accumulation)
        total = max(1, stage.max_epochs * steps_per_epoch)
        warmup = int(stage.warmup_epochs * steps_per_epoch)
        if step < warmup:
            return stage.lr * (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return stage.lr * 0.5 * (1.0 + math.cos(math.pi * progress))

    def epoch_batches(self, epoch: int) -> List[List[int]]:
        """This process's batches for ``epoch``; the same on every run and every process for one seed."""
        config = self.config
        rng = np.random.default_rng([config.train.seed, self.stage, epoch])
        if self.stage == 1:
            rows = np.arange(len(self.train_data))
        else:
            rows = balanced_subset(self.train_data.class_indices, self.inventory.num_classes, rng)
        lengths = self.train_data.total_lengths
        if config.data.max_frames:
            lengths = np.minimum(self.train_data.lengths, config.data.max_frames).sum(axis=1)
        batches = bucket_batches(rows, lengths, config.train.batch_size, config.data.bucket_pool_batches, rng)
        return rank_batches(batches, self.context)

    def train_epoch(self, epoch: int) -> bool:
        """Train (the rest of) one epoch over ``epoch_batches(epoch)``; False when stopped early by
        ``stop_after_steps``. Needs ``prepare()`` first."""
        import contextlib

        import torch

        from toolkit.training.losses import attribute_loss, draw_mixup, mix_targets, smooth_targets, soft_cross_entropy

        config, state = self.config, self.state
        batches = self.epoch_batches(epoch)
        start = state.batch_in_epoch
        groups = accumulation_groups([len(batch) for batch in batches], config.train.grad_accumulation)
        targets_all = torch.from_numpy(self.train_data.targets)
        attributes_all = torch.from_numpy(self.train_data.attributes)
        dataset = FeatureDataset(self.train_data, config.data.max_frames)
        attribute_weight = config.loss.attribute_weight if config.loss.multitask else 0.0
        self.training_model.train()
        sums = state.epoch_sums or {"loss": 0.0, "ce": 0.0, "attribute": 0.0, "samples": 0.0}
        progress = None
        if self.context.is_main:
            from tqdm import tqdm

            progress = tqdm(total=len(batches), initial=start, desc=f"stage {self.stage} epoch {epoch + 1}",
                            unit="batch", leave=False)
        for position, batch in enumerate(_loader(dataset, batches[start:], config.data.num_workers), start=start):
            indices = batch["indices"]
            features = [x.to(self.context.device) for x in batch["features"]]
            masks = [m.to(self.context.device) for m in batch["masks"]]
            targets = targets_all[indices].to(self.context.device)
            attributes = attributes_all[indices].to(self.context.device)
            known = torch.isfinite(attributes)
            mix = draw_mixup(len(indices), config.mixup.p, config.mixup.alpha, self.mix_generator,
                             config.mixup.per_sample)
            if mix is not None:
                mix = (mix[0].to(self.context.device), mix[1].to(self.context.device))
            targets, attributes, known = mix_targets(targets, attributes, known, mix)
            if config.loss.label_smoothing:
                targets = smooth_targets(targets, config.loss.label_smoothing)
            loss_scale, steps_now = groups[position]
            sync = contextlib.nullcontext() if steps_now or not self.context.enabled else self.training_model.no_sync()
            with sync:
                logits, predicted = self.training_model(features, masks, mix)
                scored = logits if self.logit_offset is None else logits + self.logit_offset
                ce = soft_cross_entropy(scored, targets, self.class_weights)
                attr = attribute_loss(predicted, attributes, known, config.loss.attribute_loss)
                loss = config.loss.class_weight * ce + attribute_weight * attr
                (loss * loss_scale).backward()
            # One device-to-host copy for the three logged values: each .item() waits for the GPU.
            loss_value, ce_value, attribute_value = torch.stack([loss, ce, attr]).detach().tolist()
            size = float(len(indices))
            sums["loss"] += loss_value * size
            sums["ce"] += ce_value * size
            sums["attribute"] += attribute_value * size
            sums["samples"] += size
            if progress is not None:
                progress.update(1)
                # refresh=False: tqdm redraws at its own pace instead of writing a line per batch.
                progress.set_postfix(loss=f"{loss_value:.3f}", refresh=False)
            if not steps_now:
                continue
            if config.train.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.training_model.parameters(), config.train.grad_clip)
            for group in self.optimizer.param_groups:
                group["lr"] = self._learning_rate(state.global_step, len(batches))
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            if self.averaged is not None:
                self.averaged.update_parameters(self.model)
            state.global_step += 1
            state.batch_in_epoch = position + 1
            state.epoch_sums = dict(sums)
            every = config.train.checkpoint_every_steps
            if every and state.global_step % every == 0 and position + 1 < len(batches):
                self._save_resume()
            if self.stop_after_steps is not None and state.global_step - self.steps_at_start >= self.stop_after_steps \
                    and position + 1 < len(batches):
                self._save_resume()
                if progress is not None:
                    progress.close()
                return False
        if progress is not None:
            progress.close()
        state.epoch_sums = sums
        return True

    def _finish_epoch(self, epoch: int, started: float) -> bool:
        """Evaluate, record, select; True when early stopping says to stop."""
        state, sums = self.state, self.state.epoch_sums
        totals = [sums] if not self.context.enabled else gather_objects(self.context, sums)
        samples = sum(part["samples"] for part in totals)
        logits, attributes = predict_split(self._selected_model(), self.dev_data, self.config, self.context)
        metrics = evaluate(logits, attributes, self.dev_data)
        improved = metrics["dev_macro_f1"] > state.best_score
        if improved:
            state.best_score, state.best_epoch, state.bad_epochs = metrics["dev_macro_f1"], epoch + 1, 0
            if self.context.is_main:
                save_checkpoint(self.stage_dir / "best.pt", model_payload(
                    self._selected_model(), self.config, self.specs, self.stage, epoch + 1, metrics["dev_macro_f1"],
                    self.inventory))
        else:
            state.bad_epochs += 1
        row = {
            "stage": self.stage, "epoch": epoch + 1, "lr": self.optimizer.param_groups[0]["lr"],
            "train_samples": int(samples),
            "train_loss": sum(p["loss"] for p in totals) / max(samples, 1),
            "train_ce": sum(p["ce"] for p in totals) / max(samples, 1),
            "train_attribute": sum(p["attribute"] for p in totals) / max(samples, 1),
            **metrics, "is_best": int(improved), "seconds": round(time.time() - started, 3),
        }
        state.history.append(row)
        state.epoch, state.batch_in_epoch, state.epoch_sums = epoch + 1, 0, {}
        if self.context.is_main:
            rows = self.earlier_rows + state.history
            write_metrics(self.exp_dir / "metrics.csv", rows, self.inventory.codes)
            plot_metrics(rows, self.exp_dir / "metrics.png")
            logger.info("stage %d epoch %d: train loss %.4f, dev Macro-F1 %.4f%s, dev CCC %.3f", self.stage,
                        epoch + 1, row["train_loss"], row["dev_macro_f1"], " (best)" if improved else "",
                        row["dev_ccc_mean"])
        self._save_resume()
        return state.bad_epochs >= self.stage_config.patience

    # -------------------------------------------------------------- selection
    def _select_and_predict(self) -> None:
        stage_best = self.stage_dir / "best.pt"
        source = stage_best if stage_best.exists() else self.exp_dir / "stage1" / "best.pt"
        if self.stage == 2 and not stage_best.exists():
            logger.warning("stage 2 never beat stage 1's Development Macro-F1; keeping stage 1's checkpoint")
        if self.context.is_main:
            with atomic_path(self.exp_dir / "best.pt") as temporary:
                shutil.copyfile(source, temporary)
        barrier(self.context)
        from toolkit.training.checkpoint import model_from_payload

        model, _ = model_from_payload(read_checkpoint(self.exp_dir / "best.pt"), str(self.context.device))
        splits = list(dict.fromkeys(self.config.data.predict_splits + (["train"] if self.predict_train else [])))
        data = self.config.data
        for split in splits:
            split_name = data.train_split if split == "train" else split
            rows = self.dev_data if split_name == data.dev_split else self._load(split_name)
            logits, attributes = predict_split(model, rows, self.config, self.context)
            if self.context.is_main:
                path = self.exp_dir / "predictions" / f"{split_name}.csv"
                write_predictions(path, rows.file_names, logits, attributes, self.inventory.codes)
                logger.info("wrote %s (%d rows)", path, len(rows))
                if stage_best.exists():
                    # The stage's own checkpoint's predictions stay after later stages (the "without stage 2" ablation).
                    write_predictions(self.stage_dir / "predictions" / f"{split_name}.csv", rows.file_names, logits,
                                      attributes, self.inventory.codes)

    def prepare(self) -> None:
        """Everything before the first epoch: data, model and optimizer (restored from ``last.pt`` on
        resume), ``config.yaml``, and the DDP wrapper under torchrun."""
        if self.stage == 2 and not (self.exp_dir / "stage1" / "best.pt").exists():
            raise ToolkitError(f"{self.exp_dir}/stage1/best.pt not found; run --medusa-stage 1 first")
        self._prepare()
        if self.context.is_main:
            stale = remove_stale_temporaries(self.exp_dir)
            if stale:
                logger.info("removed %d partial file(s) that a killed run left: %s", len(stale),
                            ", ".join(str(path.relative_to(self.exp_dir)) for path in stale))
            self.stage_dir.mkdir(parents=True, exist_ok=True)
            _write_config(self.config, self.exp_dir / "config.yaml")
        barrier(self.context)
        self.training_model = self.model
        if self.context.enabled:
            from torch.nn.parallel import DistributedDataParallel

            device_ids = [self.context.device.index] if self.context.device.type == "cuda" else None
            self.training_model = DistributedDataParallel(self.model, device_ids=device_ids,
                                                          process_group=self.context.gradient_group)
        self.steps_at_start = self.state.global_step

    def run(self) -> TrainResult:
        self.prepare()
        if not is_done(self.stage_dir, "training"):
            state = self.state
            # A run killed between its last epoch's checkpoint and the done marker must not train on.
            first = state.epoch if state.bad_epochs < self.stage_config.patience else self.stage_config.max_epochs
            for epoch in range(first, self.stage_config.max_epochs):
                started = time.time()
                if not self.train_epoch(epoch):
                    logger.info("stopped after %d optimizer steps as asked; continue with --resume", state.global_step)
                    return TrainResult(self.exp_dir, self.stage, state.best_score, state.best_epoch, finished=False)
                if self._finish_epoch(epoch, started):
                    logger.info("early stopping: no better Development Macro-F1 for %d epoch(s)", state.bad_epochs)
                    break
            if self.context.is_main:
                mark_done(self.stage_dir, "training")
            barrier(self.context)
        self._select_and_predict()
        if self.context.is_main:
            mark_done(self.exp_dir, f"stage{self.stage}")
        barrier(self.context)
        return TrainResult(self.exp_dir, self.stage, self.state.best_score, self.state.best_epoch, finished=True)


def train_member(config: TrainingConfig, exp_dir: PathLike, stage: int, resume: bool = False, device: str = "auto",
                 predict_train: bool = False, stop_after_steps: Optional[int] = None) -> TrainResult:
    """Run MEDUSA stage ``stage`` (1 or 2) for one member in ``exp_dir``; skip it if already done.

    ``stop_after_steps`` ends the run cleanly after that many optimizer steps of this stage (for
    wall-clock-limited cluster jobs); ``resume=True`` continues from ``stage<N>/last.pt``.
    """
    exp_dir = Path(exp_dir)
    if is_done(exp_dir, f"stage{stage}"):
        logger.info("%s: stage %d already done (delete %s/.stage%d.done to redo it)", exp_dir, stage, exp_dir, stage)
        best = read_checkpoint(exp_dir / "best.pt")
        return TrainResult(exp_dir, stage, float(best["dev_macro_f1"]), int(best["epoch"]), finished=True)
    context = init_distributed(device)
    if not context.is_main:
        # One log per run: the other processes only report problems.
        logging.getLogger("toolkit").setLevel(logging.WARNING)
    try:
        result = StageTrainer(config, exp_dir, stage, context, resume, predict_train, stop_after_steps).run()
        return broadcast_object(context, result)
    finally:
        shutdown(context)
