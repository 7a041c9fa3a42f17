"""Reader + protocol -> protocol files (and optionally degraded images) on disk.

Why a Python function beside the CLI: the demo, the tests and the CLI share one code
path. Everything is validated and built first, then written to a temporary folder next
to `out` and moved in at the end, so an error never leaves half an output.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from rfdreid.data.datasets import read_dataset
from tqdm import tqdm

from rfdreid.data.degrade import load_as_seen
from rfdreid.data.diagnostics import check_queries
from rfdreid.data.protocols import (
    GALLERY_MODES,
    SPLITS,
    build_caviar_protocol,
    build_mlr_protocol,
    build_real_protocol,
)
from rfdreid.data.records import Protocol
from rfdreid.data.tempdirs import temp_dir_beside
from rfdreid.errors import ReIDError

# "both" = every gallery the dataset's protocol defines (CAVIAR adds "single_all").
PROTOCOL_CHOICES = ("single", "multi", "single_all", "both")
# "auto": the dataset's own family (caviar and manifest real, the others synthetic).
RESOLUTION_CHOICES = ("auto", "real", "synthetic")


def build_protocols(
    dataset: str,
    root: str | Path,
    protocol: str = "both",
    split: int | None = None,
    seed: int = 0,
    interpolation: str = "bicubic",
    pseudo_labels: str = "uniform",
    val_ids: int = 0,
    resolution: str = "auto",
    manifest: str | Path | None = None,
) -> dict[str, Protocol]:
    """File name -> Protocol: {"protocol.json": ...} or {"split_KK.json": ...}.

    resolution: "synthetic" builds the MLR protocol (images down-sampled), "real" the
    real-resolution protocol (images as stored, pixel-count pseudo-labels); datasets
    without a query/gallery split (caviar, a manifest without split column) get SPLITS
    seeded splits. Every protocol is checked for unusable queries (check_queries).
    val_ids: training identities held out as a validation set (for `--select-lambda`).
    """
    if protocol not in PROTOCOL_CHOICES:
        raise ReIDError(f"unknown gallery protocol {protocol!r}; choose {', '.join(PROTOCOL_CHOICES)}")
    if resolution not in RESOLUTION_CHOICES:
        raise ReIDError(f"unknown --resolution {resolution!r}; "
                        f"choose {', '.join(RESOLUTION_CHOICES)}")
    raw = read_dataset(dataset, Path(root), manifest)
    modes = None if protocol == "both" else (protocol,)
    if resolution == "synthetic" or (resolution == "auto" and raw.family == "mlr"):
        if split is not None:
            raise ReIDError(f"--split applies to caviar only and to manifests without a split "
                            f"column; {dataset} has one fixed split")
        protocols = {"protocol.json": build_mlr_protocol(
            raw, seed, interpolation, modes or GALLERY_MODES, val_ids)}
    elif "all" not in raw.subsets:
        protocols = {"protocol.json": build_real_protocol(
            raw, seed, split, interpolation, modes, pseudo_labels, val_ids)}
    else:
        if split is not None and not 0 <= split < SPLITS:
            raise ReIDError(f"--split must be in 0..{SPLITS - 1}, got {split}")
        # CAVIAR's split files keep their format (build_caviar_protocol)
        build = build_caviar_protocol if dataset == "caviar" else build_real_protocol
        protocols = {f"split_{k:02d}.json": build(raw, seed, k, interpolation, modes,
                                                  pseudo_labels, val_ids)
                     for k in (range(SPLITS) if split is None else [split])}
    for name, proto in protocols.items():
        check_queries(proto, name)
    return protocols


def materialize(protocol: Protocol, folder: Path) -> None:
    """Write the degraded images of a protocol as Market-1501-style files.

    folder/<subset>/PPPP_cXs1_IIIIII_RR.jpg for every subset of Protocol.subsets() (train,
    query, gallery_single, ...), IIIIII the record index and RR the factor, so other
    toolkits' Market readers parse pid and camera.
    """
    for name, records in protocol.subsets().items():
        (folder / name).mkdir(parents=True)
        for i, rec in enumerate(tqdm(records, desc=f"write {name}", unit="img", leave=False)):
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
    val_ids: int = 0,
    resolution: str = "auto",
    manifest: str | Path | None = None,
) -> list[Path]:
    """Read `dataset` at `root`, build its protocol(s), write them under `out`.

    Returns the written protocol files: [out/protocol.json] for market1501, dukemtmc,
    synthetic and folder; [out/split_00.json, ..., out/split_09.json] (or the one of
    `split`) for caviar. materialize_images also writes the degraded images under
    out/images/ (out/images/split_KK/ for caviar). For synthetic, root is generated when
    missing or empty. pseudo_labels: "uniform" (the paper's equal-width pixel-count bins)
    or "quantile" (equally filled bins), for real-resolution protocols. val_ids: training
    identities held out as the protocol's validation set (RFD's lambda is chosen there,
    never on test ids). resolution and manifest: see build_protocols.

    Example::

        [path] = prepare("market1501", "data/Market-1501-v15.09.15", "prepared/mlr-market1501")
        protocol = Protocol.load(path)
    """
    protocols = build_protocols(dataset, root, protocol, split, seed, interpolation,
                                pseudo_labels, val_ids, resolution, manifest)
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
