import json
import sys
from pathlib import Path

import pytest

from rfdreid.cli.main import main
from rfdreid.config import load_config, parse_overrides
from rfdreid.errors import ReIDError
from rfdreid.presets import shipped_descriptions, shipped_names

# Every preset's values as the flat configs/*.yaml of commit fe56c32 resolve them, before the
# presets inherited from one another (generated with load_config(flat_file).to_dict(), so the
# dataclass defaults are today's: when a default changes, regenerate it the same way).
FLAT_PRESETS = json.loads((Path(__file__).parent / "fixtures" / "flat_presets_fe56c32.json").read_text())


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


@pytest.mark.parametrize("preset", sorted(FLAT_PRESETS))
def test_preset_resolves_to_the_flat_file_it_replaces(preset):
    assert load_config(preset).to_dict() == FLAT_PRESETS[preset]


def test_paper_presets_train_in_fp32_and_the_others_pick_their_precision():
    """bf16 is ~13x slower on AVX2 CPUs: no shipped preset may ask for it outright."""
    for name in shipped_descriptions():
        assert load_config(name).train.precision == ("fp32" if name.startswith("paper_") else "auto")


def test_every_shipped_preset_loads_and_has_a_description():
    descriptions = shipped_descriptions()
    assert set(FLAT_PRESETS) <= set(descriptions)
    for name, text in descriptions.items():
        load_config(name)
        assert text and "\n" not in text, name


@pytest.mark.parametrize("preset", sorted(FLAT_PRESETS))
def test_every_preset_names_a_task(preset):
    cfg = load_config(preset)
    assert cfg.train.task in ("id", "resolution")
    assert preset.endswith("_bf") == (cfg.train.task == "id")


def test_base_chain_overrides_only_stated_keys(tmp_path):
    (tmp_path / "mine.yaml").write_text("_base_: paper_mlr_market1501_br\ntrain:\n  lr: 1.0e-3\n")
    (tmp_path / "child.yaml").write_text("_base_: mine\nmodel:\n  embed_dim: 128\n")
    cfg = load_config(tmp_path / "child.yaml")
    assert (cfg.train.lr, cfg.model.embed_dim) == (1e-3, 128)  # from the two user files
    assert (cfg.train.task, cfg.train.out_dir) == ("resolution", "runs/mlr_market1501/br")
    assert cfg.data.protocol == "prepared/mlr-market1501/protocol.json"  # from the _bf file
    assert cfg.data.workers == 8  # from paper_common


def test_base_cycle_is_refused_naming_the_files(tmp_path):
    (tmp_path / "a.yaml").write_text("_base_: b\n")
    (tmp_path / "b.yaml").write_text("_base_: a.yaml\n")
    with pytest.raises(ReIDError, match=r"cycle: .*a\.yaml -> .*b\.yaml -> .*a\.yaml"):
        load_config(tmp_path / "a.yaml")


def test_unknown_base_and_unknown_preset_list_the_shipped_names(tmp_path):
    (tmp_path / "a.yaml").write_text("_base_: nope\n")
    with pytest.raises(ReIDError, match="paper_common"):
        load_config(tmp_path / "a.yaml")
    with pytest.raises(ReIDError, match="demo_bf"):
        load_config("no_such_preset")
    assert "demo_bf" in shipped_names()


def test_presets_command_lists_every_preset_with_its_description(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["rfdreid", "presets"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert not exit_info.value.code
    lines = capsys.readouterr().out.splitlines()
    descriptions = shipped_descriptions()
    assert [line.split()[0] for line in lines] == list(descriptions)
    assert all(line.endswith(descriptions[line.split()[0]]) for line in lines)


# Section 4.1 of the paper, written out by hand (not read from the code): P x K = 8 x 4,
# Adam (momentum 0.9) lr 2e-4 divided by 10 after half the iterations, weight decay 5e-4,
# dropout 0.5, 384 x 128, ResNet-50; lambda 0.1 (section 3.4); margin 0.3 (MGN's triplet).
SECTION_4_1 = {
    "train.num_ids": 8, "train.num_instances": 4, "train.per_resolution": 16,
    "train.lr": 2e-4, "train.weight_decay": 5e-4, "train.beta1": 0.9, "train.lr_decay_at": 0.5,
    "train.margin": 0.3, "train.iterations": None, "model.dropout": 0.5,
    "model.backbone": "resnet50", "model.attention": True, "data.height": 384,
    "data.width": 128, "eval.rfd_lambda": 0.1,
}
PAPER_PRESETS = [name for name in shipped_names() if name.startswith("paper_")
                 and name != "paper_common"]


def _flat(cfg) -> dict:
    return {f"{section}.{key}": value for section, values in cfg.to_dict().items()
            for key, value in values.items()}


@pytest.mark.parametrize("preset", PAPER_PRESETS)
def test_paper_preset_is_pinned_to_section_4_1(preset):
    """Kills: a paper preset edited to margin 0, num_instances 3 (or any 4.1 value changed)."""
    flat = _flat(load_config(preset))
    assert {key: flat[key] for key in SECTION_4_1} == SECTION_4_1


def test_config_defaults_are_section_4_1():
    """Kills: TrainConfig.margin default 0; num_instances default 3."""
    flat = _flat(load_config(None))
    assert {key: flat[key] for key in SECTION_4_1} == SECTION_4_1


@pytest.mark.parametrize("override, rule", [
    ("eval.rerank_k1=0", "eval.rerank_k1=0 is invalid; it must be a whole number >= 1"),
    ("eval.rerank_k2=0", "eval.rerank_k2=0 is invalid; it must be a whole number >= 1"),
    ("eval.rerank_max_gib=0", "eval.rerank_max_gib=0.0 is invalid; it must be a positive number of GiB"),
    ("eval.rerank_lambda=1.2", "eval.rerank_lambda=1.2 is invalid; it must be in [0, 1]"),
])
def test_rerank_settings_are_range_checked(override, rule):
    with pytest.raises(ReIDError, match=rule.replace("[", r"\[").replace("]", r"\]")):
        load_config(None, [override])
    assert load_config(None, ["eval.rerank=true"]).eval.rerank_params().k1 == 20
