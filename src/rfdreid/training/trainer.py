"""The training loop for B-F (person ids) and B-R (resolution labels).

`train()` is three steps: build the run (network, optimiser, schedule), resume it from
its checkpoint, loop (sample, forward, loss terms, backward, step, log, checkpoint).
Resuming restores model, optimiser and the torch RNG; the sampler and the lr schedule are
pure functions of the iteration, so a resumed run repeats the uninterrupted one exactly.

Safety: the run folder is locked while a run writes it; a NaN/inf loss stops the run
(non-zero exit) and keeps the last good checkpoint; log.csv is only ever appended to or
replaced atomically, so no kill loses its history.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, replace
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from rfdreid.config import ExperimentConfig
from rfdreid.data.dataset import ReIDImageDataset
from rfdreid.data.records import Protocol
from rfdreid.data.transforms import build_transform
from rfdreid.training.checkpoint import (
    PROTOCOL_RELATIVE,
    load_checkpoint,
    load_weights,
    non_finite_tensors,
    save_checkpoint,
    stored_config,
)
from rfdreid.training.distributed import DistContext, cleanup_distributed, init_distributed
from rfdreid.training.finetune import build_training_model
from rfdreid.training.precision import (
    PrecisionChoice,
    autocast,
    autotune_convolutions,
    grad_scaler,
    memory_format,
    resolve_precision,
)
from rfdreid.training.runlock import run_lock
from rfdreid.training.schedule import lr_at
from rfdreid.training.samplers import GroupedBatchSampler
from rfdreid.training.seeding import seed_everything
from rfdreid.training.tasks import task_of
from rfdreid.errors import ReIDError
from rfdreid.fileio import atomic_write_text, check_writable
from rfdreid.losses import ReIDLoss
from rfdreid.models.build import init_summary, random_init_warning
from rfdreid.progress import progress as progress_bar

CHECKPOINT_NAME = "checkpoint.pt"
LOG_COLUMNS = ["iteration", "lr", "loss", "id", "triplet", "images_per_s"]
PAPER_ITERS_PER_ID = 500  # section 4.1: 500 x number of identities
# Config keys a resumed run may change (schedule, logging, I/O); any other change would
# make the resumed run a different experiment than its checkpoint.
RESUMABLE_KEYS = frozenset({
    "train.lr", "train.iterations", "train.checkpoint_every", "train.log_every",
    "train.out_dir", "data.protocol", "data.workers", "data.cache_size",
})


def schedule_length(cfg: ExperimentConfig, protocol: Protocol) -> int:
    """Iterations to train: the config value, or the paper's 500 x training identities."""
    if cfg.train.iterations is not None:
        return cfg.train.iterations
    return PAPER_ITERS_PER_ID * protocol.num_train_pids


def build_sampler(
    cfg: ExperimentConfig, protocol: Protocol, start: int, total: int, rank: int
) -> GroupedBatchSampler:
    """P x K identities for B-F; every resolution class x `per_resolution` for B-R."""
    t, task = cfg.train, task_of(cfg)
    labels = [task.label(r) for r in protocol.train]
    groups, per_group = task.batch_shape(t, len(set(labels)))
    return GroupedBatchSampler(
        labels, groups, per_group, seed=t.seed, num_iters=total, start_iter=start, rank=rank
    )


def _train_step(run: _Run, net: nn.Module, loss_fn: ReIDLoss, images: torch.Tensor,
                targets: torch.Tensor) -> dict[str, float]:
    """One forward (under the run's autocast), backward and Adam step."""
    with autocast(run.precision.precision, images.device):
        loss, terms = loss_fn(net(images), targets)
    run.optimizer.zero_grad(set_to_none=True)
    if run.scaler is None:
        loss.backward()
        run.optimizer.step()
    else:  # fp16: scale the loss so small gradients survive, skip steps that overflow
        run.scaler.scale(loss).backward()
        run.scaler.step(run.optimizer)
        run.scaler.update()
    return terms


CheckpointHook = Callable[[int, Path], None]


def train(cfg: ExperimentConfig, resume: bool = False, progress: bool = True,
          on_checkpoint: CheckpointHook | None = None) -> Path:
    """Train one model as `cfg` says; returns the path of the final checkpoint.

    `on_checkpoint(iteration, path)` runs after every checkpoint is written (main process),
    outside the timed loop: `benchmarks/bench_train.py` scores accuracy against time there.
    """
    ctx = init_distributed()
    try:
        return _train(cfg, resume, progress, ctx, on_checkpoint)
    finally:
        cleanup_distributed()


@dataclass
class _Run:
    """Everything the loop needs, built once from the config."""

    cfg: ExperimentConfig
    protocol: Protocol
    total: int
    num_classes: int
    model: nn.Module
    optimizer: torch.optim.Optimizer
    ckpt_path: Path
    precision: PrecisionChoice  # `auto` resolved; a resumed run keeps its checkpoint's
    scaler: torch.amp.GradScaler | None = None  # fp16 on CUDA only
    start: int = 0
    changes: tuple[str, ...] = ()  # config changes applied on resume, recorded in the file


def _train(cfg: ExperimentConfig, resume: bool, progress: bool, ctx: DistContext,
           on_checkpoint: CheckpointHook | None) -> Path:
    out = check_writable(Path(cfg.train.out_dir), "run folder (--out, train.out_dir)",
                         folder=True)
    if not cfg.data.protocol:
        raise ReIDError("no protocol file: pass --protocol FILE (written by `rfdreid prepare`) "
                        "or set data.protocol in the preset")
    protocol = Protocol.load(cfg.data.protocol)
    if not protocol.train:
        raise ReIDError(f"protocol {cfg.data.protocol} has an empty training set")
    # Stored absolute: `rfdreid evaluate` finds it from any working folder.
    cfg = replace(cfg, data=replace(cfg.data, protocol=os.path.abspath(cfg.data.protocol)))
    with run_lock(out) if ctx.is_main else nullcontext():
        ckpt_path = out / CHECKPOINT_NAME
        if ckpt_path.exists() and not resume:
            raise ReIDError(
                f"{ckpt_path} exists; pass --resume to continue it or choose another "
                "train.out_dir"
            )
        if ctx.is_main:
            _remove_stale_temp_files(out)
        run = build_run(cfg, protocol, ckpt_path, ctx)
        if resume and ckpt_path.exists():
            resume_run(run)
        if run.start >= run.total:  # finished: leave the file (and caches keyed on it) alone
            return ckpt_path
        if ctx.is_main:
            if run.precision.auto:  # what the hardware chose, and why (a set value is known)
                print(run.precision.line(), flush=True)
            for warning in (run.precision.warning, random_init_warning(cfg.model)):
                if warning:
                    print(f"warning: {warning}", file=sys.stderr, flush=True)
        return train_loop(run, progress, ctx, on_checkpoint)


def _remove_stale_temp_files(out: Path) -> None:
    """Delete temp files of writes a killed run left (`.checkpoint.pt.*` are ~30 MB each)."""
    for name in (CHECKPOINT_NAME, "log.csv", "config.yaml"):
        for tmp in out.glob(f".{name}.*"):
            tmp.unlink(missing_ok=True)


def param_groups(model: nn.Module, head_lr_mult: float) -> list[dict[str, Any]]:
    """Adam's groups: one (the paper), or the pretrained body and the new head layers with
    their own lr multiplier (kept as the group's "lr_mult", saved with the optimiser)."""
    if head_lr_mult == 1.0:
        return [{"params": list(model.parameters()), "lr_mult": 1.0}]
    head = {id(p) for p in model.head_parameters()}
    return [{"params": [p for p in model.parameters() if id(p) not in head], "lr_mult": 1.0},
            {"params": model.head_parameters(), "lr_mult": head_lr_mult}]


def build_run(cfg: ExperimentConfig, protocol: Protocol, ckpt_path: Path,
              ctx: DistContext) -> _Run:
    """A fresh network in the configured memory format and Adam, seeded."""
    precision = resolve_precision(cfg.train.precision, ctx.device)
    autotune_convolutions(ctx.device)
    total = schedule_length(cfg, protocol)
    if cfg.train.warmup_iters >= total:
        raise ReIDError(f"train.warmup_iters ({cfg.train.warmup_iters}) must be below the "
                        f"run's {total} iterations; lower it or raise train.iterations")
    num_classes = task_of(cfg).num_classes(protocol)
    seed_everything(cfg.train.seed)
    model = build_training_model(cfg, num_classes, announce=ctx.is_main).to(
        ctx.device, memory_format=memory_format(cfg.train.channels_last))
    optimizer = torch.optim.Adam(
        param_groups(model, cfg.train.head_lr_mult),
        lr=cfg.train.lr,
        betas=(cfg.train.beta1, 0.999),
        weight_decay=cfg.train.weight_decay,
        fused=True,  # one kernel over all parameters: ~7 % of a CPU step is Adam otherwise
    )
    return _Run(cfg, protocol, total, num_classes, model, optimizer, ckpt_path, precision,
                scaler=grad_scaler(precision.precision, ctx.device))


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            flat.update(_flatten(v, f"{prefix}{k}."))
        else:
            flat[f"{prefix}{k}"] = v
    return flat


def config_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{dotted key: (old, new)} for every value that differs between two config dicts."""
    a, b = _flatten(old), _flatten(new)
    return {k: (a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)}


def resume_run(run: _Run) -> None:
    """Restore weights, optimiser and RNG from the run's checkpoint.

    Schedule and logging values changed with --set (RESUMABLE_KEYS) are applied (lr is
    recomputed every step) and recorded; any other config change is refused with a
    one-line diff.
    """
    path, cfg = run.ckpt_path, run.cfg
    state = load_checkpoint(path)
    if state.get("protocol") != run.protocol.train_fingerprint():
        raise ReIDError(
            f"{path} was trained on another training set than {cfg.data.protocol}; "
            "resume with the same protocol file or start a new train.out_dir"
        )
    # Filled with today's defaults first: keys older checkpoints lack (added with their
    # old behaviour as the default) are no change.
    stored = stored_config(state, path)
    changes = config_changes(stored.to_dict(), cfg.to_dict())
    refused = {k: v for k, v in changes.items() if k not in RESUMABLE_KEYS
               and not k.startswith("eval.")}
    if refused:
        diff = ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in refused.items())
        raise ReIDError(
            f"--resume: {path} was trained with another config ({diff}); only "
            f"{', '.join(sorted(RESUMABLE_KEYS))} may change on resume; start a new "
            "train.out_dir instead"
        )
    run.precision = kept_precision(run.precision, state.get("precision"), path)
    load_weights(run.model, state["model"], path)
    run.optimizer.load_state_dict(state["optimizer"])
    if run.scaler is not None and state.get("scaler"):
        run.scaler.load_state_dict(state["scaler"])
    torch.set_rng_state(state["torch_rng"])
    if torch.cuda.is_available() and state.get("cuda_rng"):
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    run.start = int(state["iteration"])
    applied = tuple(f"{k} {a!r} -> {b!r} at iteration {run.start}"
                    for k, (a, b) in changes.items() if k.startswith("train."))
    run.changes = (*state.get("resume_changes", ()), *applied)
    for change in applied:
        print(f"resume: applying {change}", file=sys.stderr)


def kept_precision(here: PrecisionChoice, stored: Any, path: Path) -> PrecisionChoice:
    """The precision a resumed `auto` run keeps: the one its checkpoint chose, on whichever
    machine that was (switching mid-run would make it another experiment); a warning says
    when this machine would have chosen otherwise. Explicit precisions are already equal
    (a changed train.precision is refused on resume)."""
    if not (here.auto and isinstance(stored, dict) and stored.get("auto")):
        return here
    value = str(stored["value"])
    warning = None if value == here.precision else (
        f"resuming in {value} as {path} chose it; here auto would choose {here.precision} "
        f"({here.reason})")
    return PrecisionChoice(value, True, f"kept from {path} ({stored.get('reason')})", warning)


def _save(run: _Run, iteration: int) -> None:
    """Write the checkpoint; weights that went NaN/inf are never saved over a good one."""
    bad = non_finite_tensors(run.model.state_dict())
    if bad:
        raise _diverged(run, iteration, f"weights became non-finite ({bad[0]})")
    save_checkpoint(run.ckpt_path, {
        "config": run.cfg.to_dict(),
        "num_classes": run.num_classes,
        "init": init_summary(run.cfg.model, run.model.pretrained_report),
        "precision": run.precision.to_dict(),
        "iteration": iteration,
        "protocol": run.protocol.train_fingerprint(),
        # Where the protocol is seen from the checkpoint: found again after the run and
        # protocol folders are moved or copied together (read_trained_model).
        PROTOCOL_RELATIVE: os.path.relpath(run.cfg.data.protocol, run.ckpt_path.parent),
        "resume_changes": list(run.changes),
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scaler": run.scaler.state_dict() if run.scaler is not None else {},
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    })


def _diverged(run: _Run, iteration: int, what: str) -> ReIDError:
    kept = (f"the last good checkpoint {run.ckpt_path} is kept"
            if run.ckpt_path.exists() else "no checkpoint was written")
    return ReIDError(f"training diverged: {what} at iteration {iteration}; {kept}; "
                     f"lower train.lr (now {run.cfg.train.lr:g})")


def _train_loader(run: _Run, ctx: DistContext) -> DataLoader:
    """The augmented training batches from run.start on, in the task's sampler order."""
    cfg = run.cfg
    dataset = ReIDImageDataset(
        run.protocol.train,
        build_transform(
            cfg.data.height, cfg.data.width, train=True,
            flip_p=cfg.data.flip_p, erasing_p=cfg.data.erasing_p,
        ),
        interpolation=run.protocol.interpolation,
        train=True,
        cache_size=cfg.data.cache_size,
    )
    return DataLoader(
        dataset,
        batch_sampler=build_sampler(cfg, run.protocol, run.start, run.total, ctx.rank),
        num_workers=cfg.data.workers,
        persistent_workers=cfg.data.workers > 0,
        pin_memory=ctx.device.type == "cuda",
        # Its own generator: creating the loader must not draw from the global torch RNG,
        # or a resumed run's dropout masks would drift from the uninterrupted run's.
        generator=torch.Generator().manual_seed(cfg.train.seed),
    )


def _set_lr(run: _Run, iteration: int) -> None:
    """The schedule's rate for `iteration` (1-based), times each group's multiplier."""
    lr = lr_at(run.cfg.train, iteration - 1, run.total)
    for group in run.optimizer.param_groups:
        group["lr"] = lr * group.get("lr_mult", 1.0)


def train_loop(run: _Run, progress: bool, ctx: DistContext,
               on_checkpoint: CheckpointHook | None = None) -> Path:
    """Train from run.start to run.total, logging and checkpointing; returns the file."""
    cfg, out = run.cfg, run.ckpt_path.parent
    net: nn.Module = DistributedDataParallel(run.model) if ctx.world_size > 1 else run.model
    loader = _train_loader(run, ctx)
    loss_fn = ReIDLoss(margin=cfg.train.margin, label_smoothing=cfg.train.label_smoothing)
    if ctx.is_main:
        cfg.dump(out / "config.yaml")
    log = CsvLog(out / "log.csv", resume_at=run.start) if ctx.is_main else None
    bar = progress_bar(
        total=run.total, initial=run.start, enabled=progress and ctx.is_main,
        desc=f"train {task_of(cfg).model}", unit="it",
    )
    net.train()
    tick, seen = time.perf_counter(), 0
    iteration = run.start
    try:
        for iteration, (images, pids, _camids, res_labels, _idx) in enumerate(
                loader, start=run.start + 1):
            targets = task_of(cfg).targets(pids, res_labels)
            images = images.to(ctx.device, memory_format=memory_format(cfg.train.channels_last))
            _set_lr(run, iteration)
            terms = _train_step(run, net, loss_fn, images, targets.to(ctx.device))
            if not math.isfinite(terms["total"]):
                raise _diverged(run, iteration, f"the loss is {terms['total']}")
            seen += images.shape[0]
            bar.update(1)
            if iteration % cfg.train.log_every == 0 or iteration == run.total:
                rate = seen * ctx.world_size / max(time.perf_counter() - tick, 1e-9)
                bar.set_postfix({k: f"{v:.3f}" for k, v in terms.items()} | {"img/s": f"{rate:.0f}"})
                if log:
                    log.write(iteration, run.optimizer.param_groups[0]["lr"], terms, rate)
                tick, seen = time.perf_counter(), 0
            if ctx.is_main and iteration % cfg.train.checkpoint_every == 0 \
                    and iteration < run.total:
                _checkpoint(run, iteration, net, on_checkpoint)
                tick, seen = time.perf_counter(), 0
    except BaseException:
        bar.leave = False  # the error, not a half-drawn bar, is the last thing shown
        raise
    finally:
        bar.close()
        if log:
            log.close()
    if ctx.is_main:
        _checkpoint(run, iteration, None, on_checkpoint)
    return run.ckpt_path


def _checkpoint(run: _Run, iteration: int, net: nn.Module | None,
                on_checkpoint: CheckpointHook | None) -> None:
    """Save, then run the hook; `net` (mid-training) goes back to train mode after it,
    since the hook may have evaluated."""
    _save(run, iteration)
    if on_checkpoint:
        on_checkpoint(iteration, run.ckpt_path)
        if net is not None:
            net.train()


def _read_log_rows(path: Path) -> list[list[str]]:
    """The well-formed data rows of a log.csv; blank, torn or junk lines are skipped."""
    if not path.exists():
        return []
    with path.open(newline="", errors="replace") as f:
        return [row for row in csv.reader(f)
                if len(row) == len(LOG_COLUMNS) and row[0].isdigit()]


class CsvLog:
    """One row per log interval, appended and flushed as it is logged.

    A resumed run keeps the rows up to its checkpoint and drops those logged after it
    (they are about to be trained again); that rewrite is atomic, so a kill at any moment
    leaves the old history or the new one, never an empty file.
    """

    def __init__(self, path: Path, resume_at: int) -> None:
        kept = [r for r in _read_log_rows(path) if int(r[0]) <= resume_at] if resume_at else []
        lines = [",".join(LOG_COLUMNS), *(",".join(r) for r in kept)]
        atomic_write_text(path, "\n".join(lines) + "\n")
        self.file = path.open("a", newline="")
        self.writer = csv.writer(self.file, lineterminator="\n")

    def write(self, iteration: int, lr: float, terms: dict[str, float], rate: float) -> None:
        self.writer.writerow([
            iteration, f"{lr:.3g}", f"{terms.get('total', 0):.5f}",
            f"{terms.get('id', 0):.5f}", f"{terms.get('triplet', 0):.5f}", f"{rate:.1f}",
        ])
        self.file.flush()

    def close(self) -> None:
        self.file.close()
