"""The lr schedule against torch's own schedulers (an implementation that shares no code)."""

from __future__ import annotations

import pytest
import torch

from rfdreid.config import load_config
from rfdreid.training import trainer
from rfdreid.training.schedule import lr_at
from rfdreid.errors import ReIDError

from tiny import TINY_OVERRIDES


def _torch_lrs(make, total: int, lr: float) -> list[float]:
    """lr used by each of `total` steps under a torch scheduler built by `make(opt)`."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make(opt)
    lrs = []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def _ours(total: int, *overrides: str) -> list[float]:
    t = load_config(None, ["train.lr=0.01", *overrides]).train
    return [lr_at(t, s, total) for s in range(total)]


def test_paper_step_schedule_divides_by_ten_at_half():
    """Section 4.1: lr 2e-4 divided by 10 after half the iterations (written out by hand)."""
    t = load_config(None).train
    assert [lr_at(t, s, 10) for s in range(10)] == pytest.approx([2e-4] * 5 + [2e-5] * 5)
    assert _ours(7, "train.lr_decay_at=0.3") == pytest.approx(_torch_lrs(
        lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[2], gamma=0.1), 7, 0.01))


@pytest.mark.parametrize("warmup", [0, 1, 4])
def test_warmup_then_cosine_matches_torch(warmup):
    total = 20

    def make(opt):
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup)
        if not warmup:
            return cosine
        ramp = torch.optim.lr_scheduler.LinearLR(
            opt, start_factor=1 / warmup, end_factor=1.0, total_iters=max(1, warmup - 1))
        return torch.optim.lr_scheduler.SequentialLR(opt, [ramp, cosine], milestones=[warmup])

    ours = _ours(total, "train.lr_schedule=cosine", f"train.warmup_iters={warmup}")
    assert ours == pytest.approx(_torch_lrs(make, total, 0.01), rel=1e-6, abs=1e-12)
    assert ours[warmup] == pytest.approx(0.01) and 0 < ours[-1] < 0.01 * 0.02


def test_warmup_ramps_before_the_step_schedule():
    lrs = _ours(10, "train.warmup_iters=4")
    assert lrs == pytest.approx([0.0025, 0.005, 0.0075, 0.01, 0.01, 0.001, 0.001, 0.001,
                                 0.001, 0.001])


def test_training_follows_the_schedule_and_it_changes_the_weights(tiny_protocol, tmp_path):
    """The lr logged per iteration is the cosine curve; a gate that ignored it would not be."""
    def run(name, *extra):
        cfg = load_config(None, [*TINY_OVERRIDES, f"data.protocol={tiny_protocol}",
                                 f"train.out_dir={tmp_path / name}", "train.iterations=6",
                                 "train.log_every=1", "train.lr=0.01", *extra])
        state = torch.load(trainer.train(cfg, progress=False), weights_only=True)
        logged = [float(r.split(",")[1])
                  for r in (tmp_path / name / "log.csv").read_text().split()[1:]]
        return state["model"], logged

    step_w, step_lr = run("step")
    cos_w, cos_lr = run("cos", "train.lr_schedule=cosine", "train.warmup_iters=2")
    assert step_lr == pytest.approx([0.01] * 3 + [0.001] * 3, rel=1e-3)
    assert cos_lr == pytest.approx(_ours(6, "train.lr_schedule=cosine", "train.warmup_iters=2"),
                                   rel=5e-3)  # log.csv keeps 3 digits
    assert any(not torch.equal(step_w[k], cos_w[k]) for k in step_w)


def test_warmup_longer_than_the_run_is_refused(tiny_protocol, tmp_path):
    cfg = load_config(None, [*TINY_OVERRIDES, f"data.protocol={tiny_protocol}",
                             f"train.out_dir={tmp_path}", "train.iterations=3",
                             "train.warmup_iters=3"])
    with pytest.raises(ReIDError, match=r"train.warmup_iters \(3\) must be below the run's 3"):
        trainer.train(cfg, progress=False)


def test_head_parameters_are_the_reductions_and_classifiers(tiny_protocol):
    from rfdreid.models import build_model

    model = build_model(load_config(None, TINY_OVERRIDES).model, num_classes=6)
    by_name = {id(p) for n, p in model.named_parameters()
               if n.startswith("classifiers.") or ".reductions." in n}
    head = model.head_parameters()
    assert {id(p) for p in head} == by_name and len(head) == len(by_name)
    assert len(model.classifiers) == 8 and len(head) == 8 * 2 + 8 * 3  # W, b | W, BN w, b


@pytest.mark.parametrize("mult", [1.0, 10.0])
def test_head_lr_mult_scales_the_first_adam_step_of_the_head_only(tiny_protocol, tmp_path,
                                                                  monkeypatch, mult):
    """Adam's first step moves every parameter by ~lr (m / sqrt(v) = sign g): the body by
    lr, the head by lr x head_lr_mult."""
    real_step, moved = trainer._train_step, {}

    def watched(run, *args):
        before = {n: p.detach().clone() for n, p in run.model.named_parameters()}
        terms = real_step(run, *args)
        if not moved:
            moved.update({n: (p.detach() - before[n]).abs()
                          for n, p in run.model.named_parameters()})
        return terms

    monkeypatch.setattr(trainer, "_train_step", watched)
    cfg = load_config(None, [*TINY_OVERRIDES, f"data.protocol={tiny_protocol}",
                             f"train.out_dir={tmp_path}", "train.iterations=1", "train.lr=1e-3",
                             f"train.head_lr_mult={mult}"])
    trainer.train(cfg, progress=False)
    is_head = {n: n.startswith("classifiers.") or ".reductions." in n for n in moved}
    head = torch.cat([d.flatten() for n, d in moved.items() if is_head[n]])
    body = torch.cat([d.flatten() for n, d in moved.items() if not is_head[n]])
    assert body.median().item() == pytest.approx(1e-3, rel=0.05)
    assert head.median().item() == pytest.approx(1e-3 * mult, rel=0.05)
