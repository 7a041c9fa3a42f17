"""Parameter and FLOP counts, and the `rfdreid model-info` command."""

from __future__ import annotations

from torch import nn
from typer.testing import CliRunner

from rfdreid.config import ModelConfig
from rfdreid.models import build_model
from rfdreid.models.complexity import complexity, count_macs


def test_macs_of_known_layers() -> None:
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    assert count_macs(net, (4, 4)) == 8 * 16 * 27 + 128 * 10


def test_complexity_splits_parameters() -> None:
    model = build_model(ModelConfig(backbone="resnet18", width_mult=0.25), num_classes=5)
    c = complexity(model, (128, 64))
    assert c.params_total == sum(p.numel() for p in model.parameters())
    assert c.params_backbone + c.params_attention + c.params_head == c.params_total
    assert c.params_attention > 0 and c.gflops > 0
    assert model.training  # counting in eval mode restores the mode


def test_model_info_prints_params_and_flops() -> None:
    from rfdreid.cli.main import _register, app

    _register()
    args = ["model-info", "--backbone", "resnet18", "--height", "128", "--width", "64",
            "--num-classes", "10", "--set", "model.width_mult=0.25"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "parameters:" in result.output and "GFLOPs" in result.output
    assert "resnet18 x0.25" in result.output and "128x64" in result.output
