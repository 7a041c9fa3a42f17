import pytest

from rfdreid.config import CONFIG_DIR, load_config, parse_overrides
from rfdreid.errors import ReIDError


def test_overrides_are_typed_and_nested(tmp_path):
    preset = tmp_path / "p.yaml"
    preset.write_text("train:\n  lr: 0.001\nmodel:\n  backbone: resnet18\n")
    cfg = load_config(preset, ["train.iterations=50", "model.attention=false", "eval.lambda_sweep=0,0.1,0.5"])
    assert cfg.train.lr == 0.001
    assert cfg.model.backbone == "resnet18"
    assert cfg.train.iterations == 50
    assert cfg.model.attention is False
    assert cfg.eval.lambda_sweep == [0.0, 0.1, 0.5]


def test_unknown_key_names_valid_keys():
    with pytest.raises(ReIDError, match="valid keys"):
        load_config(None, ["train.lrr=1"])


def test_bad_override_shape():
    with pytest.raises(ReIDError, match="section.key=value"):
        parse_overrides(["train.lr"])


def test_optional_none():
    cfg = load_config(None, ["train.iterations=none", "model.pretrained=null"])
    assert cfg.train.iterations is None and cfg.model.pretrained is None


@pytest.mark.parametrize("preset", sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
def test_every_preset_loads_and_names_a_task(preset):
    cfg = load_config(preset)
    assert cfg.train.task in ("id", "resolution")
    assert preset.endswith("_bf") == (cfg.train.task == "id")
