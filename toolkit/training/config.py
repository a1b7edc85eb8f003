"""Typed training configuration: defaults are MEDUSA's published values (DESIGN-NOTES §4).

Reads a YAML file of nested sections (``data``, ``model``, ``loss``, ``mixup``, ``stage1``,
``stage2``, ``train``) and ``key=value`` overrides with dotted keys (``--set stage1.lr=3e-5``).
Every key the file or an override names must exist; an unknown key raises a ``ToolkitError``
naming the nearest valid key. Writes nothing; ``to_dict`` gives the resolved config that the
trainer copies into the experiment directory.
"""

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union, get_args, get_origin

from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError


@dataclass
class DataConfig:
    #: Manifests are read from ``<manifest_dir>/<split>/manifest.csv``.
    manifest_dir: str = "data"
    #: Feature stores are read from ``<features_dir>/<stream>/<split>/``.
    features_dir: str = "dump/features"
    #: Feature streams (store names) fused by one DeepSER member, e.g. [wavlm_large, roberta_large].
    streams: List[str] = field(default_factory=lambda: ["wavlm_large", "roberta_large"])
    #: Read every split's features from ``<features_dir>/<stream>/<store_split>/``, one store extracted
    #: once over all utterances (the fold recipes); empty: each split from its own store.
    store_split: str = ""
    train_split: str = "train"
    dev_split: str = "development"
    #: Splits the selected checkpoint writes predictions for (add "train" for stacking on train).
    predict_splits: List[str] = field(default_factory=lambda: ["development", "test3"])
    #: Longer utterances are cut to their first ``max_frames`` frames during training (0: never).
    max_frames: int = 0
    #: Batches are formed from length-sorted pools of ``bucket_pool_batches`` batches (1: no bucketing).
    bucket_pool_batches: int = 50
    num_workers: int = 2
    #: Normalise every input dimension by its training-set mean and std (ESPnet's global_mvn),
    #: estimated before stage 1 from a seeded sample of ``normalize_utterances`` utterances (0: all).
    normalize_features: bool = True
    normalize_utterances: int = 2000


@dataclass
class ModelConfig:
    #: "deep" = DeepSER hierarchical fusion; "late" = pooled stream vectors straight into the heads.
    fusion: str = "deep"
    #: Each fusion level is a full leg, as in the public code: a Linear-ReLU-Linear projection
    #: before its encoder. false: the concatenated stream outputs go straight into the encoders
    #: (the toolkit's model before this key existed; its checkpoints load as false).
    fusion_projection: bool = True
    hidden_dim: int = 512
    num_layers: int = 2
    num_heads: int = 1
    ff_dim: int = 2048
    dropout: float = 0.1
    #: Dropout on the attention weights; null = ``dropout``. On CPU, drawing a random mask for
    #: every (frame, frame) pair took 35 % of a 3-stream training step (torch profiler, mini corpus).
    attention_dropout: Optional[float] = None
    #: "mean", "stats" (mean and std) or "attentive_stats" (attention-weighted mean and std); all masked.
    pooling: str = "mean"
    #: Streams whose frames are normalised per utterance (mean and std over its own frames) before the
    #: model: removes a recording's stationary channel (microphone response, gain), and with it the
    #: utterance's overall level. Such streams skip the global normalisation. Streams a member does
    #: not use are ignored, so one recipe-wide setting serves every member. Empty: none.
    utterance_normalization: List[str] = field(default_factory=list)
    #: Training only: blank spans of ``frame_mask_span`` input frames so that about this fraction
    #: of every stream's frames is zero (SpecAugment's time masking on the stored features); 0: off.
    frame_mask: float = 0.0
    frame_mask_span: int = 5


@dataclass
class LossConfig:
    #: "soft" = annotator vote distributions (X/O rows usable); "onehot" = consensus class only.
    targets: str = "soft"
    #: Under one-hot targets, rows without a consensus class (X/O): "skip" them, or keep them for
    #: the "attributes" loss alone (their class target is empty). Soft targets use them either way.
    ambiguous_rows: str = "skip"
    class_weight: float = 1.5
    #: Exponent of the stage-1 class weights w_c = (N / (8 f_c)) ** alpha (0 disables weighting).
    class_weight_alpha: float = 0.5
    multitask: bool = True
    attribute_weight: float = 0.4
    #: "mse" (paper) or "ccc" (1 - concordance correlation per attribute).
    attribute_loss: str = "mse"
    #: tau of the logit-adjusted loss (Menon et al., 2021): stage 1 scores logits + tau * log(class
    #: prior of the training targets), so the raw logits suit a class-balanced test set; 0: off.
    logit_adjustment: float = 0.0
    #: epsilon of label smoothing (Szegedy et al., 2016): each class target becomes
    #: (1 - epsilon) * target + epsilon / K, so the model is not pushed to certainty on a few hundred
    #: clips; rows without a class target stay empty; 0: off (the paper).
    label_smoothing: float = 0.0


@dataclass
class MixupConfig:
    #: Probability that a batch is mixed (Manifold MixUp on the post-fusion hidden vector); 0 disables.
    p: float = 0.3
    alpha: float = 0.2
    #: One λ ~ Beta(alpha, alpha) per sample, as in the public code; false: one λ for the whole batch.
    per_sample: bool = True


@dataclass
class StageConfig:
    lr: float = 1e-5
    max_epochs: int = 4
    #: Stop after this many epochs without a better Development Macro-F1.
    patience: int = 8
    #: "constant" (paper) or "cosine": linear warm-up over ``warmup_epochs``, then cosine decay to 0
    #: at ``max_epochs``.
    lr_schedule: str = "constant"
    warmup_epochs: float = 0.0


@dataclass
class TrainConfig:
    #: Batch size per process (per GPU under torchrun).
    batch_size: int = 32
    grad_accumulation: int = 1
    weight_decay: float = 0.01
    #: Gradient-norm clipping (0: off).
    grad_clip: float = 0.0
    seed: int = 42
    #: Write a resumable checkpoint every this many optimizer steps (0: only at epoch ends).
    checkpoint_every_steps: int = 500
    eval_batch_size: int = 64
    #: Evaluate, select and predict with an exponential moving average of the weights, updated
    #: after every optimizer step with this decay (0.999 averages about the last 1,000 steps); 0: off.
    ema_decay: float = 0.0
    #: Ramp the decay up as min(ema_decay, (1 + n) / (10 + n)) after n updates, so that the average
    #: forgets the random initialisation and spans about a tenth of the steps so far until it reaches
    #: ema_decay: short runs (small corpora) then average their own last epochs, not their start.
    ema_warmup: bool = False


@dataclass
class TrainingConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    mixup: MixupConfig = field(default_factory=MixupConfig)
    stage1: StageConfig = field(default_factory=lambda: StageConfig(lr=1e-5, max_epochs=4, patience=8))
    stage2: StageConfig = field(default_factory=lambda: StageConfig(lr=1e-6, max_epochs=46, patience=8))
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    def validate(self) -> None:
        """Check values that have a fixed set of choices or a range; name the key and the fix."""
        choices = {
            "model.fusion": (self.model.fusion, ("deep", "late")),
            "model.pooling": (self.model.pooling, ("mean", "stats", "attentive_stats")),
            "loss.targets": (self.loss.targets, ("soft", "onehot")),
            "loss.ambiguous_rows": (self.loss.ambiguous_rows, ("skip", "attributes")),
            "loss.attribute_loss": (self.loss.attribute_loss, ("mse", "ccc")),
            "stage1.lr_schedule": (self.stage1.lr_schedule, ("constant", "cosine")),
            "stage2.lr_schedule": (self.stage2.lr_schedule, ("constant", "cosine")),
        }
        for key, (value, allowed) in choices.items():
            if value not in allowed:
                raise ToolkitError(f"config key {key}: {value!r} is not one of {', '.join(allowed)}")
        if not self.data.streams or not all(isinstance(stream, str) and stream for stream in self.data.streams):
            raise ToolkitError("config key data.streams: give a non-empty list of feature store names")
        if len(set(self.data.streams)) != len(self.data.streams):
            raise ToolkitError(f"config key data.streams: a stream is listed twice in {self.data.streams}")
        positive = {
            "model.hidden_dim": self.model.hidden_dim,
            "model.num_layers": self.model.num_layers,
            "model.num_heads": self.model.num_heads,
            "model.ff_dim": self.model.ff_dim,
            "model.frame_mask_span": self.model.frame_mask_span,
            "train.batch_size": self.train.batch_size,
            "train.grad_accumulation": self.train.grad_accumulation,
            "train.eval_batch_size": self.train.eval_batch_size,
            "data.bucket_pool_batches": self.data.bucket_pool_batches,
        }
        if self.data.normalize_utterances < 0:
            raise ToolkitError(f"config key data.normalize_utterances: 0 (all) or a positive count, got {self.data.normalize_utterances}")
        for key, value in positive.items():
            if value < 1:
                raise ToolkitError(f"config key {key}: must be at least 1, got {value}")
        if self.model.hidden_dim % self.model.num_heads:
            raise ToolkitError(
                f"config keys model.hidden_dim={self.model.hidden_dim} and model.num_heads={self.model.num_heads}: "
                "hidden_dim must be divisible by num_heads"
            )
        for key, value in {"model.dropout": self.model.dropout, "model.attention_dropout": self.model.attention_dropout,
                           "model.frame_mask": self.model.frame_mask, "train.ema_decay": self.train.ema_decay,
                           "loss.label_smoothing": self.loss.label_smoothing}.items():
            if value is not None and not 0.0 <= value < 1.0:
                raise ToolkitError(f"config key {key}: a probability in [0, 1) is needed, got {value}")
        if self.train.ema_warmup and not self.train.ema_decay:
            raise ToolkitError("config key train.ema_warmup: ramps the moving average's decay up to train.ema_decay, "
                               "which is 0 (off); set train.ema_decay (e.g. 0.995) or train.ema_warmup=false")
        for key, value in {"loss.logit_adjustment": self.loss.logit_adjustment,
                           "stage1.warmup_epochs": self.stage1.warmup_epochs,
                           "stage2.warmup_epochs": self.stage2.warmup_epochs}.items():
            if value < 0:
                raise ToolkitError(f"config key {key}: must be >= 0, got {value}")
        if not 0.0 <= self.mixup.p <= 1.0:
            raise ToolkitError(f"config key mixup.p: a probability in [0, 1] is needed, got {self.mixup.p}")
        if self.mixup.p > 0 and self.mixup.alpha <= 0:
            raise ToolkitError(f"config key mixup.alpha: Beta(alpha, alpha) needs alpha > 0, got {self.mixup.alpha}")


def _section_fields(section_type) -> Dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(section_type)}


def valid_keys() -> List[str]:
    """Every dotted key a config file or ``--set`` may name."""
    keys = []
    for section in dataclasses.fields(TrainingConfig):
        keys.extend(f"{section.name}.{name}" for name in _section_fields(type(getattr(TrainingConfig(), section.name))))
    return keys


def _unknown_key(key: str, source: str) -> ToolkitError:
    nearest = difflib.get_close_matches(key, valid_keys(), n=1, cutoff=0.0)
    hint = f"; did you mean {nearest[0]}?" if nearest else ""
    return ToolkitError(f"{source}: unknown config key {key}{hint} (valid keys are listed in docs/training.md)")


def _coerce(key: str, value: Any, default: Any, source: str) -> Any:
    """Convert a YAML value to the type of the field's default, or fail naming the key."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif isinstance(default, list):
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return [str(item) for item in value]
    elif isinstance(default, str):
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    raise ToolkitError(
        f"{source}: config key {key} expects a {type(default).__name__} (like {default!r}), got {value!r}"
    )


def _apply(config: TrainingConfig, key: str, value: Any, source: str) -> None:
    section_name, _, name = key.partition(".")
    if not name or key not in valid_keys():
        raise _unknown_key(key, source)
    section = getattr(config, section_name)
    example = getattr(section, name)
    declared = _section_fields(type(section))[name].type
    if get_origin(declared) is Union and type(None) in get_args(declared):
        # Optional keys take null, or a value of the type they hold when set.
        if value is None:
            setattr(section, name, None)
            return
        example = next(kind for kind in get_args(declared) if kind is not type(None))()
    setattr(section, name, _coerce(key, value, example, source))


def _flatten(mapping: Mapping, source: str) -> Iterable:
    sections = {section.name for section in dataclasses.fields(TrainingConfig)}
    for section_name, section in mapping.items():
        if section_name not in sections:
            raise _unknown_key(str(section_name), source)
        if not isinstance(section, Mapping):
            raise ToolkitError(f"{source}: section {section_name} must be a mapping of keys to values")
        for name, value in section.items():
            yield f"{section_name}.{name}", value


def parse_override(text: str):
    """Split ``key=value``; the value is parsed as YAML so ``1e-5``, ``true`` and ``[a, b]`` work."""
    import yaml

    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ToolkitError(f"--set {text!r}: expected key=value, e.g. --set stage1.lr=3e-5")
    return key.strip(), yaml.safe_load(raw) if raw.strip() else ""


def load_config(path: Optional[PathLike] = None, overrides: Iterable[str] = ()) -> TrainingConfig:
    """Defaults, then the YAML file (if any), then ``key=value`` overrides; validated."""
    import yaml

    config = TrainingConfig()
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ToolkitError(f"{path}: training config not found")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise ToolkitError(f"{path}: not valid YAML: {error}") from None
        if not isinstance(loaded, Mapping):
            raise ToolkitError(f"{path}: expected a mapping of sections (data, model, loss, ...) at the top level")
        for key, value in _flatten(loaded, str(path)):
            _apply(config, key, value, str(path))
    for text in overrides:
        key, value = parse_override(text)
        _apply(config, key, value, f"--set {text}")
    config.validate()
    return config


def config_from_dict(payload: Mapping) -> TrainingConfig:
    """Rebuild a config saved in a checkpoint (keys unknown to this version are an error)."""
    config = TrainingConfig()
    for key, value in _flatten(payload, "checkpoint config"):
        _apply(config, key, value, "checkpoint config")
    config.validate()
    return config
