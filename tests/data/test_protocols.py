"""MLR and CAVIAR protocols, resolution labels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rfdreid.data.datasets import DATASETS
from rfdreid.data.diagnostics import check_queries
from rfdreid.data.protocols import (
    build_caviar_protocol,
    build_mlr_protocol,
    build_real_protocol,
    redraw_degradation,
)
from rfdreid.data.records import MLR_VARIANTS
from rfdreid.data.resolution import factor_index, pixel_count_edges, pixel_count_labels
from rfdreid.errors import ReIDError


def test_mlr_protocol(fake_market: Path) -> None:
    """The per-image construction (SING's, the default, is tests/data/test_mlr_sing.py's)."""
    raw = DATASETS.get("market1501")(fake_market)
    p = build_mlr_protocol(raw, seed=3, interpolation="bilinear", variant="per-image")
    n = len(raw.subsets["train"])
    assert len(p.train) == 2 * n
    assert [r.factor for r in p.train[:n]] == [1] * n
    assert {r.factor for r in p.train[n:]} <= {2, 3, 4}
    assert [(r.path, r.pid) for r in p.train[:n]] == [(r.path, r.pid) for r in p.train[n:]]
    assert {r.factor for r in p.query} <= {2, 3, 4}
    assert {r.factor for r in p.galleries["single"]} == {1}
    assert {r.factor for r in p.galleries["multi"]} <= {1, 2, 3, 4}
    assert all(r.res_label == factor_index(r.factor) for r in p.train + p.query)
    assert p.num_res_classes == 4 and p.num_train_pids == 3
    assert (p.dataset, p.interpolation, p.seed) == ("market1501", "bilinear", 3)
    assert p.meta == {"protocol": "mlr", "root": str(fake_market), "factors": [1, 2, 3, 4]}
    assert p.validation is None and "val_ids" not in p.meta


@pytest.mark.parametrize("variant", MLR_VARIANTS)
def test_mlr_protocol_is_seeded(variant: str, fake_market: Path) -> None:
    raw = DATASETS.get("market1501")(fake_market)
    a, b = build_mlr_protocol(raw, 0, variant=variant), build_mlr_protocol(raw, 0, variant=variant)
    assert a.fingerprint() == b.fingerprint()
    c = build_mlr_protocol(raw, 1, variant=variant)
    assert [r.factor for r in a.train + a.galleries["multi"]] != [
        r.factor for r in c.train + c.galleries["multi"]]
    only_single = build_mlr_protocol(raw, 0, gallery_modes=("single",), variant=variant)
    assert list(only_single.galleries) == ["single"] and only_single.query == a.query


@pytest.mark.parametrize("variant", MLR_VARIANTS)
def test_mlr_protocol_needs_a_split(variant: str, fake_caviar: Callable) -> None:
    raw = DATASETS.get("caviar")(fake_caviar(two_cam=2, one_cam=0))
    with pytest.raises(ReIDError, match="no 'train' subset"):
        build_mlr_protocol(raw, 0, variant=variant)


def test_caviar_protocol(fake_caviar: Callable) -> None:
    raw = DATASETS.get("caviar")(fake_caviar())
    splits = [build_caviar_protocol(raw, 0, k) for k in range(3)]
    one_cam_ids = {51, 52, 53, 54}
    for k, p in enumerate(splits):
        train_ids, test_ids = set(p.meta["train_ids"]), set(p.meta["test_ids"])
        assert len(train_ids) == len(test_ids) == 25 and not train_ids & test_ids
        assert not (train_ids | test_ids) & one_cam_ids
        assert p.split == k and p.num_res_classes == 5 and p.num_train_pids == 25
        assert sorted({r.pid for r in p.train}) == list(range(25))
        assert len(p.train) == 25 * 20
        assert p.meta["query_camera"] == 0  # the fake's small crops
        assert {r.pid for r in p.query} == test_ids and {r.camid for r in p.query} == {0}
        assert {r.camid for r in p.galleries["single"]} == {1}
        multi, multi_q = p.galleries["multi"], p.gallery_queries["multi"]
        assert sorted(r.pid for r in multi) == sorted(test_ids)
        # one image per id from either camera; every other test image is a query
        assert not {r.path for r in multi} & {r.path for r in multi_q}
        assert len(multi) + len(multi_q) == 25 * 20
        assert p.subsets()["query_multi"] is multi_q
        assert all(r.factor == 1 for r in p.train + p.query + multi)
        assert {r.res_label for r in p.train} == set(range(5))
    assert splits[0].meta["train_ids"] != splits[1].meta["train_ids"]
    drawn_cams = {r.camid for p in splits for r in p.galleries["multi"]}
    assert drawn_cams == {0, 1}  # the multi gallery draws from both cameras' resolutions
    again = build_caviar_protocol(raw, 0, 1)
    assert again.fingerprint() == splits[1].fingerprint()


def test_pixel_count_labels_equal_width() -> None:
    sizes = [(10, 10), (10, 19), (10, 30), (10, 50), (10, 89), (10, 110)]
    labels, edges = pixel_count_labels(sizes)
    assert np.allclose(edges, [100, 300, 500, 700, 900, 1100])
    assert labels.tolist() == [0, 0, 1, 2, 3, 4]


def test_pixel_count_defaults_are_five_uniform_bins() -> None:
    """Section 3.5: 5 equal-width bins by default; unknown modes and empty sets fail."""
    edges = pixel_count_edges([(10, 10), (10, 110)])
    np.testing.assert_allclose(edges, [100, 300, 500, 700, 900, 1100])
    with pytest.raises(ReIDError, match="unknown pseudo-label mode 'median'"):
        pixel_count_edges([(1, 1)], mode="median")
    with pytest.raises(ReIDError, match="^cannot compute resolution pseudo-labels of an empty "
                                        "image set$"):
        pixel_count_edges([])


def test_pixel_count_labels_quantile() -> None:
    sizes = [(1, n) for n in range(1, 101)]
    labels, _ = pixel_count_labels(sizes, mode="quantile")
    assert np.bincount(labels).tolist() == [20, 20, 20, 20, 20]


def test_factor_index() -> None:
    assert [factor_index(f) for f in (1, 2, 3, 4)] == [0, 1, 2, 3]
    with pytest.raises(ReIDError, match=r"unknown down-sampling factor 8; known: \(1, 2, 3, 4\)"):
        factor_index(8)


def test_mlr_factor_sets_are_exactly_the_papers(tmp_path: Path) -> None:
    """Kills: LR factors (2, 3) instead of (2, 3, 4); a multi gallery without HR images.

    Section 4.3: LR copies and queries down-sampled by a factor drawn from {2, 3, 4};
    SING's multi-resolution gallery draws from {1, 2, 3, 4}. Generated set: 96 training
    images, 18 queries, 54 gallery images, so every factor is drawn (seeded, so stable).
    The per-image construction; SING's (the default) is checked the same way after it.
    """
    from rfdreid.data.synthetic import generate_synthetic

    root = generate_synthetic(tmp_path / "syn", num_train_ids=8, num_test_ids=6,
                              images_per_id_per_camera=4)
    raw = DATASETS.get("market1501")(root)
    p = build_mlr_protocol(raw, seed=0, variant="per-image")
    n = len(raw.subsets["train"])
    assert {r.factor for r in p.train[:n]} == {1}
    assert {r.factor for r in p.train[n:]} == {2, 3, 4}
    assert {r.factor for r in p.query} == {2, 3, 4}
    assert {r.factor for r in p.galleries["single"]} == {1}
    assert {r.factor for r in p.galleries["multi"]} == {1, 2, 3, 4}
    assert {r.res_label for r in p.galleries["multi"]} == {0, 1, 2, 3}
    val = build_mlr_protocol(raw, seed=0, val_ids=3, variant="per-image").validation
    assert sorted((r.pid, r.camid) for r in val.query) == sorted(  # 4 images per id and camera
        {(r.pid, r.camid) for r in val.galleries["single"]})  # exactly one query per pair
    sing = build_mlr_protocol(raw, seed=0)
    assert sing.mlr_variant == "sing"  # the default
    assert {r.factor for r in sing.train} == {1, 2, 3, 4}
    assert {r.factor for r in sing.query} == {2, 3, 4}
    assert {r.factor for r in sing.galleries["single"]} == {1}
    assert {r.factor for r in sing.galleries["multi"]} == {1, 2, 3, 4}


FACTOR_LABEL = {1: 0, 2: 1, 3: 2, 4: 3}  # section 3.5: the factor's index is the B-R class


def _paths(records) -> list[str]:
    return [r.path for r in records]


def test_mlr_validation_is_a_market_style_split_of_held_out_ids(fake_market: Path) -> None:
    """Held-out ids leave train; per held id and camera one LR query, the rest gallery (HR in
    "single", factors 1-4 in "multi"), as the test sets are built."""
    raw = DATASETS.get("market1501")(fake_market)
    p = build_mlr_protocol(raw, seed=0, val_ids=1, variant="per-image")
    val = p.validation
    (held,) = p.meta["val_ids"]
    held_records = [r for r in raw.subsets["train"] if r.pid == held]
    assert p.num_train_pids == 2 and len(p.train) == 2 * (len(raw.subsets["train"]) - 6)
    assert val.train == [] and val.meta == {"protocol": "mlr"} and p.val_pids() == {held}
    assert sorted((r.pid, r.camid) for r in val.query) == [(held, c) for c in (0, 1, 2)]
    assert _paths(val.query) == sorted(_paths(val.query))
    single, multi = val.galleries["single"], val.galleries["multi"]
    assert sorted(_paths(val.query) + _paths(single)) == sorted(_paths(held_records))
    assert _paths(multi) == _paths(single) and {r.factor for r in single} == {1}
    assert {r.factor for r in val.query} <= {2, 3, 4} and {r.factor for r in multi} <= {1, 2, 3, 4}
    assert all(r.res_label == FACTOR_LABEL[r.factor] for r in val.query + multi)
    again = build_mlr_protocol(raw, seed=0, val_ids=1, variant="per-image")
    assert again.fingerprint() == p.fingerprint() and again.validation == val  # seeded


def test_mlr_validation_queries_all_have_a_cross_camera_match(tmp_path: Path) -> None:
    """Market-1501 holds ids seen once in each of two cameras: per id and camera one query
    would leave them no gallery image, and `prepare` refused `--val-ids 50` on Market.
    Such an id keeps one query and gives the other image to the gallery; nothing is lost."""
    from rfdreid.data.synthetic import generate_synthetic

    root = generate_synthetic(tmp_path / "syn", num_train_ids=8, num_test_ids=2, num_cameras=2,
                              images_per_id_per_camera=2)
    for extra in sorted((root / "bounding_box_train").glob("*.jpg"))[1::2]:
        extra.unlink()  # names sort by id, camera, frame: one image per id and camera stays
    raw = DATASETS.get("market1501")(root)
    assert len(raw.subsets["train"]) == 16
    p = build_mlr_protocol(raw, seed=0, val_ids=5, variant="per-image")
    val, held = p.validation, set(p.meta["val_ids"])
    for mode, gallery in val.galleries.items():
        assert sorted(_paths(val.query) + _paths(gallery)) == sorted(
            r.path for r in raw.subsets["train"] if r.pid in held), mode
        for q in val.query:  # brute force: some gallery image of its id, another camera
            assert any(g.pid == q.pid and g.camid != q.camid for g in gallery), (mode, q.path)
    assert sorted(r.pid for r in val.query) == sorted(held)  # one query per id: 2 cameras, 1 each
    check_queries(p, "protocol.json")


@pytest.mark.parametrize("variant", MLR_VARIANTS)
def test_redraw_degradation_draws_test_factors_anew_and_keeps_the_rest(
        variant: str, fake_market: Path) -> None:
    """Section 4.3's repeats: repeat 0 is the protocol; repeat k redraws the query and
    multi-gallery factors (seeded by k); train, the HR gallery and the images stay."""
    raw = DATASETS.get("market1501")(fake_market)
    p = build_mlr_protocol(raw, seed=5, variant=variant)
    assert redraw_degradation(p, 0) is p
    repeats = [redraw_degradation(p, k) for k in (1, 2, 3)]
    for k, r in enumerate(repeats, start=1):
        assert r.train == p.train and r.galleries["single"] == p.galleries["single"]
        assert _paths(r.query) == _paths(p.query)
        assert _paths(r.galleries["multi"]) == _paths(p.galleries["multi"])
        assert r.meta == {**p.meta, "repeat": k} and r == redraw_degradation(p, k)
        assert {f.factor for f in r.query} <= {2, 3, 4}
        assert {f.factor for f in r.galleries["multi"]} <= {1, 2, 3, 4}
        assert all(f.res_label == FACTOR_LABEL[f.factor] for f in r.query + r.galleries["multi"])
    for subset in (lambda x: x.query, lambda x: x.galleries["multi"]):  # both drawn anew
        draws = {tuple(f.factor for f in subset(r)) for r in [p, *repeats]}
        assert len(draws) > 1
    assert set(repeats[0].galleries) == {"single", "multi"}
    only_query = replace(p, galleries={"single": p.galleries["single"]})
    assert redraw_degradation(only_query, 1).query == repeats[0].query
    with pytest.raises(ReIDError, match=r"^--repeats re-draws the down-sampling of MLR protocols; "
                                        r"a caviar protocol has fixed real resolutions \(use its "
                                        r"splits instead\)$"):
        redraw_degradation(replace(p, meta={"protocol": "caviar"}), 1)


def test_bad_gallery_modes_and_val_ids_are_named(fake_market: Path, fake_caviar: Callable) -> None:
    raw = DATASETS.get("market1501")(fake_market)  # 3 training ids
    with pytest.raises(ReIDError, match=r"unknown gallery protocol \['triple'\]; choose from "
                                        "single, multi"):
        build_mlr_protocol(raw, 0, gallery_modes=("single", "triple"))
    with pytest.raises(ReIDError, match="choose from single, multi"):
        build_mlr_protocol(raw, 0, gallery_modes=())
    for bad in (-1, 2):
        with pytest.raises(ReIDError, match=rf"--val-ids must be in 0\.\.1 \(the training set has "
                                            rf"3 identities and keeps at least 2\), got {bad}"):
            build_mlr_protocol(raw, 0, val_ids=bad)
    caviar = DATASETS.get("caviar")(fake_caviar(two_cam=4, one_cam=0, images=2))
    with pytest.raises(ReIDError, match="has no query/gallery split: choose a --split"):
        build_real_protocol(caviar, seed=0)


def test_few_identities_build_without_val_ids_and_name_the_limit_with_them(
        fake_caviar: Callable) -> None:
    """3 ids seen by both cameras: 1 trains, 2 test; asking no validation must not fail."""
    caviar = DATASETS.get("caviar")(fake_caviar(two_cam=3, one_cam=0, images=4))
    p = build_real_protocol(caviar, seed=0, split=0)
    assert p.num_train_pids == 1 and p.validation is None
    assert len({r.pid for r in p.query}) == 2
    with pytest.raises(ReIDError, match=r"^--val-ids must be in 0\.\.0 \(the training set has 1 "
                                        r"identities and keeps at least 2\), got 1$"):
        build_real_protocol(caviar, seed=0, split=0, val_ids=1)
