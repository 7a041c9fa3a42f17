"""Issue 23, data loss: `rfdreid prepare` replaces its --out as a whole, so an --out that
is, holds or lies in the user's data, or a user folder it did not write, is refused in
one line before anything is touched. Every test compares the sha256 of every file (and
the list of folders) under the test's folder before and after the command."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfdreid.data.prepare import MARKER, prepare

from crops import user_images, write_manifest
from data.conftest import write_jpeg
from oracles import snapshot


def _refused_untouched(cli, tmp_path: Path, args: list[object], *fragments: str) -> None:
    before = snapshot(tmp_path)
    assert before  # the oracle compares something
    cli("prepare", *args).assert_one_line_error(*fragments)
    assert snapshot(tmp_path) == before


def test_manifest_out_equal_to_root(cli, tmp_path):
    write_manifest(tmp_path / "manifest.csv", user_images(tmp_path / "cams" / "images", "images/"))
    _refused_untouched(cli, tmp_path, ["--dataset", "manifest", "--root", "cams", "--manifest",
                                       "manifest.csv", "--out", "cams"],
                       "--out cams is the same path as --root", "choose a new folder")


def test_synthetic_out_equal_to_root(cli, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    _refused_untouched(cli, tmp_path, ["--dataset", "synthetic", "--root", "s2", "--out", "s2"],
                       "--out s2 is the same path as --root", "choose a new folder")
    assert not (tmp_path / "s2").exists()  # nothing generated either


def test_out_inside_root(cli, tmp_path):
    write_manifest(tmp_path / "u" / "manifest.csv",
                   user_images(tmp_path / "u" / "cams" / "images", "cams/images/"))
    _refused_untouched(cli, tmp_path, ["--dataset", "manifest", "--root", "u", "--out", "u/cams"],
                       "--out u/cams lies inside --root", "choose a new folder")


def test_out_holding_root(cli, tmp_path):
    write_manifest(tmp_path / "u" / "images" / "manifest.csv",
                   user_images(tmp_path / "u" / "images"))
    _refused_untouched(cli, tmp_path, ["--dataset", "manifest", "--root", "u/images",
                                       "--out", "u"],
                       "--out u holds --root", "choose a new folder")


def test_out_holding_images_the_manifest_lists(cli, tmp_path):
    """The degraded images of an earlier `prepare --materialize`, listed in a manifest:
    preparing into that output again would delete them while reading them."""
    rows = user_images(tmp_path / "cams")
    write_manifest(tmp_path / "cams" / "manifest.csv", rows)
    prepare("manifest", tmp_path / "cams", tmp_path / "prep", materialize_images=True)
    listed = sorted((tmp_path / "prep" / "images" / "gallery_single").iterdir())[0]
    write_manifest(tmp_path / "cams" / "manifest.csv", [*rows, f"{listed},3,1,gallery"])
    _refused_untouched(cli, tmp_path, ["--dataset", "manifest", "--root", "cams",
                                       "--out", "prep"],
                       "--out prep holds an image folder", str(listed.parent))


def test_non_empty_user_folder_without_marker(cli, tmp_path):
    write_manifest(tmp_path / "cams" / "manifest.csv", user_images(tmp_path / "cams"))
    write_jpeg(tmp_path / "photos" / "images" / "holiday.jpg")
    (tmp_path / "photos" / "protocol.json").write_text('{"mine": true}')
    _refused_untouched(cli, tmp_path, ["--dataset", "manifest", "--root", "cams",
                                       "--out", "photos"],
                       "--out photos", f"no {MARKER} file", "choose a new or empty folder")


def test_marked_output_with_a_user_file_added_is_refused(cli, tmp_path):
    write_manifest(tmp_path / "cams" / "manifest.csv", user_images(tmp_path / "cams"))
    prepare("manifest", tmp_path / "cams", tmp_path / "out")
    (tmp_path / "out" / "notes.txt").write_text("mine")
    _refused_untouched(cli, tmp_path, ["--dataset", "manifest", "--root", "cams",
                                       "--out", "out"], "--out out", "notes.txt")


@pytest.mark.parametrize("existing", ["absent", "empty"])
def test_new_or_empty_out_is_written_with_its_marker(existing, cli, tmp_path):
    write_manifest(tmp_path / "cams" / "manifest.csv", user_images(tmp_path / "cams"))
    if existing == "empty":
        (tmp_path / "out").mkdir()
    before = snapshot(tmp_path / "cams")
    assert cli("prepare", "--dataset", "manifest", "--root", "cams", "--out", "out").code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [MARKER, "protocol.json"]
    assert snapshot(tmp_path / "cams") == before
