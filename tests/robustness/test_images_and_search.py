"""Rows 13-15: 16-bit images, decompression bombs and unreadable gallery files."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rfdreid.data.images import read_image
from rfdreid.errors import ReIDError


def _png_claiming(path: Path, width: int, height: int) -> Path:
    """A few-byte PNG whose header claims width x height pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("mode, value, expected", [
    ("I;16", 32768, 128), ("I;16", 65535, 255), ("I", 16384, 64), ("F", 0.5, 128),
])
def test_high_bit_depth_images_are_scaled_not_clipped(mode, value, expected, tmp_path):
    arr = np.full((8, 4), value, {"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode])
    path = tmp_path / f"deep.{'png' if mode == 'I;16' else 'tiff'}"
    Image.fromarray(arr).save(path)
    rgb = np.asarray(read_image(path))
    assert rgb.shape == (8, 4, 3) and (rgb == expected).all()


def test_sixteen_bit_query_is_searched_like_its_eight_bit_copy(cli, trained, tmp_path):
    grey8 = np.asarray(Image.open(trained.images / "6_0_0.jpg").convert("L"))
    Image.fromarray(grey8.astype(np.uint16) * 257).save(tmp_path / "q16.png")
    Image.fromarray(grey8).save(tmp_path / "q8.png")
    args = ("--gallery", trained.images, "--bf", trained.bf, "--top-k", "3")
    deep, flat = cli("search", tmp_path / "q16.png", *args), cli("search", tmp_path / "q8.png", *args)
    assert deep.code == 0 and flat.code == 0, deep.err + flat.err
    assert deep.out.splitlines()[2:] == flat.out.splitlines()[2:]


@pytest.mark.parametrize("size", [(20000, 20000), (8000, 6000)])
def test_decompression_bomb_is_refused_naming_the_file(size, cli, trained, tmp_path):
    bomb = _png_claiming(tmp_path / "bomb.png", *size)
    with pytest.raises(ReIDError, match="bomb"):
        read_image(bomb)
    cli("search", bomb, "--gallery", trained.images,
        "--bf", trained.bf).assert_one_line_error(str(bomb))


@pytest.fixture
def gallery_with_bad_files(trained, tmp_path: Path) -> tuple[Path, list[str]]:
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    for name in ("6_1_0.jpg", "7_1_0.jpg", "8_1_0.jpg"):
        shutil.copy(trained.images / name, gallery / name)
    good = (trained.images / "9_1_0.jpg").read_bytes()
    (gallery / "9_1_0.jpg").write_bytes(good[: len(good) // 3])  # damaged after the header
    (gallery / "notes.jpg").write_text("not an image")
    _png_claiming(gallery / "huge.png", 20000, 20000)
    return gallery, ["9_1_0.jpg", "huge.png", "notes.jpg"]


def test_unreadable_gallery_file_stops_search_naming_it(cli, trained, gallery_with_bad_files):
    gallery, _ = gallery_with_bad_files
    res = cli("search", trained.images / "6_0_0.jpg", "--gallery", gallery,
              "--bf", trained.bf, "--br", trained.br)
    res.assert_one_line_error(str(gallery))


def test_skip_bad_ranks_the_rest_and_lists_the_skipped(cli, trained, gallery_with_bad_files):
    gallery, bad = gallery_with_bad_files
    res = cli("search", trained.images / "6_0_0.jpg", "--gallery", gallery,
              "--bf", trained.bf, "--br", trained.br, "--skip-bad")
    assert res.code == 0, res.err
    ranked = [line.split()[-1] for line in res.out.splitlines() if line.split()[0].isdigit()]
    assert sorted(ranked) == ["6_1_0.jpg", "7_1_0.jpg", "8_1_0.jpg"]
    assert f"skipped 3 unreadable gallery file(s): {', '.join(bad)}" in res.err


def test_skip_bad_in_the_api(model, gallery_with_bad_files, trained):
    gallery, bad = gallery_with_bad_files
    hits = model.search(trained.images / "6_0_0.jpg", gallery, skip_bad=True)
    assert [p.name for p in hits.skipped] == bad and len(hits) == 3
