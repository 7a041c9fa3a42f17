"""Issue 23 items 2-5: out-of-range and non-finite settings, outputs that cannot be written,
empty or NaN images, and messages that say what is actually wrong.

Every refusal is exit 1 with one `error:` line naming the option/key/file, no traceback,
and nothing written: no output, no feature cache, no checkpoint read into a run folder.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rfdreid.api import ReIDModel
from rfdreid.data.records import Protocol
from rfdreid.errors import ReIDError

from clirun import train_args
from tiny import TinyPair

UNWRITABLE = ["/proc/rfdreid-out", "a-file/out"]  # a pseudo file system; under a regular file


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.fixture
def run(trained: TinyPair, tmp_path: Path) -> Path:
    """A private copy of the tiny B-F checkpoint in a run folder of its own (its feature
    cache starts empty, so any embedding would show as a `features/` folder)."""
    path = tmp_path / "run" / "bf" / "checkpoint.pt"
    path.parent.mkdir(parents=True)
    shutil.copy(trained.bf, path)
    (tmp_path / "a-file").write_text("a regular file, not a folder")
    return path


@pytest.fixture
def gallery(trained: TinyPair, tmp_path: Path) -> Path:
    folder = tmp_path / "gallery"
    folder.mkdir()
    for name in ("6_1_0.jpg", "7_1_0.jpg", "8_1_0.jpg"):
        shutil.copy(trained.images / name, folder / name)
    return folder


# Item 2: ranges and non-finite values ------------------------------------------------------

@pytest.mark.parametrize("args, fragments", [
    (["--set", "eval.repeats=0"], ["eval.repeats=0", "> 0"]),
    (["--set", "eval.batch_size=0"], ["eval.batch_size=0", "> 0"]),
    (["--set", "eval.workers=-1"], ["eval.workers=-1", ">= 0"]),
    (["--lambda", "inf"], ["eval.rfd_lambda=inf", "finite"]),
    (["--lambda", "nan"], ["eval.rfd_lambda=nan", "finite"]),
    (["--lambda", "1e308"], ["eval.rfd_lambda=1e+308", "at most"]),
    (["--lambda-sweep", "0.1,inf"], ["eval.lambda_sweep", "finite"]),
    (["--repeats", "0"], ["--repeats", "greater than or equal to 1"]),
])
def test_evaluate_refuses_out_of_range_settings(args, fragments, cli, run, tmp_path):
    before = _files(tmp_path)
    res = cli("evaluate", "--bf", run, "--out", tmp_path / "eval", *args)
    res.assert_one_line_error(*fragments)
    assert "check the features" not in res.err
    assert _files(tmp_path) == before


@pytest.mark.parametrize("args, fragments", [
    (["--lambda", "nan"], ["--lambda=nan", "finite"]),
    (["--lambda", "inf"], ["--lambda=inf", "finite"]),
    (["--lambda", "-1e300"], ["--lambda=-1e+300", "at most"]),
    (["--top-k", "0"], ["--top-k", "greater than or equal to 1"]),
])
def test_search_refuses_out_of_range_settings(args, fragments, cli, run, gallery, trained):
    res = cli("search", trained.images / "6_0_0.jpg", "--gallery", gallery, "--bf", run,
              *args)
    res.assert_one_line_error(*fragments)
    assert _files(gallery) == {gallery / n for n in ("6_1_0.jpg", "7_1_0.jpg", "8_1_0.jpg")}


@pytest.mark.parametrize("lam", [float("nan"), float("inf"), -float("inf"), 1e39])
def test_api_refuses_meaningless_lambda(lam, model, gallery, trained):
    query = trained.images / "6_0_0.jpg"
    with pytest.raises(ReIDError, match="λ|lambda"):
        model.search(query, gallery, rfd_lambda=lam)
    with pytest.raises(ReIDError, match="λ|lambda"):
        model.distance(query, [query], rfd_lambda=lam)
    assert not (gallery / ".rfdreid-cache").exists()  # refused before the gallery was embedded


def test_api_accepts_large_finite_lambda(model, gallery, trained):
    """A λ at the bound still ranks: by resolution first, with finite distances."""
    hits = model.search(trained.images / "6_0_0.jpg", gallery, rfd_lambda=1e37)
    assert len(hits) == 3 and all(np.isfinite(h.distance) for h in hits)


# Item 3: outputs checked before any work -------------------------------------------------

@pytest.mark.parametrize("out", ["a-folder", "rank.txt", *UNWRITABLE])
def test_search_output_is_checked_before_the_gallery_is_embedded(out, cli, run, gallery,
                                                                  trained, tmp_path):
    (tmp_path / "a-folder").mkdir()
    before = _files(tmp_path)
    cli("search", trained.images / "6_0_0.jpg", "--gallery", gallery, "--bf", run,
        "--out", out).assert_one_line_error(f"--out {out}")
    assert _files(tmp_path) == before


@pytest.mark.parametrize("out", UNWRITABLE)
def test_evaluate_output_is_checked_before_any_model_is_loaded(out, cli, run, tmp_path):
    before = _files(tmp_path)
    cli("evaluate", "--bf", run, "--out", out).assert_one_line_error(f"--out {out}")
    assert _files(tmp_path) == before


@pytest.mark.parametrize("out", UNWRITABLE)
def test_export_output_is_checked_before_the_checkpoint_is_read(out, cli, run, tmp_path):
    before = _files(tmp_path)
    cli("export", "--checkpoint", run, "--out", f"{out}.onnx").assert_one_line_error(
        f"{out}.onnx")
    assert _files(tmp_path) == before


@pytest.mark.parametrize("out", UNWRITABLE)
def test_train_output_is_checked_first(out, cli, run, trained, tmp_path):
    before = _files(tmp_path)
    cli(*train_args(trained.protocol, out)).assert_one_line_error(out)
    assert _files(tmp_path) == before


# Item 4: empty and non-finite images -----------------------------------------------------

@pytest.mark.parametrize("image", [
    Image.new("RGB", (0, 0)), np.zeros((0, 0, 3), np.uint8), torch.zeros(3, 0, 0),
    torch.full((3, 64, 32), float("nan")), torch.full((3, 64, 32), float("inf")),
], ids=["pil-0x0", "array-0x0", "tensor-0x0", "tensor-nan", "tensor-inf"])
def test_embed_refuses_empty_and_non_finite_images(image, model):
    with pytest.raises(ReIDError, match="empty|NaN"):
        model.embed(image)


# Item 5: messages that say what is wrong -------------------------------------------------

def test_jpeg_given_as_checkpoint_is_said_not_to_be_one(cli, trained, tmp_path):
    res = cli("evaluate", "--bf", trained.images / "6_0_0.jpg", "--out", tmp_path / "eval")
    res.assert_one_line_error(str(trained.images / "6_0_0.jpg"), "not a file written by torch")
    assert "run code" not in res.err


@pytest.mark.parametrize("empty, fragments", [
    ("query", ["query set", "single"]), ("single", ["gallery", "single"]),
])
def test_empty_test_set_names_the_protocol(empty, fragments, cli, run, trained, tmp_path):
    protocol = Protocol.load(trained.protocol)
    if empty == "query":
        protocol = dataclasses.replace(protocol, query=[])
    else:
        protocol = dataclasses.replace(protocol, galleries={**protocol.galleries, "single": []})
    path = tmp_path / "protocol-empty.json"
    protocol.save(path)
    res = cli("evaluate", "--bf", run, "--protocol", path, "--out", tmp_path / "eval")
    res.assert_one_line_error(str(path), "is empty", *fragments)
    assert str(run) not in res.err and "dimension" not in res.err
