"""Reader + protocol -> protocol files (and optionally degraded images) on disk.

Why a Python function beside the CLI: the demo, the tests and the CLI share one code
path. Everything is validated and built first, then written to a temporary folder next
to `out` and moved in at the end, so an error never leaves half an output.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from rfdreid.data.datasets import DATASETS

from rfdreid.data.degrade import load_as_seen
from rfdreid.data.protocols import CAVIAR_SPLITS, build_caviar_protocol, build_mlr_protocol
from rfdreid.data.records import Protocol
from rfdreid.data.tempdirs import temp_dir_beside
from rfdreid.errors import ReIDError
from rfdreid.progress import progress

PROTOCOL_CHOICES = {"single": ("single",), "multi": ("multi",), "both": ("single", "multi")}


def build_protocols(
    dataset: str,
    root: str | Path,
    protocol: str = "both",
    split: int | None = None,
    seed: int = 0,
    interpolation: str = "bicubic",
    pseudo_labels: str = "uniform",
) -> dict[str, Protocol]:
    """File name -> Protocol: {"protocol.json": ...} or {"split_KK.json": ...} (CAVIAR)."""
    if protocol not in PROTOCOL_CHOICES:
        raise ReIDError(f"unknown gallery protocol {protocol!r}; choose single, multi or both")
    modes = PROTOCOL_CHOICES[protocol]
    raw = DATASETS.get(dataset)(Path(root))
    if raw.family == "real":
        if split is not None and not 0 <= split < CAVIAR_SPLITS:
            raise ReIDError(f"--split must be in 0..{CAVIAR_SPLITS - 1}, got {split}")
        ks = range(CAVIAR_SPLITS) if split is None else [split]
        return {f"split_{k:02d}.json": build_caviar_protocol(raw, seed, k, interpolation, modes,
                                                             pseudo_labels)
                for k in ks}
    if split is not None:
        raise ReIDError(f"--split applies to caviar only; {dataset} has one fixed split")
    return {"protocol.json": build_mlr_protocol(raw, seed, interpolation, modes)}


def materialize(protocol: Protocol, folder: Path) -> None:
    """Write the degraded images of a protocol as Market-1501-style files.

    folder/<subset>/PPPP_cXs1_IIIIII_RR.jpg for every subset of Protocol.subsets() (train,
    query, gallery_single, ...), IIIIII the record index and RR the factor, so other
    toolkits' Market readers parse pid and camera.
    """
    for name, records in protocol.subsets().items():
        (folder / name).mkdir(parents=True)
        for i, rec in enumerate(progress(records, desc=f"write {name}", unit="img", leave=False)):
            img = load_as_seen(rec, protocol.interpolation)
            file = f"{rec.pid:04d}_c{rec.camid + 1}s1_{i:06d}_{rec.factor:02d}.jpg"
            img.save(folder / name / file, quality=95)


def _move_into(tmp: Path, out: Path) -> None:
    """Move every entry of tmp into out, replacing entries of the same name."""
    if not out.exists():
        os.replace(tmp, out)
        return
    if not out.is_dir():
        raise ReIDError(f"--out {out} exists and is not a folder")
    for entry in tmp.iterdir():
        target = out / entry.name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(entry, target)
    tmp.rmdir()


def prepare(
    dataset: str,
    root: str | Path,
    out: str | Path,
    protocol: str = "both",
    split: int | None = None,
    seed: int = 0,
    interpolation: str = "bicubic",
    materialize_images: bool = False,
    pseudo_labels: str = "uniform",
) -> list[Path]:
    """Read `dataset` at `root`, build its protocol(s), write them under `out`.

    Returns the written protocol files: [out/protocol.json] for market1501, dukemtmc,
    synthetic and folder; [out/split_00.json, ..., out/split_09.json] (or the one of
    `split`) for caviar. materialize_images also writes the degraded images under
    out/images/ (out/images/split_KK/ for caviar). For synthetic, root is generated when
    missing or empty. pseudo_labels: "uniform" (the paper's equal-width pixel-count bins)
    or "quantile" (equally filled bins), for caviar.

    Example::

        [path] = prepare("market1501", "data/Market-1501-v15.09.15", "prepared/mlr-market1501")
        protocol = Protocol.load(path)
    """
    protocols = build_protocols(dataset, root, protocol, split, seed, interpolation,
                                pseudo_labels)
    out = Path(out)
    tmp = temp_dir_beside(out)
    try:
        for name, proto in protocols.items():
            proto.save(tmp / name)
            if materialize_images:
                images = tmp / "images"
                materialize(proto, images / Path(name).stem if proto.split is not None else images)
        _move_into(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / name for name in protocols]
