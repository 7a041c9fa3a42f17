"""ReIDNet shapes, branch strides, attention placement, a short training run, export."""

from __future__ import annotations

import math

import pytest
import torch

from rfdreid.config import ModelConfig
from rfdreid.losses import ReIDLoss
from rfdreid.inference.test_feature import TestEmbedding
from rfdreid.models import ReIDNet, ReIDOutput, build_model
from rfdreid.models.attention import ChannelAttention, stage_attention

SMALL = {"resnet18": 0.25, "mobilenetv2": 0.25}


def small_model(backbone: str = "resnet18", num_classes: int = 4, **kw: object) -> ReIDNet:
    torch.manual_seed(0)
    cfg = ModelConfig(backbone=backbone, width_mult=SMALL[backbone], **kw)  # type: ignore[arg-type]
    return build_model(cfg, num_classes)


def test_resnet50_paper_bf_train_step_and_eval_shapes() -> None:
    model = build_model(ModelConfig(), num_classes=751)
    x = torch.randn(2, 3, 384, 128)
    out = model(x)
    assert isinstance(out, ReIDOutput)
    assert len(out.logits) == 8 and all(z.shape == (2, 751) for z in out.logits)
    assert len(out.triplet_features) == 3
    assert all(f.shape == (2, 256) for f in out.triplet_features)
    loss, terms = ReIDLoss()(out, torch.tensor([0, 1]))
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    assert set(terms) == {"id", "triplet", "total", "acc"}
    model.eval()
    with torch.no_grad():
        emb = model(x)
    assert emb.shape == (2, model.feature_dim) == (2, 2048)


@pytest.mark.parametrize("backbone", ["resnet18", "mobilenetv2"])
def test_a_few_adam_steps_lower_the_loss(backbone: str) -> None:
    model = small_model(backbone, num_classes=2)
    torch.manual_seed(1)
    x = torch.randn(8, 3, 128, 64)
    targets = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    criterion = ReIDLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(6):
        loss, terms = criterion(model(x), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(terms["total"])
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("backbone", ["resnet18", "mobilenetv2"])
@pytest.mark.parametrize("size", [(384, 128), (128, 64)])
def test_every_branch_ends_at_stride_16(backbone: str, size: tuple[int, int]) -> None:
    """MGN part branches and the paper's global branch: last stage at stride 1."""
    model = small_model(backbone).eval()
    with torch.no_grad():
        shared = model.shared(torch.randn(1, 3, *size))
        maps = [branch.feature_map(shared) for branch in model.branches]
        emb = model(torch.randn(1, 3, *size))
    h, w = size
    assert all(m.shape[-2:] == (h // 16, w // 16) for m in maps)  # 24x8 at 384x128
    assert emb.shape == (1, model.feature_dim)


def test_feature_count_follows_parts() -> None:
    model = small_model(parts=[2], embed_dim=64)
    assert model.num_features == 1 + 3 and model.feature_dim == 4 * 64


def test_attention_after_every_stage_and_ablation() -> None:
    with_ca = small_model(attention=True)
    without = small_model(attention=False)
    count = sum(isinstance(m, ChannelAttention) for m in with_ca.modules())
    assert count == 2 + 2 * len(with_ca.branches)  # stages 1-2 shared, 3-4 in every branch
    assert not any(isinstance(m, ChannelAttention) for m in without.modules())
    assert sum(p.numel() for p in without.parameters()) < sum(
        p.numel() for p in with_ca.parameters()
    )


def test_eval_forward_exports_and_runs_channels_last() -> None:
    model = TestEmbedding(small_model()).eval()
    x = torch.randn(2, 3, 128, 64)
    with torch.no_grad():
        ref = model(x)
        exported = torch.export.export(model, (x,)).module()
        assert torch.allclose(exported(x), ref, atol=1e-5)
        cl = model.to(memory_format=torch.channels_last)(x.to(memory_format=torch.channels_last))
    assert torch.allclose(cl, ref, atol=1e-4)
    assert torch.allclose(ref.norm(dim=1), torch.ones(2), atol=1e-5)


@pytest.mark.parametrize("h", [2, 4, 5, 6, 7, 12])
def test_stripe_pool_equals_adaptive_pooling(h):
    from rfdreid.models.reid_net import StripePool

    x = torch.randn(2, 4, h, 3)
    for n in (2, 3):
        expected = torch.nn.functional.adaptive_avg_pool2d(x, (n, 1)).flatten(2)
        torch.testing.assert_close(StripePool(n)(x), expected)


def test_test_embedding_is_normalised_sum_of_image_and_mirror() -> None:
    """Oracle: the raw network on the image and on its mirror, summed, then unit length."""
    net = small_model().eval()
    x = torch.randn(3, 3, 64, 32)
    with torch.no_grad():
        raw, mirror = net(x), net(torch.flip(x, dims=[3]))
        expected = (raw + mirror) / (raw + mirror).norm(dim=1, keepdim=True)
        got = TestEmbedding(net)(x)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
        assert not torch.allclose(got, raw / raw.norm(dim=1, keepdim=True), atol=1e-4)
        torch.testing.assert_close(TestEmbedding(net, flip=False, normalize=False)(x), raw)
        unnormalised = TestEmbedding(net, normalize=False)(x)
        torch.testing.assert_close(unnormalised, raw + mirror, rtol=1e-5, atol=1e-5)


def test_channel_attention_gate_equals_hand_computed_se() -> None:
    """Kills: the SE gate returning its input. Oracle: sigmoid(W2 relu(W1 mean(x))) * x."""
    ca = ChannelAttention(channels=4, reduction=1)  # hidden = MIN_HIDDEN = 8
    w1 = torch.linspace(-1.0, 1.0, 8 * 4).reshape(8, 4)
    b1 = torch.linspace(-0.2, 0.2, 8)
    w2 = torch.linspace(0.5, -1.5, 4 * 8).reshape(4, 8)
    b2 = torch.tensor([0.1, -0.1, 0.3, -0.3])
    with torch.no_grad():
        ca.reduce.weight.copy_(w1[:, :, None, None]); ca.reduce.bias.copy_(b1)
        ca.expand.weight.copy_(w2[:, :, None, None]); ca.expand.bias.copy_(b2)
    x = torch.arange(2 * 4 * 3 * 2, dtype=torch.float32).reshape(2, 4, 3, 2) / 10 - 1
    for b in range(2):
        mean = [sum(x[b, c].flatten().tolist()) / 6 for c in range(4)]
        hidden = [max(0.0, sum(w1[j, c].item() * mean[c] for c in range(4)) + b1[j].item())
                  for j in range(8)]
        gate = [1 / (1 + math.exp(-(sum(w2[c, j].item() * hidden[j] for j in range(8))
                                    + b2[c].item()))) for c in range(4)]
        expected = torch.stack([x[b, c] * gate[c] for c in range(4)])
        with torch.no_grad():
            torch.testing.assert_close(ca(x)[b], expected, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(ca(x), x)


def test_se_bottleneck_is_c_over_r_with_a_floor_and_default_r_16() -> None:
    """Eq. 5: W1 maps C -> C/r (floored at MIN_HIDDEN = 8 for narrow CPU widths), r = 16 by
    default as in SENet; stage_attention passes C and r through, or is an Identity."""
    def widths(m: torch.nn.Module) -> tuple[int, int, int, int]:
        return (m.reduce.in_channels, m.reduce.out_channels, m.expand.in_channels,
                m.expand.out_channels)

    assert widths(ChannelAttention(512)) == (512, 32, 32, 512)
    assert widths(ChannelAttention(200, reduction=16)) == (200, 12, 12, 200)  # 200 // 16
    assert widths(ChannelAttention(64, reduction=16)) == (64, 8, 8, 64)  # the floor
    assert widths(stage_attention(96, True, 4)) == (96, 24, 24, 96)
    assert isinstance(stage_attention(96, False, 4), torch.nn.Identity)
