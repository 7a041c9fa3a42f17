"""ID loss (eq 1), batch-hard triplet loss (eq 2) and their combination."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rfdreid.losses import ReIDLoss, batch_hard_triplet, euclidean_dist, id_loss, triplet_loss
from rfdreid.models import ReIDOutput


def brute_force_triplet(x: torch.Tensor, y: torch.Tensor, margin: float) -> torch.Tensor:
    losses = []
    for a in range(len(x)):
        pos = [torch.dist(x[a], x[p]) for p in range(len(x)) if y[p] == y[a]]
        neg = [torch.dist(x[a], x[n]) for n in range(len(x)) if y[n] != y[a]]
        losses.append(torch.relu(max(pos) - min(neg) + margin))
    return torch.stack(losses).mean()


def test_batch_hard_matches_a_loop() -> None:
    torch.manual_seed(0)
    x = torch.randn(12, 5)
    y = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    assert torch.allclose(euclidean_dist(x, x), torch.cdist(x, x), atol=1e-4)
    for margin in (0.3, 5.0):
        expected = brute_force_triplet(x, y, margin)
        assert torch.allclose(batch_hard_triplet(x, y, margin), expected, atol=1e-5)
    summed = batch_hard_triplet(x, y) + batch_hard_triplet(2 * x, y)
    assert torch.allclose(triplet_loss([x, 2 * x], y), summed)
    wide = brute_force_triplet(x, y, 5.0) + brute_force_triplet(2 * x, y, 5.0)
    assert torch.allclose(triplet_loss([x, 2 * x], y, margin=5.0), wide, atol=1e-5)


def test_identical_embeddings_give_finite_gradients() -> None:
    x = torch.ones(8, 4, requires_grad=True)
    y = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    loss = batch_hard_triplet(x, y, margin=0.3)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all()
    assert abs(loss.item() - 0.3) < 1e-3


def test_id_loss_sums_over_classifiers() -> None:
    torch.manual_seed(0)
    logits = [torch.randn(6, 4) for _ in range(3)]
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    expected = sum(F.cross_entropy(z, y) for z in logits)
    assert torch.allclose(id_loss(logits, y), expected)
    smoothed = sum(F.cross_entropy(z, y, label_smoothing=0.1) for z in logits)
    assert torch.allclose(id_loss(logits, y, label_smoothing=0.1), smoothed)


def test_reid_loss_reports_every_term() -> None:
    torch.manual_seed(0)
    y = torch.tensor([0, 0, 1, 1])
    out = ReIDOutput(
        logits=[torch.tensor([[5.0, 0], [5, 0], [0, 5], [5, 0]])] * 2,
        triplet_features=[torch.randn(4, 3, requires_grad=True)],
    )
    loss, terms = ReIDLoss(margin=0.3)(out, y)
    assert set(terms) == {"id", "triplet", "total", "acc"}
    assert abs(terms["total"] - terms["id"] - terms["triplet"]) < 1e-5
    assert abs(terms["acc"] - 0.75) < 1e-6
    assert loss.requires_grad


def _output(seed: int) -> tuple[ReIDOutput, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    return ReIDOutput(logits=[torch.randn(6, 3, generator=gen) for _ in range(2)],
                      triplet_features=[torch.randn(6, 4, generator=gen)]), y


def test_reid_loss_is_eq1_plus_eq2_with_its_margin_and_smoothing() -> None:
    """Oracle: cross-entropy summed over classifiers plus the looped batch-hard triplet.
    Defaults are the paper's: margin 0.3, no label smoothing."""
    out, y = _output(1)
    x = out.triplet_features[0]

    def expected(margin: float, smoothing: float) -> float:
        ce = sum(F.cross_entropy(z, y, label_smoothing=smoothing) for z in out.logits)
        return float(ce + brute_force_triplet(x, y, margin))

    for loss_fn, margin, smoothing in ((ReIDLoss(), 0.3, 0.0),
                                       (ReIDLoss(margin=2.0, label_smoothing=0.2), 2.0, 0.2)):
        total, terms = loss_fn(out, y)
        assert total.item() == pytest.approx(expected(margin, smoothing), abs=1e-5)
        assert terms["triplet"] == pytest.approx(float(brute_force_triplet(x, y, margin)),
                                                 abs=1e-5)


def test_bf16_features_give_a_float32_triplet_term() -> None:
    """Under bf16 autocast the network hands bf16 features to the loss; the distances must
    still be float32 (a bf16 distance of ~20 moves in steps of 0.125). Oracle: the loop
    above in float64 on the same bf16-valued features."""
    torch.manual_seed(0)
    y = torch.arange(16) // 4
    feats = [(8 * torch.randn(16, 64)).to(torch.bfloat16) for _ in range(3)]
    out = ReIDOutput(logits=[torch.randn(16, 4).to(torch.bfloat16)], triplet_features=feats)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        _, terms = ReIDLoss(margin=1.2)(out, y)
    expected = sum(brute_force_triplet(f.double(), y, 1.2) for f in feats).item()
    assert terms["triplet"] == pytest.approx(expected, abs=1e-4)
