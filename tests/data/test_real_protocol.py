"""The real-resolution protocol of any dataset; CAVIAR as its two-camera configuration."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from rfdreid.data.datasets import DATASETS, read_dataset
from rfdreid.data.diagnostics import resolution_report
from rfdreid.data.prepare import build_protocols
from rfdreid.data.protocols import _ids_across, build_caviar_protocol, build_real_protocol
from rfdreid.data.records import ImageRecord, Protocol
from rfdreid.data.synthetic import generate_synthetic
from rfdreid.errors import ReIDError

# sha1 of the split files (root replaced by ROOT) written by build_caviar_protocol before it
# became a configuration of build_real_protocol (commit 7a12f62), on fake_caviar(12, 2)
CAVIAR_GOLDEN = [
    (dict(seed=0, split=0), "37a32a3dfa9a79e20cc07f56f118257b40f3127a"),
    (dict(seed=3, split=7, val_ids=2), "1939df52a213c8041001456d0db18e6ea4cbef66"),
    (dict(seed=0, split=2, gallery_modes=("multi",), pseudo_label_mode="quantile"),
     "10b90fd97c8dc46efa92dc6e85f7d98dd4a00c7d"),
]
# the same over the 10 splits of the real CAVIAR4REID (seed 0; seed 1 with 5 val ids)
REAL_CAVIAR_GOLDEN = {0: "4deaa6d120b3adfbb26d87bfe70a9128722df3e0",
                      1: "d334623aea83811f2875c53d6fac6d0b07429d34"}


def file_digest(protocol: Protocol, root: Path) -> str:
    text = json.dumps(protocol.to_dict(), indent=1).replace(str(root.resolve()), "ROOT")
    return hashlib.sha1(text.encode()).hexdigest()


def records(p: Protocol) -> dict[str, list[tuple[str, int, int, int, int]]]:
    return {k: [(r.path, r.pid, r.camid, r.factor, r.res_label) for r in v]
            for k, v in p.subsets().items()}


def test_caviar_files_are_byte_identical_to_before(fake_caviar: Callable) -> None:
    root = fake_caviar(two_cam=12, one_cam=2)
    raw = DATASETS.get("caviar")(root)
    assert [file_digest(build_caviar_protocol(raw, **kw), root) for kw, _ in CAVIAR_GOLDEN] == [
        digest for _, digest in CAVIAR_GOLDEN]


def test_real_caviar_files_are_byte_identical_to_before(caviar_root: Path) -> None:
    raw = DATASETS.get("caviar")(caviar_root)
    for seed, golden in REAL_CAVIAR_GOLDEN.items():
        h = hashlib.sha1()
        for k in range(10):
            p = build_caviar_protocol(raw, seed, k, val_ids=5 if seed else 0)
            h.update(file_digest(p, caviar_root).encode())
        assert h.hexdigest() == golden


@pytest.mark.parametrize("dataset", ["caviar", "market1501"])
def test_a_dataset_reached_through_a_symlink_gives_byte_identical_files(
    dataset: str, fake_caviar: Callable, fake_market: Path, tmp_path: Path
) -> None:
    """Like ../shared reached through a link: the files must not record how it was reached."""
    root = fake_caviar(two_cam=12, one_cam=2) if dataset == "caviar" else fake_market
    link = tmp_path / "link"
    link.symlink_to(root, target_is_directory=True)
    direct, linked = (build_protocols(dataset, r, seed=1) for r in (root, link))
    assert list(direct) == list(linked)
    for name, protocol in direct.items():
        assert protocol.meta["root"] == str(root.resolve())
        assert json.dumps(linked[name].to_dict()) == json.dumps(protocol.to_dict())


def test_caviar_as_a_manifest_takes_the_general_path_to_the_same_splits(
    fake_caviar: Callable, tmp_path: Path
) -> None:
    root = fake_caviar(two_cam=12, one_cam=2)
    caviar = DATASETS.get("caviar")(root)
    manifest = tmp_path / "caviar.csv"
    with manifest.open("w", newline="") as f:
        csv.writer(f).writerows([("path", "pid", "camid"),
                                 *((r.path, r.pid, r.camid) for r in caviar.subsets["all"])])
    general = build_protocols("manifest", root, seed=4, val_ids=2, manifest=manifest)
    assert list(general) == [f"split_{k:02d}.json" for k in range(10)]
    for k in (0, 5):
        mine = general[f"split_{k:02d}.json"]
        theirs = build_caviar_protocol(caviar, 4, k, val_ids=2)
        assert records(mine) == records(theirs)
        assert records(mine.validation) == records(theirs.validation)
        assert mine.meta["query_cameras"] == [theirs.meta["query_camera"]] == [0]
        for key in ("train_ids", "test_ids", "res_bin_edges", "val_ids"):
            assert mine.meta[key] == theirs.meta[key]


@pytest.fixture(scope="module")
def six_cameras_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 cameras at distances 1..4, 6 + 6 ids, 5 distractors, with manifest.csv."""
    return generate_synthetic(tmp_path_factory.mktemp("six") / "six", num_train_ids=6,
                              num_test_ids=6, num_cameras=6, images_per_id_per_camera=2,
                              camera_distances=(1, 1, 1.5, 2, 3, 4), num_distractors=5,
                              manifest=True)


@pytest.fixture
def six_cameras(six_cameras_once: Path, tmp_path: Path) -> Path:
    """A private copy of the six-camera set (tests edit its manifest); copying is cheaper
    than drawing it again."""
    return Path(shutil.copytree(six_cameras_once, tmp_path / "six"))


def without_split(root: Path) -> Path:
    rows = list(csv.reader((root / "manifest.csv").open()))
    out = root / "nosplit.csv"
    with out.open("w", newline="") as f:
        csv.writer(f).writerows(row[:3] for row in rows)
    return out


def test_six_cameras_drawn_split(six_cameras: Path) -> None:
    raw = read_dataset("manifest", six_cameras, without_split(six_cameras))
    p = build_real_protocol(raw, seed=0, split=1)
    assert p.meta["query_cameras"] == [3, 4, 5]  # the farthest cameras: distances 2, 3, 4
    assert {r.camid for r in p.query} == {3, 4, 5}
    test_ids = p.meta["test_ids"]
    assert len(test_ids) == len(p.meta["train_ids"]) == 6
    people = [r for r in p.galleries["single"] if r.pid != -1]
    assert sorted(r.pid for r in people) == test_ids and {r.camid for r in people} <= {0, 1, 2}
    assert sorted(r.pid for r in p.galleries["multi"] if r.pid != -1) == test_ids
    assert {r.camid for r in p.galleries["single_all"] if r.pid != -1} == {0, 1, 2}
    for gallery in p.galleries.values():
        assert sum(r.pid == -1 for r in gallery) == 5  # distractors in every gallery
    assert -1 not in {r.pid for r in p.train + p.query}
    # pseudo-label bins span the training images only
    train_pixels = [raw.sizes[r.path][0] * raw.sizes[r.path][1] for r in p.train]
    assert p.meta["res_bin_edges"][0] == min(train_pixels)
    assert p.meta["res_bin_edges"][-1] == max(train_pixels)


def test_six_cameras_given_split(six_cameras: Path) -> None:
    [(name, p)] = build_protocols("manifest", six_cameras, seed=0).items()
    raw = read_dataset("manifest", six_cameras)
    assert name == "protocol.json" and p.meta["protocol"] == "real"
    assert [r.path for r in p.query] == [r.path for r in raw.subsets["query"]]
    assert [r.path for r in p.galleries["single"]] == [r.path for r in raw.subsets["gallery"]]
    query_ids = sorted({r.pid for r in p.query})
    multi = p.galleries["multi"]
    assert sorted(r.pid for r in multi if r.pid in query_ids) == query_ids
    assert len({r.camid for r in multi}) > 2  # drawn from every resolution
    assert len(p.gallery_queries["multi"]) == len(p.query) + len(p.galleries["single"]) - 5 - 6
    assert all(r.factor == 1 for recs in p.subsets().values() for r in recs)
    synthetic = build_protocols("manifest", six_cameras, resolution="synthetic")["protocol.json"]
    assert synthetic.meta["protocol"] == "mlr" and {r.factor for r in synthetic.query} <= {2, 3, 4}


def test_refuses_queries_without_a_gallery_match(six_cameras: Path) -> None:
    manifest = six_cameras / "manifest.csv"
    rows = list(csv.reader(manifest.open()))
    lone_pid = next(r[1] for r in rows if r[3] == "query")  # keeps queries, loses gallery
    kept = [r for r in rows if not (r[1] == lone_pid and r[3] == "gallery")]
    with manifest.open("w", newline="") as f:
        csv.writer(f).writerows(kept)
    with pytest.raises(ReIDError, match=rf"6 of 36 queries \(1 identities: {lone_pid}\)") as info:
        build_protocols("manifest", six_cameras)
    assert "no 'single' gallery image" in str(info.value)


def test_refuses_zero_queries(six_cameras: Path) -> None:
    manifest = six_cameras / "manifest.csv"
    rows = [r for r in csv.reader(manifest.open()) if r[3] != "query"]
    with manifest.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(ReIDError, match="has 0 usable queries"):
        build_protocols("manifest", six_cameras, protocol="single")


def test_refuses_folder_query_identity_without_gallery(tmp_path: Path, jpeg) -> None:
    for name in ("train/1_c1_a.jpg", "train/1_c2_a.jpg", "train/2_c1_a.jpg", "train/2_c2_a.jpg",
                 "query/5_c1_a.jpg", "query/6_c1_a.jpg", "gallery/5_c2_a.jpg"):
        jpeg(tmp_path / "f" / name)
    with pytest.raises(ReIDError, match=r"1 of 2 queries \(1 identities: 6\)"):
        build_protocols("folder", tmp_path / "f", mlr_variant="per-image")
    # SING's construction (the default) drops an id seen by one camera, and names it
    [p] = build_protocols("folder", tmp_path / "f").values()
    assert p.meta["dropped_one_camera"] == {"train": [], "test": ["6_c1_a.jpg"]}
    assert {r.pid for r in p.query} == {5}


def test_one_bin_holding_most_images_is_warned(tmp_path: Path, jpeg) -> None:
    """VIPeR-like: every crop the same size puts every pseudo-label in one bin."""
    lines = ["path,pid,camid"]
    for pid in range(6):
        for cam in range(2):
            jpeg(tmp_path / f"{pid}_{cam}.jpg", (12, 24))
            lines.append(f"{pid}_{cam}.jpg,{pid},{cam}")
    (tmp_path / "manifest.csv").write_text("\n".join(lines))
    p = build_protocols("manifest", tmp_path, split=0)["split_00.json"]
    sizes = read_dataset("manifest", tmp_path).sizes
    lines, warnings = resolution_report(p, sizes.__getitem__)
    assert len(warnings) == 1 and "100 % of the training images" in warnings[0]
    assert "RFD cannot help" in warnings[0]
    assert any(line.startswith("LR cameras [0]") for line in lines)


def test_report_shows_cameras_and_bins(six_cameras: Path) -> None:
    p = build_protocols("manifest", six_cameras, manifest=without_split(six_cameras),
                        split=0)["split_00.json"]
    sizes = read_dataset("manifest", six_cameras).sizes
    lines, warnings = resolution_report(p, sizes.__getitem__)
    assert not warnings
    cams = [line for line in lines if line.startswith("camera ")]
    assert len(cams) == 6 and all("HR" in c for c in cams[:3]) and all("LR" in c for c in cams[3:])
    bins = [line for line in lines if line.startswith("bin ")]
    assert sum(int(b.split(": ")[-1].split()[0]) for b in bins) == len(p.train)
    means = [float(c.split("mean ")[1].split(")")[0]) for c in cams]
    assert np.argsort(means)[:3].tolist() == [5, 4, 3]


def test_any_dataset_takes_the_real_protocol(fake_market: Path) -> None:
    [p] = build_protocols("market1501", fake_market, resolution="real").values()
    assert p.meta["protocol"] == "real" and p.num_res_classes == 5
    assert all(r.factor == 1 for recs in p.subsets().values() for r in recs)
    # Market's distractor id 0000 has no query: it joins the multi gallery whole
    assert sum(r.pid == 0 for r in p.galleries["multi"]) == 1
    assert sorted(r.pid for r in p.galleries["multi"] if r.pid > 0) == [1, 3]
    with pytest.raises(ReIDError, match="fixed query/gallery split"):
        build_protocols("market1501", fake_market, resolution="real", split=1)
    held = build_real_protocol(DATASETS.get("market1501")(fake_market), seed=0, val_ids=1)
    assert held.meta["val_query_cameras"] == [0]  # equal crops: the lower camera id
    with pytest.raises(ReIDError, match="unknown gallery protocol \\['single_all'\\]"):
        build_real_protocol(DATASETS.get("market1501")(fake_market), seed=0,
                            gallery_modes=("single_all",))  # only for drawn splits


def test_only_ids_seen_by_an_lr_and_an_hr_camera_are_kept() -> None:
    """Section 4.2's rule: an id seen by LR cameras only, or HR cameras only, is dropped."""
    recs = [ImageRecord(f"{pid}_{cam}.jpg", pid, cam)
            for pid, cams in {1: (0, 2), 2: (0, 1), 3: (2, 3), 4: (1,)}.items() for cam in cams]
    assert _ids_across(recs, low=[0, 1]) == [1]


def test_one_id_across_resolutions_is_refused_naming_the_rule(fake_caviar: Callable) -> None:
    raw = DATASETS.get("caviar")(fake_caviar(two_cam=1, one_cam=2, images=2))
    with pytest.raises(ReIDError, match="has 1 identities seen by a low- and a "
                                        "high-resolution camera; at least 2 are needed"):
        build_caviar_protocol(raw, seed=0, split=0)
