"""Dataset readers on fake folders, including the bad inputs a user can produce."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rfdreid.data.datasets import DATASETS
from rfdreid.errors import ReIDError


def test_market_reader(fake_market: Path) -> None:
    raw = DATASETS.get("market1501")(fake_market)
    train, query, gallery = raw.subsets["train"], raw.subsets["query"], raw.subsets["gallery"]
    assert len(train) == 18 and sorted({r.pid for r in train}) == [0, 1, 2]  # relabelled
    assert {r.camid for r in train} == {0, 1, 2}
    assert len(query) == 4 and {r.pid for r in query} == {1, 3}
    assert len(gallery) == 9  # junk -1 dropped, distractor 0000 kept
    assert 0 in {r.pid for r in gallery} and -1 not in {r.pid for r in gallery}
    assert all(r.factor == 1 for r in train + query + gallery)
    assert raw.sizes[train[0].path] == (8, 16)
    assert not any("Thumbs" in r.path for r in train)


def test_market_double_extension_of_the_release(fake_market: Path, jpeg: Callable) -> None:
    jpeg(fake_market / "query" / "0003_c3s1_000000_00.jpg.jpg")
    assert len(DATASETS.get("market1501")(fake_market).subsets["query"]) == 5


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(ReIDError, match="nowhere.*bounding_box_train"):
        DATASETS.get("market1501")(tmp_path / "nowhere")


def test_missing_subfolder(fake_market: Path) -> None:
    (fake_market / "query").rename(fake_market / "queries")
    with pytest.raises(ReIDError, match=r"market/query not found"):
        DATASETS.get("market1501")(fake_market)


def test_folder_without_images(fake_market: Path) -> None:
    for f in (fake_market / "query").iterdir():
        f.unlink()
    (fake_market / "query" / "Thumbs.db").write_bytes(b"x")
    with pytest.raises(ReIDError, match="holds no images"):
        DATASETS.get("market1501")(fake_market)


def test_wrongly_named_file(fake_market: Path, jpeg: Callable) -> None:
    jpeg(fake_market / "query" / "holiday.jpg")
    with pytest.raises(ReIDError, match=r"holiday\.jpg.*PPPP_cXsY_FFFFFF_NN\.jpg"):
        DATASETS.get("market1501")(fake_market)


def test_corrupt_header_names_the_file(fake_market: Path) -> None:
    (fake_market / "bounding_box_test" / "0001_c1s9_000009_00.jpg").write_bytes(b"garbage")
    with pytest.raises(ReIDError, match="0001_c1s9_000009_00.jpg"):
        DATASETS.get("market1501")(fake_market)


def test_duke_reader(tmp_path: Path, jpeg: Callable) -> None:
    root = tmp_path / "duke"
    for pid, cam in [(5, 1), (5, 8), (9, 2)]:
        jpeg(root / "bounding_box_train" / f"{pid:04d}_c{cam}_f{pid * 100:07d}.jpg")
    jpeg(root / "query" / "0011_c3_f0000001.jpg")
    jpeg(root / "bounding_box_test" / "0011_c4_f0000002.jpg")
    raw = DATASETS.get("dukemtmc")(root)
    assert [(r.pid, r.camid) for r in raw.subsets["train"]] == [(0, 0), (0, 7), (1, 1)]
    jpeg(root / "query" / "0011_c3s1_000001_00.jpg")  # a Market name in a Duke folder
    with pytest.raises(ReIDError, match="PPPP_cC_fFFFFFFF.jpg"):
        DATASETS.get("dukemtmc")(root)


def test_folder_reader(tmp_path: Path, jpeg: Callable) -> None:
    root = tmp_path / "mine"
    jpeg(root / "train" / "17_c1_a.jpg")
    jpeg(root / "train" / "3_c2.png")
    jpeg(root / "query" / "17_c2_frame0045.jpg")
    jpeg(root / "gallery" / "17_c1_x_y.jpeg")
    raw = DATASETS.get("folder")(root)
    assert sorted((r.pid, r.camid) for r in raw.subsets["train"]) == [(0, 1), (1, 0)]
    assert raw.subsets["query"][0].pid == 17
    jpeg(root / "gallery" / "17_c0_bad.jpg")
    with pytest.raises(ReIDError, match="17_c0_bad.jpg"):
        DATASETS.get("folder")(root)


def test_caviar_reader_accepts_both_names(fake_caviar: Callable) -> None:
    raw = DATASETS.get("caviar")(fake_caviar(two_cam=3, one_cam=1))
    recs = raw.subsets["all"]
    assert len(recs) == 3 * 20 + 10
    assert {r.pid for r in recs} == {1, 2, 3, 4}
    by_name = {Path(r.path).name: r.camid for r in recs}
    assert by_name["0001001.jpg"] == 0 and by_name["0002_011.jpg"] == 1


def test_caviar_image_number_out_of_range(fake_caviar: Callable, jpeg: Callable) -> None:
    root = fake_caviar(two_cam=2, one_cam=0)
    jpeg(root / "0001_021.jpg")
    with pytest.raises(ReIDError, match="0001_021.jpg"):
        DATASETS.get("caviar")(root)


def test_unknown_dataset() -> None:
    with pytest.raises(ReIDError, match="market1501"):
        DATASETS.get("cuhk03")
