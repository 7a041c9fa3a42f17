"""`rfdreid model-info`: parameters and FLOPs per image of the configured network."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from rfdreid.cli.main import app
from rfdreid.config import load_config


@app.command(
    "model-info",
    epilog="Examples: rfdreid model-info (paper B-F: ResNet-50, 384x128, 751 ids); "
    "rfdreid model-info --backbone mobilenetv2 --height 128 --width 64 "
    "--set model.pretrained=imagenet",
)
def model_info(
    preset: Annotated[Optional[str], typer.Option(help="Preset name (`rfdreid presets`) or a YAML path.")] = None,
    backbone: Annotated[Optional[str], typer.Option(help="Overrides model.backbone.")] = None,
    height: Annotated[Optional[int], typer.Option(help="Default: data.height.")] = None,
    width: Annotated[Optional[int], typer.Option(help="Default: data.width.")] = None,
    num_classes: Annotated[int, typer.Option(help="Classifier outputs (751 = Market ids).")] = 751,
    set_: Annotated[
        Optional[list[str]], typer.Option("--set", help="Overrides such as model.width_mult=0.5.")
    ] = None,
) -> None:
    """Print parameter counts (total, backbone, attention, head) and GFLOPs per image."""
    from rfdreid.models import build_model
    from rfdreid.models.complexity import complexity

    cfg = load_config(preset, set_, {"model.backbone": backbone})
    size = (height or cfg.data.height, width or cfg.data.width)
    model = build_model(cfg.model, num_classes)
    c = complexity(model, size)
    m = cfg.model
    typer.echo(
        f"{m.backbone} x{m.width_mult} parts={m.parts} attention={m.attention} "
        f"embed_dim={m.embed_dim} classes={num_classes} input={size[0]}x{size[1]}"
    )
    if model.pretrained_report:
        typer.echo(model.pretrained_report.summary())
    typer.echo(f"parameters: {c.params_total / 1e6:.2f} M total")
    typer.echo(
        f"  backbone {c.params_backbone / 1e6:.2f} M, attention {c.params_attention / 1e6:.2f} M, "
        f"head {c.params_head / 1e6:.2f} M"
    )
    typer.echo(f"embedding: {model.feature_dim} dims")
    typer.echo(
        f"FLOPs per image: {c.gflops:.2f} GFLOPs ({c.macs / 1e9:.2f} GMACs; conv+linear, eval mode)"
    )
