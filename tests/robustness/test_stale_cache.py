"""Issue 23 item 1: a feature cache never serves features of other weights or other pixels.

The race: `rfdreid train` replaces checkpoint.pt (atomically) while `rfdreid evaluate` or
`rfdreid search` is running on it, right after the weights were read. The oracle is a fresh
evaluation of a copy of the new checkpoint in a folder of its own (no cache).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from rfdreid.api import ReIDModel
from rfdreid.config import EvalConfig
from rfdreid.training.checkpoint import load_checkpoint, read_trained_model, save_checkpoint
from rfdreid.workflows.evaluate import RunPair, evaluate_runs

from tiny import TinyPair, make_tiny_protocol


def _copy(ckpt: Path, folder: Path) -> Path:
    """`ckpt` as `<folder>/bf/checkpoint.pt`: a run folder (and feature cache) of its own."""
    path = folder / "bf" / "checkpoint.pt"
    path.parent.mkdir(parents=True)
    shutil.copy(ckpt, path)
    return path


def _retrained(ckpt: Path, out: Path) -> Path:
    """A checkpoint like `ckpt` with other weights (every conv/linear weight perturbed), as a
    second training run would write it."""
    state = load_checkpoint(ckpt)
    gen = torch.Generator().manual_seed(1)
    state["model"] = {k: v + v.std() * torch.randn(v.shape, generator=gen)
                      if v.is_floating_point() and v.ndim > 1 else v
                      for k, v in state["model"].items()}
    save_checkpoint(out, state)
    return out


@pytest.fixture
def replaced_after_next_load(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path, Path], None]:
    """arm(path, new): right after the next torch.load returns, `new` is moved onto `path`
    (os.replace, as training saves), i.e. the file changes after its weights were read."""

    def arm(path: Path, new: Path) -> None:
        real, fired = torch.load, []

        def load(*args: object, **kwargs: object) -> object:
            content = real(*args, **kwargs)
            if not fired:
                fired.append(True)
                os.replace(new, path)
            return content

        monkeypatch.setattr(torch, "load", load)

    return arm


def _table(ckpt: Path, protocol: Path | None = None) -> dict:
    table, _ = evaluate_runs([RunPair(ckpt, protocol=protocol)], EvalConfig(batch_size=16),
                             progress=False)
    return table


def test_checkpoint_rewritten_during_evaluate_is_not_served_stale_features(
        trained: TinyPair, tmp_path: Path, replaced_after_next_load) -> None:
    ckpt = _copy(trained.bf, tmp_path / "run")
    new = _retrained(trained.bf, tmp_path / "new.pt")
    fresh = _table(_copy(new, tmp_path / "fresh"))
    replaced_after_next_load(ckpt, new)
    old = _table(ckpt)  # embeds with the weights read before train replaced the file
    again = _table(ckpt)  # the file now holds the new weights
    assert old != fresh, "the perturbed weights must change the metrics for this test to bite"
    assert again == fresh


def test_checkpoint_rewritten_during_search_is_not_served_stale_features(
        trained: TinyPair, tmp_path: Path, replaced_after_next_load) -> None:
    ckpt = _copy(trained.bf, tmp_path / "run")
    new = _retrained(trained.bf, tmp_path / "new.pt")
    gallery, cache = trained.images, tmp_path / "cache"
    replaced_after_next_load(ckpt, new)
    _, old = ReIDModel.from_checkpoint(ckpt).embed_folder(gallery, cache)
    model = ReIDModel.from_checkpoint(ckpt)
    _, again = model.embed_folder(gallery, cache)
    _, fresh = model.embed_folder(gallery, tmp_path / "fresh-cache")
    assert not torch.allclose(old.f, fresh.f)
    assert torch.equal(again.f, fresh.f)


def test_digest_is_the_hash_of_the_bytes_loaded(trained: TinyPair, tmp_path: Path,
                                                 replaced_after_next_load) -> None:
    """A file replaced between the read and the key computation cannot mislead the key:
    the digest is that of the bytes the weights came from, not of the file now on disk."""
    ckpt = _copy(trained.bf, tmp_path / "run")
    loaded_bytes = ckpt.read_bytes()
    new = _retrained(trained.bf, tmp_path / "new.pt")
    replaced_after_next_load(ckpt, new)
    model = read_trained_model(ckpt)
    assert ckpt.read_bytes() != loaded_bytes  # the race happened
    assert model.digest == hashlib.sha256(loaded_bytes).hexdigest()
    original = load_checkpoint(trained.bf)["model"]
    assert all(torch.equal(v, original[k]) for k, v in model.model_state.items())


def test_image_rewritten_in_place_is_embedded_again(trained: TinyPair, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    protocol = make_tiny_protocol(tmp_path / "data")
    ckpt = _copy(trained.bf, tmp_path / "run")
    before = _table(ckpt, protocol)
    images = tmp_path / "data" / "imgs"
    for k in range(3):  # id 6's gallery images now show id 7: same names, other pixels
        shutil.copy(images / f"7_1_{k}.jpg", images / f"6_1_{k}.jpg")
    after = _table(ckpt, protocol)
    fresh = _table(_copy(trained.bf, tmp_path / "fresh"), protocol)
    assert before != fresh
    assert after == fresh
