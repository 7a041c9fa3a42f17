"""The training loop for B-F (person ids) and B-R (resolution labels).

One readable `train()` with explicit steps: sample, forward, loss terms, backward, step,
log, checkpoint. Resuming restores model, optimiser, scheduler and the torch RNG, and the
sampler is a pure function of the iteration, so a resumed run repeats the uninterrupted
one exactly.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from rfdreid.config import ExperimentConfig
from rfdreid.data.dataset import ReIDImageDataset
from rfdreid.data.records import Protocol
from rfdreid.data.transforms import build_transform
from rfdreid.engine.checkpoint import load_checkpoint, save_checkpoint
from rfdreid.engine.distributed import DistContext, cleanup_distributed, init_distributed
from rfdreid.engine.samplers import GroupedBatchSampler
from rfdreid.engine.seeding import seed_everything
from rfdreid.errors import ReIDError
from rfdreid.losses import ReIDLoss
from rfdreid.models import build_model
from rfdreid.models.build import init_summary, random_init_warning
from rfdreid.progress import progress as progress_bar

CHECKPOINT_NAME = "checkpoint.pt"
LOG_COLUMNS = ["iteration", "lr", "loss", "id", "triplet", "images_per_s"]
PAPER_ITERS_PER_ID = 500  # section 4.1: 500 x number of identities


def schedule_length(cfg: ExperimentConfig, protocol: Protocol) -> int:
    """Iterations to train: the config value, or the paper's 500 x training identities."""
    if cfg.train.iterations is not None:
        return cfg.train.iterations
    return PAPER_ITERS_PER_ID * protocol.num_train_pids


def build_sampler(
    cfg: ExperimentConfig, protocol: Protocol, start: int, total: int, rank: int
) -> GroupedBatchSampler:
    """P x K identities for B-F; every resolution class x `per_resolution` for B-R."""
    t = cfg.train
    if t.task == "id":
        labels = [r.pid for r in protocol.train]
        groups, per_group = t.num_ids, t.num_instances
    elif t.task == "resolution":
        labels = [r.res_label for r in protocol.train]
        groups, per_group = len(set(labels)), t.per_resolution
    else:
        raise ReIDError(f"train.task must be 'id' or 'resolution', got {t.task!r}")
    return GroupedBatchSampler(
        labels, groups, per_group, seed=t.seed, num_iters=total, start_iter=start, rank=rank
    )


def num_classes_for(cfg: ExperimentConfig, protocol: Protocol) -> int:
    if cfg.train.task == "id":
        return protocol.num_train_pids
    return protocol.num_res_classes


def _train_step(
    model: nn.Module,
    loss_fn: ReIDLoss,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    targets: torch.Tensor,
) -> dict[str, float]:
    output = model(images)
    loss, terms = loss_fn(output, targets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return terms


def train(cfg: ExperimentConfig, resume: bool = False, progress: bool = True) -> Path:
    """Train one model as `cfg` says; returns the path of the final checkpoint."""
    ctx = init_distributed()
    try:
        return _train(cfg, resume, progress, ctx)
    finally:
        cleanup_distributed()


def _train(cfg: ExperimentConfig, resume: bool, progress: bool, ctx: DistContext) -> Path:
    out = Path(cfg.train.out_dir)
    ckpt_path = out / CHECKPOINT_NAME
    if ckpt_path.exists() and not resume:
        raise ReIDError(
            f"{ckpt_path} exists; pass --resume to continue it or choose another train.out_dir"
        )
    if not cfg.data.protocol:
        raise ReIDError("no protocol file: pass --protocol FILE (written by `rfdreid prepare`) "
                        "or set data.protocol in the preset")
    protocol = Protocol.load(cfg.data.protocol)
    if not protocol.train:
        raise ReIDError(f"protocol {cfg.data.protocol} has an empty training set")
    total = schedule_length(cfg, protocol)
    num_classes = num_classes_for(cfg, protocol)
    seed_everything(cfg.train.seed)
    if ctx.is_main and (warning := random_init_warning(cfg.model)):
        print(f"warning: {warning}", file=sys.stderr, flush=True)

    model = build_model(cfg.model, num_classes).to(ctx.device)
    optimizer = torch.optim.Adam(
        model.parameters(),
        lr=cfg.train.lr,
        betas=(cfg.train.beta1, 0.999),
        weight_decay=cfg.train.weight_decay,
    )
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimizer, milestones=[max(1, int(total * cfg.train.lr_decay_at))], gamma=0.1
    )
    start = 0
    if resume and ckpt_path.exists():
        state = load_checkpoint(ckpt_path)
        if state["protocol"] != protocol.train_fingerprint():
            raise ReIDError(
                f"{ckpt_path} was trained on another training set than {cfg.data.protocol}; "
                "resume with the same protocol file or start a new train.out_dir"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        if torch.cuda.is_available() and state.get("cuda_rng"):
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        start = int(state["iteration"])
        if start >= total:  # finished: leave the file (and feature caches keyed on it) alone
            return ckpt_path
    if ctx.world_size > 1:
        net: nn.Module = DistributedDataParallel(model)
    else:
        net = model

    dataset = ReIDImageDataset(
        protocol.train,
        build_transform(
            cfg.data.height, cfg.data.width, train=True,
            flip_p=cfg.data.flip_p, erasing_p=cfg.data.erasing_p,
        ),
        interpolation=protocol.interpolation,
        train=True,
        cache_size=cfg.data.cache_size,
    )
    sampler = build_sampler(cfg, protocol, start, total, ctx.rank)
    loader = DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=cfg.data.workers,
        persistent_workers=cfg.data.workers > 0,
        pin_memory=ctx.device.type == "cuda",
        # Its own generator: creating the loader must not draw from the global torch RNG,
        # or a resumed run's dropout masks would drift from the uninterrupted run's.
        generator=torch.Generator().manual_seed(cfg.train.seed),
    )
    loss_fn = ReIDLoss(margin=cfg.train.margin, label_smoothing=cfg.train.label_smoothing)

    def checkpoint(iteration: int) -> None:
        if ctx.is_main:
            save_checkpoint(ckpt_path, {
                "config": cfg.to_dict(),
                "num_classes": num_classes,
                "init": init_summary(cfg.model, model.pretrained_report),
                "iteration": iteration,
                "protocol": protocol.train_fingerprint(),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            })

    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
        cfg.dump(out / "config.yaml")
    log = _CsvLog(out / "log.csv", resume_at=start) if ctx.is_main else None
    bar = progress_bar(
        total=total, initial=start, enabled=progress and ctx.is_main,
        desc=f"train {'B-F' if cfg.train.task == 'id' else 'B-R'}", unit="it",
    )
    net.train()
    tick, seen = time.perf_counter(), 0
    iteration = start
    for iteration, (images, pids, _camids, res_labels, _idx) in enumerate(loader, start=start + 1):
        targets = pids if cfg.train.task == "id" else res_labels
        terms = _train_step(
            net, loss_fn, optimizer, images.to(ctx.device), targets.to(ctx.device)
        )
        scheduler.step()
        seen += images.shape[0]
        bar.update(1)
        if iteration % cfg.train.log_every == 0 or iteration == total:
            rate = seen * ctx.world_size / max(time.perf_counter() - tick, 1e-9)
            bar.set_postfix({k: f"{v:.3f}" for k, v in terms.items()} | {"img/s": f"{rate:.0f}"})
            if log:
                log.write(iteration, optimizer.param_groups[0]["lr"], terms, rate)
            tick, seen = time.perf_counter(), 0
        if iteration % cfg.train.checkpoint_every == 0 and iteration < total:
            checkpoint(iteration)
    bar.close()
    if log:
        log.close()
    checkpoint(iteration)
    return ckpt_path


class _CsvLog:
    """One row per log interval. A resumed run keeps the rows up to its checkpoint and
    drops those logged after it (they are about to be trained again)."""

    def __init__(self, path: Path, resume_at: int) -> None:
        kept: list[list[str]] = []
        if resume_at > 0 and path.exists():
            with path.open(newline="") as f:
                kept = [row for row in list(csv.reader(f))[1:] if int(row[0]) <= resume_at]
        self.file = path.open("w", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerows([LOG_COLUMNS, *kept])

    def write(self, iteration: int, lr: float, terms: dict[str, float], rate: float) -> None:
        self.writer.writerow([
            iteration, f"{lr:.3g}", f"{terms.get('total', 0):.5f}",
            f"{terms.get('id', 0):.5f}", f"{terms.get('triplet', 0):.5f}", f"{rate:.1f}",
        ])
        self.file.flush()

    def close(self) -> None:
        self.file.close()
