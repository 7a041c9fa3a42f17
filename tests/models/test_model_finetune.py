"""Fine-tuning: `model.pretrained` naming an rfdreid checkpoint (training/finetune.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from rfdreid.config import load_config
from rfdreid.data.records import Protocol
from rfdreid.training.finetune import build_training_model
from rfdreid.models.attention import ChannelAttention

from clirun import train_args
from tiny import TINY_OVERRIDES, TinyPair

NUM_FEATURES = 8  # reduced features (= classifiers) of parts [2, 3]: 1 + 3 + 4


@pytest.fixture(scope="module")
def four_ids(trained: TinyPair, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny protocol with training ids 0-3 only: 4 identities where B-F had 6."""
    protocol = Protocol.load(trained.protocol)
    path = tmp_path_factory.mktemp("four_ids") / "protocol.json"
    replace(protocol, train=[r for r in protocol.train if r.pid < 4]).save(path)
    return path


def _config(protocol: Path, pretrained: Path, *extra: str):
    return load_config(None, [*TINY_OVERRIDES, f"data.protocol={protocol}",
                              f"model.pretrained={pretrained}", *extra])


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["model"]


def test_other_ids_copy_trunk_branches_attention_and_resize_the_classifiers(trained, four_ids):
    model = build_training_model(_config(four_ids, trained.bf), num_classes=4, announce=False)
    source, new = _weights(trained.bf), model.state_dict()
    attention = [name for name, m in model.named_modules() if isinstance(m, ChannelAttention)]
    assert any(a.startswith("shared.") for a in attention)
    assert any(a.startswith("branches.2.") for a in attention)
    body = [k for k in new if not k.startswith("classifiers.")]
    assert any(k.startswith(tuple(attention)) for k in body)
    for key in body:  # trunk, branches, attention, and the reductions (same embed_dim)
        assert torch.equal(new[key], source[key]), key
    classifiers = [k for k in new if k.startswith("classifiers.")]
    assert len(classifiers) == 2 * NUM_FEATURES
    assert {tuple(new[k].shape) for k in classifiers} == {(4, 256), (4,)}
    assert {tuple(source[k].shape) for k in classifiers} == {(6, 256), (6,)}
    report = model.pretrained_report
    assert sorted(report.reinitialised) == sorted(classifiers)
    assert report.reinitialised["classifiers.0.weight"] == "(6, 256) in the file, (4, 256) here"
    assert report.missing == [] and report.unexpected == []
    assert sorted(report.loaded) == sorted(body)


def test_same_task_and_shape_keep_the_classifiers_other_embed_dim_resets_heads(trained):
    same = build_training_model(_config(trained.protocol, trained.bf), 6, announce=False)
    assert same.pretrained_report.reinitialised == {}
    assert torch.equal(same.state_dict()["classifiers.3.weight"],
                       _weights(trained.bf)["classifiers.3.weight"])
    wider = build_training_model(_config(trained.protocol, trained.bf, "model.embed_dim=64"), 6,
                                 announce=False)
    reset = set(wider.pretrained_report.reinitialised)
    assert "branches.0.reductions.0.0.weight" in reset and "classifiers.0.weight" in reset
    assert not any(k.startswith(("shared.", "branches.0.layers.")) for k in reset)


def test_a_br_checkpoint_starts_a_bf_run_with_fresh_classifiers(trained, four_ids):
    """B-R has 4 resolution classes and this B-F run 4 identities: the classifiers fit in
    shape but were trained on resolutions, so they are re-initialised all the same."""
    model = build_training_model(_config(four_ids, trained.br), num_classes=4, announce=False)
    source, new = _weights(trained.br), model.state_dict()
    assert source["classifiers.0.weight"].shape == new["classifiers.0.weight"].shape
    for key in new:  # everything copied but the classifiers, which differ from B-R's
        assert torch.equal(new[key], source[key]) != key.startswith("classifiers."), key
    assert model.pretrained_report.reinitialised["classifiers.0.weight"] == "trained on other labels"


def test_cli_fine_tunes_at_another_size_with_a_warning_and_records_the_report(
        cli, trained, four_ids, tmp_path):
    out = tmp_path / "ft"
    res = cli(*train_args(four_ids, out, f"model.pretrained={trained.bf}", "data.height=96",
                          "train.iterations=2"))
    assert res.code == 0, res.err
    line = (f"pretrained {trained.bf}: {len(_weights(trained.bf)) - 16} loaded, "
            f"0 missing, 0 unexpected, 16 re-initialised (e.g. classifiers.0.weight: "
            "(6, 256) in the file, (4, 256) here)")
    assert line in res.out
    warnings = [w for w in res.err.splitlines() if w.startswith("warning:")]
    assert len(warnings) == 1 and "trained at 64x32, this run trains at 96x32" in warnings[0]
    assert torch.load(out / "checkpoint.pt", weights_only=True)["init"] == line


@pytest.mark.parametrize("override, fragments", [
    ("model.width_mult=0.5", ["was trained as resnet18 x0.25; this run builds resnet18 x0.5",
                              "set model.width_mult=0.25 or choose another checkpoint"]),
    ("model.backbone=mobilenetv2", ["was trained as resnet18 x0.25; this run builds "
                                    "mobilenetv2 x0.25", "set model.backbone=resnet18 or"]),
    ("model.parts=[2]", ["resnet18 x0.25 parts [2, 3]; this run builds resnet18 x0.25 "
                         "parts [2]", "set model.parts=2,3 or"]),
    ("model.attention=false", ["with attention; this run builds resnet18 x0.25 without",
                               "set model.attention=true or"]),
])
def test_another_architecture_is_one_line(cli, trained, tmp_path, override, fragments):
    res = cli(*train_args(trained.protocol, tmp_path / "x", f"model.pretrained={trained.bf}",
                          override))
    res.assert_one_line_error(f"pretrained {trained.bf}", *fragments)
    assert not (tmp_path / "x" / "checkpoint.pt").exists()
