"""`prepare --mlr-variant sing`: SING's one-LR-camera-per-identity MLR construction (the
default, as the paper follows SING), checked by an oracle that reads the generated folder
itself (not rfdreid's reader)."""

from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from rfdreid.cli.main import main
from rfdreid.data.prepare import build_protocols, prepare
from rfdreid.data.protocols import redraw_degradation
from rfdreid.data.records import DEFAULT_MLR_VARIANT, LEGACY_MLR_VARIANT, ImageRecord, Protocol
from rfdreid.data.synthetic import generate_synthetic
from rfdreid.errors import ReIDError

TRAIN_IDS, TEST_IDS = range(1, 7), range(7, 12)
ONE_CAMERA = {"train": 6, "test": 11}  # ids left with camera c1 only
MISSING_C3 = 10  # a test id without camera c3: its LR camera is c1 or c2


@pytest.fixture(scope="module")
def sing_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Market layout, 3 cameras x 2 images per id; ids 6 and 11 seen by c1 only, id 10
    not by c3."""
    root = generate_synthetic(tmp_path_factory.mktemp("sing") / "syn", num_train_ids=6,
                              num_test_ids=5, num_cameras=3, images_per_id_per_camera=2)
    for path in root.glob("*/*.jpg"):
        pid, cam = _parse(path)
        if (pid in ONE_CAMERA.values() and cam > 0) or (pid == MISSING_C3 and cam == 2):
            path.unlink()
    return root


def _parse(path: Path | str) -> tuple[int, int]:
    """(pid, 0-based camera) from a PPPP_cXs1_FFFFFF_00.jpg name."""
    name = Path(path).name
    return int(name[:4]), int(name.split("_")[1][1]) - 1


def _disk(root: Path, folders: tuple[str, ...]) -> dict[int, dict[int, set[str]]]:
    """pid -> camera -> resolved image paths, read from the folder."""
    out: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for folder in folders:
        for path in (root / folder).glob("*.jpg"):
            pid, cam = _parse(path)
            out[pid][cam].add(str(path.resolve()))
    return out


def _by_id_camera(records: list[ImageRecord]) -> dict[int, dict[int, set[int]]]:
    """pid -> camera -> the factors of its images."""
    out: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for r in records:
        out[r.pid][r.camid].add(r.factor)
    return out


def _check_one_lr_camera_per_id(records: list[ImageRecord]) -> dict[int, int]:
    """Every id has exactly one camera whose images are all down-sampled (r in {2,3,4}),
    its other cameras are all HR; returns id -> that camera."""
    low = {}
    for pid, cams in _by_id_camera(records).items():
        lr = [c for c, factors in cams.items() if factors <= {2, 3, 4}]
        assert len(lr) == 1 and len(cams) >= 2, (pid, dict(cams))
        assert all(cams[c] == {1} for c in cams if c != lr[0]), (pid, dict(cams))
        low[pid] = lr[0]
    return low


def _check_test_sets(sets: Protocol, disk: dict[int, dict[int, set[str]]], ids: set[int],
                     extra_gallery: set[str] = frozenset()) -> dict[int, int]:
    """Queries are exactly the LR camera's images of `ids`; the single gallery exactly the
    HR images of their other cameras (plus `extra_gallery`); multi the same images."""
    low = {q.pid: q.camid for q in sets.query}
    assert set(low) == ids and len({(q.pid, q.camid) for q in sets.query}) == len(ids)
    assert {q.factor for q in sets.query} <= {2, 3, 4}
    assert sorted(q.path for q in sets.query) == sorted(
        p for pid in ids for p in disk[pid][low[pid]])
    single, multi = sets.galleries["single"], sets.galleries["multi"]
    assert {g.factor for g in single} == {1} and {g.factor for g in multi} <= {1, 2, 3, 4}
    assert sorted(g.path for g in single) == sorted(g.path for g in multi) == sorted(
        [p for pid in ids for c, paths in disk[pid].items() if c != low[pid] for p in paths]
        + list(extra_gallery))
    assert all(r.res_label == r.factor - 1 for r in sets.query + single + multi)
    return low


def test_sing_oracle(sing_root: Path, tmp_path: Path) -> None:
    """One camera per id is down-sampled, in train, test and validation; queries are the
    LR images of the test ids; the one-camera ids are dropped and named."""
    [(path, built)] = prepare("market1501", sing_root, tmp_path / "out", seed=3, val_ids=1,
                              mlr_variant="sing").items()
    p = Protocol.load(path)
    assert p == built and p.mlr_variant == "sing" and p.validation.mlr_variant == "sing"
    train_disk = _disk(sing_root, ("bounding_box_train",))
    labels = sorted(train_disk)  # the reader numbers training ids 0..N-1 in sorted order
    (held,) = p.meta["val_ids"]
    kept = [pid for pid in TRAIN_IDS if pid not in (ONE_CAMERA["train"], labels[held])]
    assert sorted(r.path for r in p.train) == sorted(
        path for pid in kept for paths in train_disk[pid].values() for path in paths)
    assert p.num_train_pids == len(kept) == 4
    assert len(_check_one_lr_camera_per_id(p.train)) == 4
    assert {r.factor for r in p.train} == {1, 2, 3, 4}
    assert all(r.res_label == r.factor - 1 for r in p.train)

    val = p.validation
    val_disk = {held: train_disk[labels[held]]}
    _check_test_sets(val, val_disk, {held})
    assert val.train == [] and _check_one_lr_camera_per_id(val.query + val.galleries["single"])

    test_disk = _disk(sing_root, ("query", "bounding_box_test"))
    ids = set(TEST_IDS) - {ONE_CAMERA["test"]}
    low = _check_test_sets(p, test_disk, ids)
    assert low[MISSING_C3] in (0, 1)
    _check_one_lr_camera_per_id(p.query + p.galleries["single"])
    first = {k: Path(min(p for paths in disk[pid].values() for p in paths)).name
             for k, pid, disk in (("train", 6, train_disk), ("test", 11, test_disk))}
    assert p.meta["dropped_one_camera"] == {"train": [first["train"]], "test": [first["test"]]}


def test_sing_gallery_only_ids_stay_in_the_galleries(sing_root: Path) -> None:
    """Gallery-only ids (Market's 0000 distractors) are no test ids: HR in every gallery."""
    extra = sing_root.parent / "with-distractors"
    generate_synthetic(extra, num_train_ids=2, num_test_ids=2, num_distractors=2)
    [p] = build_protocols("market1501", extra, mlr_variant="sing").values()
    distractors = {str(path.resolve()) for path in (extra / "bounding_box_test").glob("0000_*")}
    assert len(distractors) == 2
    _check_test_sets(p, _disk(extra, ("query", "bounding_box_test")), {3, 4}, distractors)


def test_sing_is_seeded(sing_root: Path, tmp_path: Path) -> None:
    texts = [next(iter(prepare("market1501", sing_root, tmp_path / f"out{k}", seed=seed,
                               mlr_variant="sing"))).read_text()
             for k, seed in enumerate((0, 0, 1))]
    assert texts[0] == texts[1] and texts[0] != texts[2]
    lows = [_check_one_lr_camera_per_id(Protocol.from_dict(json.loads(t)).train) for t in texts]
    assert lows[0] != lows[2]  # the seed draws the LR cameras (5 ids of 3 cameras)


def test_sing_repeats_redraw_factors_but_keep_the_lr_camera(sing_root: Path) -> None:
    [p] = build_protocols("market1501", sing_root, mlr_variant="sing").values()
    again = redraw_degradation(p, 1)
    assert [(r.path, r.camid) for r in again.query] == [(r.path, r.camid) for r in p.query]
    assert {r.factor for r in again.query} <= {2, 3, 4} and again.mlr_variant == "sing"


def test_cli_reports_the_dropped_ids(sing_root: Path, tmp_path: Path, monkeypatch,
                                     capsys) -> None:
    monkeypatch.setattr(sys, "argv", ["rfdreid", "prepare", "--dataset", "market1501", "--root",
                                      str(sing_root), "--out", str(tmp_path / "out"),
                                      "--mlr-variant", "sing"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out = capsys.readouterr().out
    assert not exit_info.value.code
    [line] = [s for s in out.splitlines() if s.startswith("protocol.json: dropped")]
    assert line.startswith("protocol.json: dropped 2 identities seen by one camera only "
                           "(1 train, 1 test)")
    assert "0006_c1s1_000000_00.jpg (train)" in line and "0011_c1s1_" in line


def test_per_image_is_byte_identical_to_before(fake_market: Path, tmp_path: Path) -> None:
    """The digest of the per-image file written before --mlr-variant existed (root
    replaced, as the fixture's folder differs per run), when per-image is asked for: it was
    the default then; its meta holds no mlr_variant and reads as per-image."""
    [path] = prepare("market1501", fake_market, tmp_path / "out", seed=7, val_ids=1,
                     mlr_variant="per-image")
    text = path.read_text().replace(str(fake_market.resolve()), "ROOT")
    assert hashlib.sha1(text.encode()).hexdigest() == "a830aa45a28e9cc5538396a798c83345aae4e84b"
    assert "mlr_variant" not in json.loads(text)["meta"]
    assert Protocol.load(path).mlr_variant == "per-image"


def test_sing_is_the_default_of_prepare_api_and_cli(fake_market: Path, tmp_path: Path,
                                                    cli) -> None:
    """The paper follows SING: prepare() and `rfdreid prepare` without --mlr-variant write
    SING's construction, the same file as when it is asked for."""
    assert DEFAULT_MLR_VARIANT == "sing" and LEGACY_MLR_VARIANT == "per-image"
    [asked] = prepare("market1501", fake_market, tmp_path / "asked", seed=7, val_ids=1,
                      mlr_variant="sing")
    [default] = prepare("market1501", fake_market, tmp_path / "api", seed=7, val_ids=1)
    assert cli("prepare", "--dataset", "market1501", "--root", fake_market, "--out",
               tmp_path / "cli", "--seed", "7", "--val-ids", "1").code == 0
    texts = {path.read_text() for path in (asked, default, tmp_path / "cli" / "protocol.json")}
    assert len(texts) == 1
    p = Protocol.load(default)
    assert p.meta["mlr_variant"] == "sing" and p.mlr_variant == "sing"
    assert p.validation.mlr_variant == "sing"
    per_image = next(iter(prepare("market1501", fake_market, tmp_path / "per-image", seed=7,
                                  val_ids=1, mlr_variant="per-image")))
    assert per_image.read_text() not in texts


def test_caviar_needs_no_mlr_variant_and_refuses_one(fake_caviar, tmp_path: Path, cli) -> None:
    """A real-resolution dataset prepares without --mlr-variant (the default does not apply
    to it), and naming a variant for it, sing or per-image, is one line of error."""
    root = fake_caviar(two_cam=4, one_cam=0, images=2)
    assert list(prepare("caviar", root, tmp_path / "api", split=0)) == [
        tmp_path / "api" / "split_00.json"]
    res = cli("prepare", "--dataset", "caviar", "--root", root, "--out", tmp_path / "cli",
              "--split", "0")
    assert res.code == 0, res.err
    p = Protocol.load(tmp_path / "cli" / "split_00.json")
    assert p.meta["protocol"] == "caviar" and "mlr_variant" not in p.meta
    for variant in ("sing", "per-image"):
        out = tmp_path / f"refused-{variant}"
        cli("prepare", "--dataset", "caviar", "--root", root, "--out", out, "--split", "0",
            "--mlr-variant", variant).assert_one_line_error(
            f"--mlr-variant {variant} applies to MLR protocols", "caviar gets the "
            "real-resolution protocol")
        assert not out.exists()


@pytest.mark.parametrize("meta, message", [
    ({"protocol": "mlr", "mlr_variant": "per-camera"},
     r"meta\.mlr_variant must be one of per-image, sing, got 'per-camera'"),
    ({"protocol": "caviar", "mlr_variant": "sing"},
     r"meta\.mlr_variant applies to MLR protocols only, but meta\.protocol is 'caviar'"),
])
def test_mlr_variant_is_checked_on_load(meta: dict, message: str, tmp_path: Path) -> None:
    p = Protocol("market1501", "bicubic", 0, 4, [], [], {"single": []}, meta={"protocol": "mlr"})
    path = tmp_path / "protocol.json"
    p.save(path)
    assert Protocol.load(path).mlr_variant == "per-image"  # a file from before variants
    Protocol(**{**p.__dict__, "meta": meta}).save(path)
    with pytest.raises(ReIDError, match=message):
        Protocol.load(path)


def test_sing_needs_an_mlr_protocol_and_a_known_name(fake_market: Path, fake_caviar) -> None:
    with pytest.raises(ReIDError, match="unknown --mlr-variant 'SING'; choose per-image, sing"):
        build_protocols("market1501", fake_market, mlr_variant="SING")
    root = fake_caviar(two_cam=4, one_cam=0, images=2)
    with pytest.raises(ReIDError, match="--mlr-variant sing applies to MLR protocols"):
        build_protocols("caviar", root, split=0, mlr_variant="sing")
    assert list(build_protocols("caviar", root, split=0)) == ["split_00.json"]  # none given
