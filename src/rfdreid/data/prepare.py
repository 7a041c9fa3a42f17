"""Reader + protocol -> protocol files (and optionally degraded images) on disk.

Why a Python function beside the CLI: the demo, the tests and the CLI share one code
path. Everything is validated and built first, then written to a fresh temporary folder
next to `out` that replaces `out` as a whole at the end, so an error never leaves half an
output and no file of an earlier run (another split, old images) survives beside the new
protocol. Because `out` is replaced, it must never be (or hold, or lie in) the dataset,
and only a folder that prepare itself wrote (its MARKER file) is ever replaced.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from rfdreid.data.datasets import RawDataset, read_dataset
from rfdreid.data.degrade import load_as_seen
from rfdreid.data.diagnostics import check_queries
from rfdreid.data.images import read_image
from rfdreid.data.protocols import (
    GALLERY_MODES,
    SPLITS,
    build_caviar_protocol,
    build_mlr_protocol,
    build_real_protocol,
)
from rfdreid.data.records import DEFAULT_MLR_VARIANT, MLR_VARIANTS, Protocol
from rfdreid.data.tempdirs import temp_dir_beside
from rfdreid.errors import ReIDError
from rfdreid.progress import progress as progress_bar

# "both" = every gallery the dataset's protocol defines (CAVIAR adds "single_all").
PROTOCOL_CHOICES = ("single", "multi", "single_all", "both")
# "auto": the dataset's own resolution (caviar and manifest real, the others synthetic).
RESOLUTION_CHOICES = ("auto", "real", "synthetic")
# What prepare writes into --out; anything else there is the user's and is never replaced.
_OUTPUT_NAME = re.compile(r"protocol\.json|split_\d\d\.json|images")
# Written into every output folder: a folder without it is not prepare's to replace (a
# user's folder may hold `images/` or a `protocol.json` of their own).
MARKER = ".rfdreid-prepare"


def _decode_error(path: str) -> str | None:
    """The error of decoding one image fully, or None (runs in a worker process)."""
    try:
        read_image(path)
    except ReIDError as e:
        return str(e)
    return None


def decode_images(paths: list[str], progress: bool = True) -> None:
    """Decode every image in parallel, so damage past the header (which reading the
    sizes misses) is found now, not hours into training. ReIDError lists the bad files."""
    workers = min(len(paths) // 64 + 1, os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        errors = list(progress_bar(pool.map(_decode_error, paths, chunksize=32),
                                   total=len(paths), desc="check images", unit="img",
                                   enabled=progress, leave=False))
    bad = [(p, e) for p, e in zip(paths, errors) if e is not None]
    if bad:
        names = ", ".join(Path(p).name for p, _ in bad[:5]) + (", ..." if len(bad) > 5 else "")
        raise ReIDError(f"{len(bad)} of {len(paths)} images cannot be decoded ({names}); "
                        f"first: {bad[0][1]}")


def _check_choices(protocol: str, seed: int, resolution: str, mlr_variant: str | None) -> None:
    """Refuse an unknown option value before the dataset is read (which takes a while)."""
    if protocol not in PROTOCOL_CHOICES:
        raise ReIDError(f"unknown gallery protocol {protocol!r}; choose {', '.join(PROTOCOL_CHOICES)}")
    if seed < 0:
        raise ReIDError(f"--seed must be 0 or more, got {seed}")
    if resolution not in RESOLUTION_CHOICES:
        raise ReIDError(f"unknown --resolution {resolution!r}; "
                        f"choose {', '.join(RESOLUTION_CHOICES)}")
    if mlr_variant is not None and mlr_variant not in MLR_VARIANTS:
        raise ReIDError(f"unknown --mlr-variant {mlr_variant!r}; choose {', '.join(MLR_VARIANTS)}")


def _protocol_files(
    raw: RawDataset, dataset: str, resolution: str, mlr_variant: str | None, split: int | None,
    seed: int, interpolation: str, modes: tuple[str, ...] | None, pseudo_labels: str,
    val_ids: int,
) -> dict[str, Protocol]:
    """File name -> protocol of the kind `resolution` picks for `raw`: MLR (one fixed
    split), real resolution on the dataset's own split, or one file per seeded split.
    mlr_variant None: DEFAULT_MLR_VARIANT for MLR protocols; a variant given for a
    real-resolution protocol is refused (it would be silently ignored)."""
    if (raw.resolution if resolution == "auto" else resolution) == "synthetic":
        if split is not None:
            raise ReIDError(f"--split applies to caviar only and to manifests without a split "
                            f"column; {dataset} has one fixed split")
        return {"protocol.json": build_mlr_protocol(
            raw, seed, interpolation, modes or GALLERY_MODES, val_ids,
            DEFAULT_MLR_VARIANT if mlr_variant is None else mlr_variant)}
    if mlr_variant is not None:
        raise ReIDError(f"--mlr-variant {mlr_variant} applies to MLR protocols (down-sampled "
                        f"images); {dataset} gets the real-resolution protocol here (use "
                        "--resolution synthetic for MLR)")
    if "all" not in raw.subsets:
        return {"protocol.json": build_real_protocol(
            raw, seed, split, interpolation, modes, pseudo_labels, val_ids)}
    if split is not None and not 0 <= split < SPLITS:
        raise ReIDError(f"--split must be in 0..{SPLITS - 1}, got {split}")
    # CAVIAR's split files keep their format (build_caviar_protocol)
    build = build_caviar_protocol if dataset == "caviar" else build_real_protocol
    return {f"split_{k:02d}.json": build(raw, seed, k, interpolation, modes, pseudo_labels,
                                         val_ids)
            for k in (range(SPLITS) if split is None else [split])}


def build_protocols(
    dataset: str,
    root: str | Path,
    protocol: str = "both",
    split: int | None = None,
    seed: int = 0,
    interpolation: str = "bicubic",
    pseudo_labels: str = "uniform",
    val_ids: int = 0,
    check_images: bool = False,
    resolution: str = "auto",
    manifest: str | Path | None = None,
    out: Path | None = None,
    mlr_variant: str | None = None,
) -> dict[str, Protocol]:
    """File name -> Protocol: {"protocol.json": ...} or {"split_KK.json": ...}.

    resolution: "synthetic" builds the MLR protocol (images down-sampled), "real" the
    real-resolution protocol (images as stored, pixel-count pseudo-labels); datasets
    without a query/gallery split (caviar, a manifest without split column) get SPLITS
    seeded splits. Every protocol is checked for unusable queries (check_queries).
    mlr_variant: how the MLR protocol picks its LR images, "sing" (one camera per
    identity, as the paper follows SING) or "per-image" (a factor per image); see
    rfdreid.data.protocols. None (the default) means DEFAULT_MLR_VARIANT (sing) for MLR
    protocols; naming a variant for a real-resolution protocol is an error.
    val_ids: training identities held out as a validation set (for `--select-lambda`).
    check_images: decode every image (decode_images) instead of reading headers only.
    out: the folder prepare will replace; refused when it is, holds or lies in the folder
    of any image read (a manifest may list images outside root), before any is decoded.
    """
    _check_choices(protocol, seed, resolution, mlr_variant)
    raw = read_dataset(dataset, Path(root), manifest)
    if out is not None:
        folders = sorted({os.path.dirname(path) for path in raw.sizes})
        check_apart(out, [("an image folder of the dataset", Path(f)) for f in folders])
    if check_images:
        decode_images(sorted(raw.sizes))
    modes = None if protocol == "both" else (protocol,)
    protocols = _protocol_files(raw, dataset, resolution, mlr_variant, split, seed,
                                interpolation, modes, pseudo_labels, val_ids)
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
        for i, rec in enumerate(progress_bar(records, desc=f"write {name}", unit="img", leave=False)):
            img = load_as_seen(rec, protocol.interpolation)
            file = f"{rec.pid:04d}_c{rec.camid + 1}s1_{i:06d}_{rec.factor:02d}.jpg"
            img.save(folder / name / file, quality=95)


def check_apart(out: Path, inputs: Iterable[tuple[str, Path]]) -> None:
    """Refuse an `out` that is, holds or lies inside one of `inputs` ((what, path) pairs),
    comparing resolved paths: out is replaced as a whole, so the input would be deleted
    (or, inside it, the output read back as part of the dataset)."""
    target = out.resolve()
    for what, path in inputs:
        source = path.resolve()
        if target == source:
            relation = "is the same path as"
        elif source.is_relative_to(target):
            relation = "holds"
        elif target.is_relative_to(source):
            relation = "lies inside"
        else:
            continue
        raise ReIDError(f"--out {out} {relation} {what} ({source}); prepare replaces --out as "
                        "a whole and would delete it: choose a new folder outside the dataset")


def _check_out(out: Path) -> None:
    """`out` must be absent, empty, or an earlier prepare output (MARKER present, nothing
    but prepare's own files): the only folders _swap_in may replace."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ReIDError(f"--out {out} exists and is not a folder")
    names = sorted(p.name for p in out.iterdir())
    ours = MARKER in names
    foreign = [n for n in names if not (ours and _is_prepare_output(n))]
    if foreign:
        why = "" if ours else (f" and it has no {MARKER} file, so prepare did not write it (older "
                               "rfdreid versions wrote none: delete such a folder yourself)")
        raise ReIDError(f"--out {out} holds files prepare did not write ({', '.join(foreign[:3])}"
                        f"{', ...' if len(foreign) > 3 else ''}){why}; prepare replaces its "
                        "output folder as a whole: choose a new or empty folder")


def _is_prepare_output(name: str) -> bool:
    return name == MARKER or _OUTPUT_NAME.fullmatch(name) is not None


def _swap_in(tmp: Path, out: Path) -> None:
    """Replace `out` by `tmp` as a whole (two renames), then delete the old output's files,
    only those prepare writes (checked again: building may have taken minutes)."""
    if not out.exists():
        os.replace(tmp, out)
        return
    _check_out(out)
    old = temp_dir_beside(out)
    os.replace(out, old)  # renaming a folder onto an empty folder replaces it
    os.replace(tmp, out)
    for entry in old.iterdir():
        if not _is_prepare_output(entry.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    old.rmdir()


@contextmanager
def _os_errors_as_user_errors(out: Path) -> Iterator[None]:
    """A folder that cannot be read or written (permissions, full disk) in one line."""
    try:
        yield
    except OSError as e:
        where = e.filename or out
        raise ReIDError(f"cannot access {where}: {e.strerror or e}; check the permissions "
                        "(and free space) of --root, --out and its parent folder") from None


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
    check_images: bool = False,
    val_ids: int = 0,
    resolution: str = "auto",
    manifest: str | Path | None = None,
    mlr_variant: str | None = None,
) -> dict[Path, Protocol]:
    """Read `dataset` at `root`, build its protocol(s), write them to the folder `out`.

    Returns {written file: protocol}: out/protocol.json for market1501, dukemtmc,
    synthetic and folder; out/split_00.json ... out/split_09.json (or the one of `split`)
    for caviar. `out` is replaced as a whole: files of an earlier prepare there are gone;
    `out` must be new, empty or an earlier prepare output (its MARKER file), and apart
    from root, the manifest and every image folder.
    materialize_images also writes the degraded images under out/images/
    (out/images/split_KK/ for caviar). For synthetic, root is generated when missing or
    empty. pseudo_labels: "uniform" (the paper's equal-width pixel-count bins) or
    "quantile" (equally filled bins), for real-resolution protocols. check_images: decode
    every image first. val_ids: training identities held out as the protocol's validation
    set (RFD's lambda is chosen there, never on test ids). resolution, manifest and
    mlr_variant: see build_protocols.

    Example::

        [(path, protocol)] = prepare("market1501", "data/Market-1501-v15.09.15",
                                     "prepared/mlr-market1501").items()
    """
    out = Path(out)
    with _os_errors_as_user_errors(out):
        check_apart(out, [("--root", Path(root)),
                          *([("--manifest", Path(manifest))] if manifest is not None else [])])
        _check_out(out)
        protocols = build_protocols(dataset, root, protocol, split, seed, interpolation,
                                    pseudo_labels, val_ids, check_images, resolution, manifest,
                                    out, mlr_variant)
        tmp = temp_dir_beside(out)
        try:
            (tmp / MARKER).write_text("written by `rfdreid prepare`; a prepare into this "
                                      "folder replaces it as a whole\n")
            for name, proto in protocols.items():
                proto.save(tmp / name)
                if materialize_images:
                    images = tmp / "images"
                    materialize(proto, images / Path(name).stem if proto.split is not None
                                else images)
            _swap_in(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return {out / name: proto for name, proto in protocols.items()}
