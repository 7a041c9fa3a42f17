"""Image reading errors and the MLR degradation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rfdreid.data.degrade import degrade, load_as_seen
from rfdreid.data.images import read_image, read_image_size
from rfdreid.data.records import ImageRecord
from rfdreid.errors import ReIDError


def _img(w: int = 64, h: int = 128) -> Image.Image:
    arr = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return Image.fromarray(arr)


def test_read_image_is_rgb(tmp_path: Path) -> None:
    Image.new("L", (5, 9), 7).save(tmp_path / "g.png")
    img = read_image(tmp_path / "g.png")
    assert img.mode == "RGB" and img.size == (5, 9)


@pytest.mark.parametrize("reader", [read_image, read_image_size])
def test_corrupt_image_names_the_file(tmp_path: Path, reader) -> None:
    bad = tmp_path / "0001_c1s1_000000_00.jpg"
    bad.write_bytes(b"definitely not a jpeg")
    with pytest.raises(ReIDError, match="0001_c1s1_000000_00.jpg"):
        reader(bad)


def test_truncated_jpeg_fails_on_decode_with_name(tmp_path: Path) -> None:
    path = tmp_path / "t.jpg"
    _img().save(path, quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert read_image_size(path) == (64, 128)  # header is intact
    with pytest.raises(ReIDError, match="t.jpg"):
        read_image(path)


def test_factor_one_is_identity() -> None:
    img = _img()
    assert degrade(img, 1, "bicubic") is img


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_degrade_keeps_size_loses_detail(factor: int) -> None:
    img = _img(63, 127)
    lr = degrade(img, factor, "bicubic")
    assert lr.size == img.size
    assert not np.array_equal(np.asarray(lr), np.asarray(img))


def test_bilinear_differs_from_bicubic_and_is_deterministic() -> None:
    img = _img()
    a, b = degrade(img, 3, "bilinear"), degrade(img, 3, "bicubic")
    assert not np.array_equal(np.asarray(a), np.asarray(b))
    assert np.array_equal(np.asarray(a), np.asarray(degrade(img, 3, "bilinear")))


def test_unknown_interpolation_and_bad_factor() -> None:
    with pytest.raises(ReIDError, match="'nearest'; choose one of: bicubic, bilinear$"):
        degrade(_img(), 2, "nearest")
    with pytest.raises(ValueError, match="factor must be >= 1, got 0"):
        degrade(_img(), 0, "bicubic")


def _pil_down_up(img: Image.Image, factor: int, flt: Image.Resampling) -> np.ndarray:
    """Oracle: PIL's own resize to round(size / r) and back, written out independently."""
    w, h = img.size
    small = img.resize((round(w / factor), round(h / factor)), flt)
    return np.asarray(small.resize((w, h), flt))


@pytest.mark.parametrize("factor", [2, 3, 4])
@pytest.mark.parametrize("name, flt", [("bicubic", Image.Resampling.BICUBIC),
                                       ("bilinear", Image.Resampling.BILINEAR)])
def test_degrade_is_pil_resize_down_by_r_and_up_with_the_named_filter(factor, name, flt) -> None:
    """Kills: bicubic/bilinear swapped in degrade.py; shrinking by r+1 instead of r."""
    img = _img(63, 127)
    got = np.asarray(degrade(img, factor, name))
    assert np.array_equal(got, _pil_down_up(img, factor, flt))
    other = Image.Resampling.BILINEAR if flt == Image.Resampling.BICUBIC else Image.Resampling.BICUBIC
    assert not np.array_equal(got, _pil_down_up(img, factor, other))
    assert not np.array_equal(got, _pil_down_up(img, factor + 1, flt))


@pytest.mark.parametrize("size", [(5, 5), (3, 40), (40, 3)])
def test_a_side_shorter_than_r_shrinks_to_one_pixel(size: tuple[int, int]) -> None:
    """round(side / 4) is 1 (or 0, floored to 1): the oracle resizes through 1 pixel."""
    img = _img(*size)
    w, h = size
    small = img.resize((max(1, round(w / 4)), max(1, round(h / 4))), Image.Resampling.BICUBIC)
    want = np.asarray(small.resize(size, Image.Resampling.BICUBIC))
    assert np.array_equal(np.asarray(degrade(img, 4, "bicubic")), want)


def test_load_as_seen_degrades_the_file_by_the_record_s_factor(tmp_path: Path) -> None:
    path = tmp_path / "p.png"
    _img(63, 127).save(path)
    seen = load_as_seen(ImageRecord(str(path), 0, 0, factor=3, res_label=2), "bilinear")
    assert np.array_equal(np.asarray(seen), _pil_down_up(Image.open(path).convert("RGB"), 3,
                                                         Image.Resampling.BILINEAR))
    hr = load_as_seen(ImageRecord(str(path), 0, 0), "bilinear")
    assert np.array_equal(np.asarray(hr), np.asarray(_img(63, 127)))
