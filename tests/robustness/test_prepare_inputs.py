"""Rows 18-22: `rfdreid prepare` with unwritable outputs, bad seeds, damaged JPEGs, used
output folders, macOS `._*` files and cameras outside a dataset's range."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rfdreid.data.prepare import MARKER, prepare
from rfdreid.data.records import Protocol


def _prepare(cli, root: Path, out: Path, *extra: object, dataset: str = "market1501"):
    return cli("prepare", "--dataset", dataset, "--root", root, "--out", out, *extra)


def test_out_under_a_file_is_one_line(cli, fake_market, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    _prepare(cli, fake_market, blocker / "out").assert_one_line_error(str(blocker))


def test_out_that_cannot_be_created_is_one_line(cli, fake_market, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions: use a kernel-owned folder
            locked = Path("/sys")
        res = _prepare(cli, fake_market, locked / "out")
    finally:
        (tmp_path / "locked").chmod(0o700)
    res.assert_one_line_error(str(locked), "cannot access")


def test_negative_seed_is_one_line(cli, fake_market, tmp_path):
    out = tmp_path / "out"
    _prepare(cli, fake_market, out, "--seed", "-1").assert_one_line_error("--seed", "-1")
    assert not out.exists()


def test_damaged_jpeg_is_found_by_check_images(cli, fake_market, jpeg, tmp_path):
    victim = jpeg(fake_market / "bounding_box_train" / "0004_c2s1_000001_00.jpg", (64, 128))
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # the header survives, the pixels do not
    out = tmp_path / "out"
    _prepare(cli, fake_market, out, "--check-images").assert_one_line_error(
        "1 of", "cannot be decoded", victim.name)
    assert not out.exists()
    assert _prepare(cli, fake_market, out).code == 0  # headers alone pass: why the flag exists


def test_rerun_replaces_the_whole_output(fake_market, tmp_path):
    out = tmp_path / "out"
    prepare("market1501", fake_market, out, materialize_images=True)
    assert (out / "images").is_dir()
    written = prepare("market1501", fake_market, out, seed=5)
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "protocol.json"]
    assert Protocol.load(out / "protocol.json").seed == 5 == written[out / "protocol.json"].seed
    assert not list(tmp_path.glob(".out.*"))


def test_one_caviar_split_replaces_a_ten_split_folder(fake_caviar, tmp_path):
    root, out = fake_caviar(two_cam=4, one_cam=0), tmp_path / "cav"
    assert len(prepare("caviar", root, out, protocol="single")) == 10
    prepare("caviar", root, out, split=0, seed=5, protocol="single")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "split_00.json"]


def test_out_holding_user_files_is_refused(cli, fake_market, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.tex").write_text("mine")
    _prepare(cli, fake_market, out).assert_one_line_error(str(out), "thesis.tex")
    assert (out / "thesis.tex").read_text() == "mine"


def test_macos_resource_forks_are_ignored(cli, fake_market, tmp_path):
    (fake_market / "query" / "._0001_c1s1_000000_00.jpg").write_bytes(b"\x00\x05\x16\x07")
    out = tmp_path / "out"
    assert _prepare(cli, fake_market, out).code == 0
    assert not any("._" in r.path for r in Protocol.load(out / "protocol.json").query)


@pytest.mark.parametrize("dataset, name, fragment", [
    ("market1501", "0002_c0s1_000009_00.jpg", "c1 to c6"),
    ("market1501", "0002_c7s1_000009_00.jpg", "c1 to c6"),
    ("dukemtmc", "0002_c9_f0000009.jpg", "c1 to c8"),
    ("dukemtmc", "0002_c0_f0000009.jpg", "numbered from 1"),
    ("folder", "2_c0_x.jpg", "numbered from 1"),
])
def test_camera_outside_the_dataset_range(dataset, name, fragment, cli, jpeg, tmp_path):
    folders = {"folder": ("train", "query", "gallery")}.get(
        dataset, ("bounding_box_train", "query", "bounding_box_test"))
    good = {"market1501": "0002_c1s1_000001_00.jpg", "dukemtmc": "0002_c1_f0000001.jpg",
            "folder": "2_c1_x.jpg"}[dataset]
    root = tmp_path / "data"
    for folder in folders:
        jpeg(root / folder / good)
    jpeg(root / folders[0] / name)
    _prepare(cli, root, tmp_path / "out", dataset=dataset).assert_one_line_error(
        name, fragment)


@pytest.mark.parametrize("dataset, good", [("market1501", "0002_c1s1_000001_00.jpg"),
                                           ("dukemtmc", "0002_c1_f0000001.jpg")])
def test_wrong_layout_names_the_missing_folder(dataset, good, cli, jpeg, tmp_path):
    """A Market or Duke root without its gallery folder fails before SING picks cameras,
    naming the folder and the layout (issue 26, item 4)."""
    root = tmp_path / "data"
    for folder in ("bounding_box_train", "query"):
        jpeg(root / folder / good)
    _prepare(cli, root, tmp_path / "out", "--mlr-variant", "sing",
             dataset=dataset).assert_one_line_error(
        str(root / "bounding_box_test"), "not found", "expected layout")
