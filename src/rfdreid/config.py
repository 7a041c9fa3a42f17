"""Experiment configuration: dataclasses, YAML presets (`rfdreid.presets`), dotted CLI overrides.

Why dataclasses: every value has a type and a default that a reader can see in one place;
a preset only states what differs, and `--set train.lr=1e-4` changes one value without a
new file.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rfdreid.errors import ReIDError
from rfdreid.evaluation.distance import DEFAULT_LAMBDA, DEFAULT_RFD_FORM, MAX_LAMBDA, RFD_FORMS
from rfdreid.evaluation.rerank import RERANK_FLAGS, RERANK_RULES, RerankParams
from rfdreid.evaluation.selection import SELECT_RULES
from rfdreid.fileio import atomic_write_text
from rfdreid.presets import preset_chain

# The value sets of train.precision and train.lr_schedule live here, not in the engine
# modules that act on them (training/precision.py, training/schedule.py), so that reading a
# config never imports the engine.
PRECISIONS = ("auto", "fp32", "bf16", "fp16")  # auto: bf16 where it runs natively, else fp32
SCHEDULES = ("step", "cosine")
TASK_NAMES = ("id", "resolution")  # B-F and B-R: training/tasks.py


@dataclass
class DataConfig:
    """What to read and how to augment it."""

    protocol: str = ""  # protocol file written by `rfdreid prepare`
    height: int = 384
    width: int = 128
    flip_p: float = 0.5
    erasing_p: float = 0.5
    workers: int = 0  # DataLoader worker processes (0 = main process)
    cache_size: int = 0  # decoded source images kept per loader process (MLR reads each twice)


@dataclass
class ModelConfig:
    """Network structure (section 3.2-3.3 of the paper)."""

    backbone: str = "resnet50"
    pretrained: str | None = None  # None: random init; "imagenet": shipped weights; or a file path
    width_mult: float = 1.0
    attention: bool = True  # SE-style channel attention after every stage
    se_reduction: int = 16
    parts: list[int] = field(default_factory=lambda: [2, 3])  # stripes of the part branches
    embed_dim: int = 256
    dropout: float = 0.5


@dataclass
class TrainConfig:
    """Optimisation (section 4.1): Adam, lr 2e-4 / 10 at half, weight decay 5e-4."""

    task: str = "id"  # "id" trains B-F on person ids, "resolution" trains B-R on res_label
    iterations: int | None = None  # None: the paper's 500 x number of training identities
    lr: float = 2e-4
    weight_decay: float = 5e-4
    beta1: float = 0.9
    lr_decay_at: float = 0.5  # fraction of iterations after which lr is divided by 10
    lr_schedule: str = "step"  # "step" (paper: / 10 at lr_decay_at) or "cosine": training/schedule.py
    warmup_iters: int = 0  # linear warm-up from lr / warmup_iters to lr (0: none, as the paper)
    head_lr_mult: float = 1.0  # lr x this for reductions + classifiers (1: one lr, as the paper)
    num_ids: int = 8  # P identities per batch (B-F)
    num_instances: int = 4  # K images per identity (B-F)
    per_resolution: int = 16  # images per resolution class per batch (B-R)
    margin: float = 0.3
    label_smoothing: float = 0.0
    precision: str = "auto"  # "auto", "fp32", "bf16" (CPU/GPU) or "fp16" (GPU): training/precision.py
    channels_last: bool = True  # NHWC activations: faster convolutions on CPU and GPU
    seed: int = 0
    checkpoint_every: int = 500
    log_every: int = 20
    out_dir: str = "runs/default"


@dataclass
class EvalConfig:
    """Retrieval and RFD fusion (section 3.4)."""

    rfd_lambda: float = DEFAULT_LAMBDA
    rfd_form: str = DEFAULT_RFD_FORM  # reading of eq. 7-8: "literal" or "filter"
    lambda_sweep: list[float] = field(default_factory=list)
    select_lambda: list[float] = field(default_factory=list)  # λ grid tried on validation ids
    select_forms: list[str] = field(default_factory=lambda: list(RFD_FORMS))  # readings tried
    select_rule: str = "per-gallery"  # evaluation/selection.py: per-gallery, pooled or prior
    select_margin: float = 1.0  # "prior": validation mAP points needed to leave (filter, 0.1)
    by_resolution_class: bool = False  # also rows per query group: match in another class
    repeats: int = 1  # MLR: query/gallery degradations drawn anew this many times
    flip: bool = True  # MGN test feature: embedding of the image + that of its mirror
    normalize: bool = True  # L2-normalise the (summed) test feature: D_f in [0, 2]
    precision: str = "fp32"  # of the test feature's network: fp32, bf16 or auto (training's rule)
    batch_size: int = 64
    workers: int = 0  # DataLoader worker processes for extraction
    max_rank: int = 50
    rerank: bool = False  # also report k-reciprocal re-ranking rows (evaluation/rerank.py)
    rerank_k1: int = RerankParams.k1
    rerank_k2: int = RerankParams.k2
    rerank_lambda: float = RerankParams.lam  # eq. 13's weight of the original distance
    rerank_max_gib: float = RerankParams.max_gib  # refuse when (Q+G)² float32 needs more

    def rerank_params(self) -> RerankParams:
        """The re-ranking settings as the library takes them (checked there, one line)."""
        return RerankParams(self.rerank_k1, self.rerank_k2, self.rerank_lambda,
                            self.rerank_max_gib)


@dataclass
class ExperimentConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def dump(self, path: str | Path) -> None:
        atomic_write_text(Path(path), yaml.safe_dump(self.to_dict(), sort_keys=False))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Convert a YAML/CLI value to the declared field type, with an error naming the key."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            return None
        return _coerce(value, args[0], where)
    if origin is list:
        (inner,) = typing.get_args(tp)
        if isinstance(value, str):
            value = _yaml(value, where) if value.strip().startswith("[") else value.split(",")
        if not isinstance(value, list):
            value = [value]
        return [_coerce(v, inner, where) for v in value]
    if tp is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise ReIDError(f"{where}: expected true/false, got {value!r}")
    if tp is int and (isinstance(value, bool) or (isinstance(value, float)
                                                  and not value.is_integer())):
        raise ReIDError(f"{where}: expected a whole number, got {value!r}")
    try:
        return tp(value)
    except (TypeError, ValueError):
        raise ReIDError(f"{where}: expected {tp.__name__}, got {value!r}") from None


def _apply(obj: Any, updates: dict[str, Any], where: str) -> None:
    hints = typing.get_type_hints(type(obj))
    for key, value in updates.items():
        if key not in hints:
            valid = ", ".join(f.name for f in dataclasses.fields(obj))
            raise ReIDError(f"{where}: unknown key {key!r}; valid keys: {valid}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ReIDError(f"{where}.{key}: expected a mapping")
            _apply(current, value, f"{where}.{key}")
        else:
            setattr(obj, key, _coerce(value, hints[key], f"{where}.{key}"))


def _yaml(text: str, where: str) -> Any:
    """One YAML value from the command line; a syntax error names the item, in one line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ReIDError(f"{where}: {text!r} is not a valid YAML value ({problem}); "
                        "close its brackets and quotes, or quote the whole value") from None


def _nest(out: dict[str, Any], key: str, value: Any) -> None:
    """Set out[a][b][c] = value for the dotted key "a.b.c"."""
    *parents, leaf = key.strip().split(".")
    for p in parents:
        out = out.setdefault(p, {})
    out[leaf] = value


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """Turn ["train.lr=1e-4", "model.attention=false"] into a nested dict."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ReIDError(f"override {item!r} must look like section.key=value")
        key, raw = item.split("=", 1)
        _nest(out, key, _yaml(raw, f"override {item!r}") if raw.strip() else raw)
    return out


def load_config(
    preset: str | Path | None = None, overrides: list[str] | None = None,
    values: dict[str, Any] | None = None,
) -> ExperimentConfig:
    """Build a config from defaults, then a YAML preset, then `section.key=value` overrides,
    then `values`.

    `preset` is a YAML path or the name of a shipped preset (`rfdreid presets` lists them);
    its `_base_` chain is applied root first, so each file overrides only what it states.
    `values` maps dotted keys to values already typed (CLI options such as paths; None =
    not given): set as they are, never read as YAML, where `runs/exp #2`, `010` or `true`
    would become another path, a number or a boolean.
    """
    cfg = ExperimentConfig()
    if preset:
        for source, data in preset_chain(preset):
            _apply(cfg, data, source)
    if overrides:
        _apply(cfg, parse_overrides(overrides), "override")
    typed: dict[str, Any] = {}
    for key, value in (values or {}).items():
        if value is not None:
            _nest(typed, key, value)
    _apply(cfg, typed, "option")
    validate(cfg)
    return cfg


def preset_data(preset: str | Path) -> dict[str, Any]:
    """The sections a preset states, its bases' included, as one nested mapping (values not
    yet typed): later files of the chain override earlier ones key by key."""
    merged: dict[str, Any] = {}
    for _, data in preset_chain(preset):
        for section, values in data.items():
            if isinstance(values, dict):
                merged.setdefault(section, {}).update(values)
            else:
                merged[section] = values
    return merged


def resolve_eval_config(
    stored: EvalConfig | None, preset: str | Path | None, overrides: list[str]
) -> tuple[EvalConfig, dict[str, str]]:
    """Evaluation settings from one chain, and where each value came from.

    Order (later wins): built-in defaults, the B-F checkpoint's stored `eval` section, the
    preset's `eval` section, then `eval.key=value` overrides (CLI flags become overrides).
    """
    cfg = ExperimentConfig()
    sources = {f.name: "default" for f in dataclasses.fields(EvalConfig)}

    def layer(values: dict[str, Any], where: str) -> None:
        _apply(cfg.eval, values, where)
        sources.update(dict.fromkeys(values, where))

    if stored is not None:
        layer(dataclasses.asdict(stored), "checkpoint")
    if preset:
        layer(preset_data(preset).get("eval") or {}, f"preset {preset}")
    parsed = parse_overrides(overrides)
    if set(parsed) - {"eval"}:
        raise ReIDError(f"evaluation overrides must be eval.key=value, got {overrides}")
    layer(parsed.get("eval", {}), "command line")
    validate(cfg, "evaluation settings")  # the other sections are defaults, valid by design
    return cfg.eval, sources


def config_from_dict(d: dict[str, Any], where: str = "stored config") -> ExperimentConfig:
    """Rebuild a config (e.g. one stored in a checkpoint) through the same typed path."""
    cfg = ExperimentConfig()
    _apply(cfg, d, where)
    validate(cfg, where)
    return cfg


def _positive(v: Any) -> bool:
    return v > 0


def _non_negative(v: Any) -> bool:
    return v >= 0


def _probability(v: Any) -> bool:
    return 0 <= v <= 1


# key -> (accepts the value?, the rule shown to the user). Floats must also be finite.
_RULES: dict[str, tuple[Any, str]] = {
    "data.height": (_positive, "> 0"),
    "data.width": (_positive, "> 0"),
    "data.flip_p": (_probability, "in [0, 1]"),
    "data.erasing_p": (_probability, "in [0, 1]"),
    "data.workers": (_non_negative, ">= 0"),
    "data.cache_size": (_non_negative, ">= 0"),
    "model.width_mult": (_positive, "> 0"),
    "model.se_reduction": (_positive, "> 0"),
    "model.parts": (lambda v: all(p > 0 for p in v), "a list of stripe counts > 0"),
    "model.embed_dim": (_positive, "> 0"),
    "model.dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "train.task": (lambda v: v in TASK_NAMES, " or ".join(map(repr, TASK_NAMES))),
    "train.iterations": (lambda v: v is None or v > 0, "> 0 (or null for the paper's schedule)"),
    "train.lr": (_positive, "> 0"),
    "train.weight_decay": (_non_negative, ">= 0"),
    "train.beta1": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "train.lr_decay_at": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "train.lr_schedule": (lambda v: v in SCHEDULES, " or ".join(SCHEDULES)),
    "train.warmup_iters": (_non_negative, ">= 0"),
    "train.head_lr_mult": (_positive, "> 0"),
    "train.num_ids": (_positive, "> 0"),
    "train.num_instances": (_positive, "> 0"),
    "train.per_resolution": (_positive, "> 0"),
    "train.margin": (_non_negative, ">= 0"),
    "train.label_smoothing": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "train.precision": (lambda v: v in PRECISIONS, " or ".join(PRECISIONS)),
    "train.seed": (_non_negative, ">= 0"),
    "train.checkpoint_every": (_positive, "> 0"),
    "train.log_every": (_positive, "> 0"),
    "eval.rfd_lambda": (lambda v: abs(v) <= MAX_LAMBDA, f"at most {MAX_LAMBDA:.3g} in size"),
    "eval.lambda_sweep": (lambda v: all(abs(x) <= MAX_LAMBDA for x in v),
                          f"a list of numbers at most {MAX_LAMBDA:.3g} in size"),
    "eval.rfd_form": (lambda v: v in RFD_FORMS, " or ".join(RFD_FORMS)),
    "eval.select_lambda": (lambda v: all(0 <= x <= MAX_LAMBDA for x in v),
                           f"a list of numbers in [0, {MAX_LAMBDA:.3g}]"),
    "eval.select_forms": (lambda v: bool(v) and all(f in RFD_FORMS for f in v),
                          "a non-empty list of " + " / ".join(RFD_FORMS)),
    "eval.select_rule": (lambda v: v in SELECT_RULES, " or ".join(SELECT_RULES)),
    "eval.select_margin": (_non_negative, ">= 0"),
    "eval.precision": (lambda v: v in ("auto", "fp32", "bf16"), "auto, fp32 or bf16"),
    "eval.repeats": (_positive, "> 0"),
    "eval.workers": (_non_negative, ">= 0"),
    "eval.batch_size": (_positive, "> 0"),
    "eval.max_rank": (_positive, "> 0"),
    **{f"eval.rerank_{RERANK_FLAGS[name]}": rule for name, rule in RERANK_RULES.items()},
}


def _finite(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return all(math.isfinite(v) for v in values if isinstance(v, float))


def validate(cfg: ExperimentConfig, where: str = "config") -> None:
    """Refuse out-of-range values (height 0, lr -1 or NaN, iterations 0, ...) with one line
    naming the key and value, before anything is built or written."""
    for key, (accepts, rule) in _RULES.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if not _finite(value):
            raise ReIDError(f"{where}: {key}={value!r} is invalid; it must be a finite number")
        if not accepts(value):
            raise ReIDError(f"{where}: {key}={value!r} is invalid; it must be {rule}")
