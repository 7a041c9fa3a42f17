"""ReIDModel: every image form embeds the same, any size works, D_f and RFD distances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rfdreid.api import Features, ReIDModel
from rfdreid.data.images import read_image
from rfdreid.errors import ReIDError
from rfdreid.evaluation.distance import cosine_similarity, euclidean_distance


def test_every_image_form_gives_the_same_embedding(model, trained):
    path = trained.images / "6_1_0.jpg"
    pil = read_image(path)
    array = np.asarray(pil).copy()
    tensor = torch.from_numpy(array).permute(2, 0, 1).float() / 255
    by_path = model.embed(path)
    assert by_path.shape == (1, model.feature_net.feature_dim)
    for other in (str(path), pil, array, tensor):
        torch.testing.assert_close(model.embed(other), by_path, rtol=0, atol=0)
    batch = model.embed([path, pil, array, tensor])
    torch.testing.assert_close(batch, by_path.expand(4, -1), rtol=0, atol=1e-5)


def test_any_size_and_batch_size(model):
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
              for h, w in ((5, 3), (300, 90), (64, 32))]
    one_by_one = model.embed(images, batch_size=1)
    assert one_by_one.shape == (3, model.feature_net.feature_dim)
    torch.testing.assert_close(model.embed(images, batch_size=64), one_by_one,
                               rtol=1e-4, atol=1e-5)
    assert model.embed(torch.rand(2, 3, 40, 20)).shape[0] == 2  # a [N, 3, H, W] batch
    assert model.embed([]).shape == (0, model.feature_net.feature_dim)


def test_distance_is_df_without_br_and_rfd_with_it(model, model_f, trained):
    query = [trained.images / "6_0_0.jpg", trained.images / "7_0_0.jpg"]
    gallery = [trained.images / f"{pid}_1_0.jpg" for pid in range(6, 10)]
    d_f = euclidean_distance(model.embed(query), model.embed(gallery))
    torch.testing.assert_close(model_f.distance(query, gallery), d_f)
    d_r = cosine_similarity(model.embed_resolution(query), model.embed_resolution(gallery))
    rfd = model.distance(query, gallery)
    assert rfd.shape == (2, 4)
    torch.testing.assert_close(rfd, d_f - 0.1 * (1 - d_r))  # the default "filter" form
    torch.testing.assert_close(model.distance(query, gallery, rfd_lambda=0.0), d_f)
    # Precomputed features give the same matrix as images.
    q, g = model.features(query), model.features(gallery)
    assert isinstance(q, Features) and len(g) == 4
    torch.testing.assert_close(model.distance(q, g), rfd)


def test_folder_features_equal_direct_embedding(model, market_gallery):
    paths, feats = model.embed_folder(market_gallery)
    assert [p.name for p in paths] == sorted(p.name for p in market_gallery.glob("*.jpg"))
    torch.testing.assert_close(feats.f, model.embed(paths), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(feats.r, model.embed_resolution(paths), rtol=1e-4, atol=1e-5)


def test_search_ranks_and_leaves_the_query_out(model, market_gallery):
    query = market_gallery / "0006_c1s1_000000_00.jpg"
    hits = model.search(query, market_gallery, top_k=5)
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert query not in [h.path for h in hits]
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)


def test_search_top_hit_is_the_query_s_copy(model, market_gallery):
    """Known answer: a pixel copy of the query (same id, other camera) is its D_f nearest
    neighbour whatever the model learnt, so it must come first at λ = 0."""
    import shutil

    query = market_gallery / "0008_c1s1_000001_00.jpg"
    copy = shutil.copy(query, market_gallery / "0008_c2s1_000009_00.jpg")
    hits = model.search(query, market_gallery, top_k=3, rfd_lambda=0.0)
    assert hits[0].path.name == Path(copy).name and hits[0].distance < hits[1].distance


def test_user_errors(model_f, trained):
    with pytest.raises(ReIDError, match="B-R checkpoint"):
        ReIDModel.from_checkpoint(trained.br)
    with pytest.raises(ReIDError, match="no B-R checkpoint"):
        model_f.embed_resolution(trained.images / "6_0_0.jpg")
    with pytest.raises(ReIDError, match="uint8 HxWx3 arrays"):
        model_f.embed(np.zeros((8, 4, 3), np.float64))
    with pytest.raises(ReIDError, match="missing.jpg"):
        model_f.embed(trained.images / "missing.jpg")


def test_api_evaluation_and_search_embed_an_image_identically(model, trained, tmp_path):
    """One test feature for the same image, whichever entry point computes it."""
    from rfdreid.config import EvalConfig
    from rfdreid.data.records import ImageRecord
    from rfdreid.training.checkpoint import read_trained_model
    from rfdreid.workflows.evaluate import _Embedder

    paths = sorted(trained.images.glob("*_1_0.jpg"))[:4]
    by_api = model.embed(paths)
    embedder = _Embedder(read_trained_model(trained.bf), "bicubic", EvalConfig(), "cpu", False)
    by_evaluation = embedder("gallery", [ImageRecord(str(p), 0, 0) for p in paths])
    gallery = tmp_path / "g"
    gallery.mkdir()
    for p in paths:
        (gallery / p.name).write_bytes(p.read_bytes())
    _, by_search = model.embed_folder(gallery, cache_dir=tmp_path / "cache")
    torch.testing.assert_close(by_evaluation, by_api, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(by_search.f, by_api, rtol=1e-4, atol=1e-5)
    # The default test feature is MGN's: unit length, and not the plain image's embedding.
    torch.testing.assert_close(by_api.norm(dim=1), torch.ones(len(paths)))
    plain = ReIDModel.from_checkpoint(trained.bf, flip=False, normalize=False).embed(paths)
    assert not torch.allclose(plain / plain.norm(dim=1, keepdim=True), by_api, atol=1e-4)
