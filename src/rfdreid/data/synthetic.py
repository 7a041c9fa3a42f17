"""A procedurally generated multi-camera pedestrian dataset (no downloads).

Why: tests, the demo and users without Market-1501 need a re-id set that is small, fast
to make, deterministic for a seed and still a real re-id problem: identities differ by
clothing colours / patterns and body proportions, cameras differ by viewpoint (shear,
scale), illumination (gain, colour cast), background and blur, and crops vary in size
(heights 80-160 px, aspect 1:2 to 1:3) like detector boxes. Cameras may also stand at
different distances: their people are drawn smaller, so the set has real multi-resolution
images of different sizes (not down-sampled copies). It is written in the Market-1501
layout so the Market reader (and other toolkits) read it and users can look at it, with
an optional manifest.csv for the manifest reader.
"""

from __future__ import annotations

import colorsys
import csv
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from rfdreid.data.tempdirs import temp_dir_beside

Color = tuple[int, int, int]
PATTERNS = ("plain", "horizontal_stripes", "vertical_stripes", "two_tone")
SKIN_TONES: tuple[Color, ...] = ((241, 194, 155), (224, 172, 125), (198, 134, 66),
                                 (141, 85, 36), (92, 56, 30))
HUES = 12  # shirt / trousers hues are drawn from a small palette: ids share colours
MARKET_SPLITS = {"bounding_box_train": "train", "query": "query", "bounding_box_test": "gallery"}


@dataclass(frozen=True)
class Identity:
    """Appearance of one person, constant over cameras."""

    shirt: Color
    shirt2: Color
    pattern: str
    stripe_period: float  # in units of torso height
    long_sleeves: bool
    trousers: Color
    shoes: Color
    hair: Color
    skin: Color
    height: float  # fraction of the crop height
    width: float  # torso width, fraction of the crop width
    head: float  # head diameter, fraction of the person height
    legs: float  # leg length, fraction of the person height
    bag: Color | None


@dataclass(frozen=True)
class Camera:
    """Viewing conditions of one camera, constant over identities."""

    shear: float
    scale: float
    gain: float
    cast: tuple[float, float, float]
    background: Color
    texture: str  # "tiles", "stripes" or "gradient"
    blur: float
    noise: float


def _color(rng: np.random.Generator, sat: tuple[float, float], val: tuple[float, float]) -> Color:
    hue = rng.integers(HUES) / HUES
    r, g, b = colorsys.hsv_to_rgb(hue, rng.uniform(*sat), rng.uniform(*val))
    return int(r * 255), int(g * 255), int(b * 255)


def _gray(rng: np.random.Generator, lo: int, hi: int) -> Color:
    v = int(rng.integers(lo, hi))
    return v, v, v


def make_identity(rng: np.random.Generator) -> Identity:
    """Draw one person's clothing and body proportions."""
    dull = rng.random() < 0.35  # many people wear black / grey / white
    return Identity(
        shirt=_gray(rng, 20, 235) if dull else _color(rng, (0.4, 1.0), (0.35, 1.0)),
        shirt2=_color(rng, (0.0, 1.0), (0.2, 1.0)),
        pattern=PATTERNS[rng.integers(len(PATTERNS))],
        stripe_period=float(rng.uniform(0.12, 0.3)),
        long_sleeves=bool(rng.random() < 0.5),
        trousers=_gray(rng, 15, 200) if rng.random() < 0.5 else _color(rng, (0.3, 0.9), (0.2, 0.8)),
        shoes=_gray(rng, 10, 240),
        hair=_gray(rng, 10, 90) if rng.random() < 0.7 else _color(rng, (0.4, 0.8), (0.3, 0.7)),
        skin=SKIN_TONES[rng.integers(len(SKIN_TONES))],
        height=float(rng.uniform(0.78, 0.95)),
        width=float(rng.uniform(0.38, 0.6)),
        head=float(rng.uniform(0.11, 0.15)),
        legs=float(rng.uniform(0.42, 0.5)),
        bag=_color(rng, (0.2, 0.9), (0.2, 0.8)) if rng.random() < 0.3 else None,
    )


def make_camera(rng: np.random.Generator) -> Camera:
    """Draw one camera's viewpoint, light and background."""
    return Camera(
        shear=float(rng.uniform(-0.15, 0.15)),
        scale=float(rng.uniform(0.85, 1.05)),
        gain=float(rng.uniform(0.65, 1.25)),
        cast=tuple(float(c) for c in rng.uniform(0.85, 1.15, size=3)),  # type: ignore[arg-type]
        background=_color(rng, (0.05, 0.4), (0.3, 0.8)),
        texture=("tiles", "stripes", "gradient")[rng.integers(3)],
        blur=float(rng.uniform(0.0, 0.9)),
        noise=float(rng.uniform(2.0, 7.0)),
    )


def _background(cam: Camera, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    base = np.array(cam.background, np.float32) * rng.uniform(0.85, 1.15)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    if cam.texture == "tiles":
        size = rng.uniform(8, 20)
        off = rng.uniform(0, size, 2)
        pattern = (((xs + off[0]) // size + (ys + off[1]) // size) % 2) * 0.25 - 0.12
    elif cam.texture == "stripes":
        pattern = 0.15 * np.sin((ys + rng.uniform(0, 50)) / rng.uniform(3, 9))
    else:
        pattern = 0.3 * (ys / h - 0.5)
    return base[None, None, :] * (1.0 + pattern[..., None])


def _jitter(c: Color, rng: np.random.Generator) -> Color:
    r, g, b = (int(np.clip(v * rng.uniform(0.9, 1.1), 0, 255)) for v in c)
    return r, g, b


def _draw_person(img: Image.Image, ident: Identity, cam: Camera, rng: np.random.Generator) -> None:
    w, h = img.size
    d = ImageDraw.Draw(img)
    ph = h * ident.height * cam.scale * rng.uniform(0.92, 1.02)
    top = (h - ph) / 2 + rng.uniform(-0.04, 0.04) * h
    cx = w / 2 + rng.uniform(-0.06, 0.06) * w
    head = ph * ident.head
    tw = w * ident.width * rng.uniform(0.92, 1.05)
    torso_top = top + head * 1.05
    hip = top + ph * (1 - ident.legs)
    feet = top + ph
    shirt, shirt2, trousers = (_jitter(c, rng) for c in (ident.shirt, ident.shirt2, ident.trousers))
    # legs: two strides, one per side
    stride = rng.uniform(0.0, 0.25) * tw
    leg_w = tw * 0.42
    for side in (-1, 1):
        x_hip = cx + side * tw * 0.22
        x_foot = x_hip + side * stride
        d.polygon([(x_hip - leg_w / 2, hip), (x_hip + leg_w / 2, hip),
                   (x_foot + leg_w / 2.4, feet), (x_foot - leg_w / 2.4, feet)], fill=trousers)
        d.rectangle([x_foot - leg_w / 2, feet - head * 0.35, x_foot + leg_w / 2, feet],
                    fill=ident.shoes)
    # arms behind the torso edges
    arm_w = tw * 0.2
    sleeve = shirt if ident.long_sleeves else ident.skin
    for side in (-1, 1):
        x = cx + side * (tw / 2 + arm_w * 0.3)
        d.rectangle([x - arm_w / 2, torso_top + head * 0.1, x + arm_w / 2, hip + head * 0.3],
                    fill=sleeve)
    # torso and its pattern
    d.rectangle([cx - tw / 2, torso_top, cx + tw / 2, hip], fill=shirt)
    th = hip - torso_top
    if ident.pattern == "horizontal_stripes":
        period = max(2.0, ident.stripe_period * th)
        y = torso_top + period / 2
        while y < hip:
            d.rectangle([cx - tw / 2, y, cx + tw / 2, min(hip, y + period / 2)], fill=shirt2)
            y += period
    elif ident.pattern == "vertical_stripes":
        period = max(2.0, ident.stripe_period * tw * 1.5)
        x = cx - tw / 2 + period / 2
        while x < cx + tw / 2:
            d.rectangle([x, torso_top, min(cx + tw / 2, x + period / 2), hip], fill=shirt2)
            x += period
    elif ident.pattern == "two_tone":
        d.rectangle([cx - tw / 2, torso_top + th * 0.55, cx + tw / 2, hip], fill=shirt2)
    if ident.bag is not None:
        side = 1 if rng.random() < 0.5 else -1
        bx = cx + side * tw * 0.55
        d.rectangle([bx - tw * 0.18, hip - th * 0.35, bx + tw * 0.18, hip + th * 0.15],
                    fill=_jitter(ident.bag, rng))
    # head and hair
    d.ellipse([cx - head * 0.42, top, cx + head * 0.42, top + head], fill=ident.skin)
    d.chord([cx - head * 0.45, top - head * 0.05, cx + head * 0.45, top + head * 0.7],
            180, 360, fill=ident.hair)


def render_pedestrian(
    ident: Identity, cam: Camera, rng: np.random.Generator, distance: float = 1.0
) -> Image.Image:
    """One crop of `ident` seen by `cam`: random size, pose, position and noise.

    distance: the person stands that many times farther away, so the crop is drawn
    that many times smaller in each side (a real low-resolution image).
    """
    h = int(rng.integers(80, 161))
    w = max(24, int(round(h / rng.uniform(2.0, 3.0))))
    if distance != 1.0:
        h, w = max(8, round(h / distance)), max(4, round(w / distance))
    img = Image.fromarray(np.clip(_background(cam, w, h, rng), 0, 255).astype(np.uint8))
    _draw_person(img, ident, cam, rng)
    shear = cam.shear + rng.uniform(-0.03, 0.03)
    img = img.transform((w, h), Image.Transform.AFFINE, (1, shear, -shear * h / 2, 0, 1, 0),
                        resample=Image.Resampling.BILINEAR, fillcolor=cam.background)
    if rng.random() < 0.5:  # people walk both ways
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if cam.blur > 0.2:
        img = img.filter(ImageFilter.GaussianBlur(cam.blur))
    arr = np.asarray(img, np.float32) * cam.gain * np.array(cam.cast, np.float32)
    arr += rng.normal(0.0, cam.noise, arr.shape).astype(np.float32)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _checked_distances(
    num_train_ids: int, num_test_ids: int, num_cameras: int, images_per_id_per_camera: int,
    camera_distances: Sequence[float] | None,
) -> list[float]:
    """Each camera's distance, after refusing sizes that leave no re-id problem (ValueError)."""
    if num_cameras < 2 or images_per_id_per_camera < 2 or num_train_ids < 1 or num_test_ids < 1:
        raise ValueError("synthetic set needs >= 2 cameras, >= 2 images per id and camera, "
                         ">= 1 train and test id")
    distances = list(camera_distances) if camera_distances is not None else [1.0] * num_cameras
    if len(distances) != num_cameras or min(distances) <= 0:
        raise ValueError(f"camera_distances needs {num_cameras} positive values, got {distances}")
    return distances


class _SetWriter:
    """Renders crops into the Market-1501 folders under `folder` and keeps a manifest row
    of each: every crop of a set shares its cameras, drawn once from `seed`."""

    def __init__(self, folder: Path, seed: int, distances: list[float]) -> None:
        for name in ("bounding_box_train", "bounding_box_test", "query"):
            (folder / name).mkdir()
        self.folder, self.seed, self.distances = folder, seed, distances
        self.cameras = [make_camera(np.random.default_rng([seed, 1, c]))
                        for c in range(len(distances))]
        self.rows: list[tuple[str, int, int, str]] = []

    def _draw(self, ident: Identity, pid: int, c: int, frame: int, rng: np.random.Generator,
              folder: str) -> None:
        name = f"{max(pid, 0):04d}_c{c + 1}s1_{frame:06d}_00.jpg"
        render_pedestrian(ident, self.cameras[c], rng, self.distances[c]).save(
            self.folder / folder / name, quality=92)
        self.rows.append((f"{folder}/{name}", pid, c, MARKET_SPLITS[folder]))

    def identities(self, num_train_ids: int, num_test_ids: int, per_camera: int) -> None:
        """Ids 1..num_train_ids train; for a test id the first crop of each camera is a
        query and the others go to the gallery."""
        for pid in range(1, num_train_ids + num_test_ids + 1):
            ident = make_identity(np.random.default_rng([self.seed, 0, pid]))
            for c in range(len(self.cameras)):
                for k in range(per_camera):
                    if pid <= num_train_ids:
                        folder = "bounding_box_train"
                    else:
                        folder = "query" if k == 0 else "bounding_box_test"
                    self._draw(ident, pid, c, k * 25,
                               np.random.default_rng([self.seed, 2, pid, c, k]), folder)

    def distractors(self, count: int) -> None:
        """`count` further people, each seen once in the gallery, by camera k mod cameras."""
        for k in range(count):
            ident = make_identity(np.random.default_rng([self.seed, 3, k]))
            self._draw(ident, -1, k % len(self.cameras), 900000 + k,
                       np.random.default_rng([self.seed, 4, k]), "bounding_box_test")

    def manifest(self) -> None:
        with (self.folder / "manifest.csv").open("w", newline="") as f:
            csv.writer(f).writerows([("path", "pid", "camid", "split"), *self.rows])


def generate_synthetic(
    root: str | Path,
    num_train_ids: int = 40,
    num_test_ids: int = 30,
    num_cameras: int = 3,
    images_per_id_per_camera: int = 4,
    seed: int = 0,
    camera_distances: Sequence[float] | None = None,
    num_distractors: int = 0,
    manifest: bool = False,
) -> Path:
    """Write a synthetic re-id set in the Market-1501 layout under `root` and return it.

    Every identity appears in every camera with images_per_id_per_camera crops. Train
    ids are 0001..num_train_ids; test ids follow; for each test id and camera the first
    crop is a query and the others go to the gallery (so each query has
    (num_cameras - 1) * images_per_id_per_camera cross-camera matches). Names are
    PPPP_cXs1_FFFFFF_00.jpg. Same arguments -> the same images (pixel for pixel).
    camera_distances: camera c draws its people at camera_distances[c] (1 = as near as
        the default set, 3 = a third of the height and width); one value per camera.
    num_distractors: further people, each seen once in the gallery by camera
        (k mod num_cameras), named 0000_cXs1_9KKKKK_00.jpg (Market's distractor id 0000).
    manifest: also write ROOT/manifest.csv (path,pid,camid,split; camid 0-based,
        distractors pid -1) for `rfdreid prepare --dataset manifest`.
    The set is written to a temporary folder next to root and renamed, so a crash
    leaves no half set.

    Example::

        generate_synthetic("data/synthetic", num_train_ids=10, num_test_ids=10)
        raw = read_market1501(Path("data/synthetic"))
    """
    distances = _checked_distances(num_train_ids, num_test_ids, num_cameras,
                                   images_per_id_per_camera, camera_distances)
    root = Path(root)
    tmp = temp_dir_beside(root)
    try:
        writer = _SetWriter(tmp, seed, distances)
        writer.identities(num_train_ids, num_test_ids, images_per_id_per_camera)
        writer.distractors(num_distractors)
        if manifest:
            writer.manifest()
        if root.is_dir():
            root.rmdir()  # only an empty folder is replaced (callers check)
        os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return root
