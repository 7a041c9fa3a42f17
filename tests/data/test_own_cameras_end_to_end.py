"""Your own cameras: a 6-camera manifest with distractors and junk, prepared, trained
(demo preset, a few iterations) and evaluated through the command line (in-process)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rfdreid.data.records import Protocol
from rfdreid.data.synthetic import generate_synthetic

from clirun import CliResult

FAST = ["--set", "train.iterations=3", "--set", "train.checkpoint_every=3",
        "--set", "data.height=64", "--set", "data.width=32", "--set", "train.num_ids=4",
        "--set", "train.num_instances=2", "--set", "train.per_resolution=2"]


def test_six_camera_manifest_prepare_train_evaluate(tmp_path: Path, jpeg, cli: Callable) -> None:
    def rfdreid(*args: str) -> CliResult:
        res = cli(*args)
        assert res.code == 0, res.err[-2000:]
        return res

    crops = generate_synthetic(tmp_path / "crops", num_train_ids=6, num_test_ids=5,
                               num_cameras=6, images_per_id_per_camera=2,
                               camera_distances=(1, 1.2, 1.5, 2, 3, 4), num_distractors=6,
                               manifest=True)
    jpeg(crops / "junk" / "train.jpg", (20, 50))  # junk: images of nobody in train / query
    jpeg(crops / "junk" / "query.jpg", (20, 50))
    with (crops / "manifest.csv").open("a") as f:
        f.write("junk/train.jpg,-1,0,train\njunk/query.jpg,-1,1,query\n")

    out = tmp_path / "prepared"
    prep = rfdreid("prepare", "--dataset", "manifest", "--root", str(crops), "--manifest",
                   str(crops / "manifest.csv"), "--out", str(out))
    assert "bin 0: pixels" in prep.out and "camera 5:" in prep.out
    protocol = Protocol.load(out / "protocol.json")
    assert len(protocol.train) == 6 * 6 * 2  # the junk training image is dropped
    assert len(protocol.query) == 5 * 6  # so is the junk query
    assert sum(r.pid == -1 for r in protocol.galleries["single"]) == 6  # distractors kept
    assert len({r.camid for r in protocol.train}) == 6
    assert len({r.res_label for r in protocol.train}) > 1

    runs = tmp_path / "runs"
    for kind in ("bf", "br"):
        rfdreid("train", "--preset", f"demo_{kind}", "--protocol", str(out / "protocol.json"),
                "--out", str(runs / kind), *FAST)
    rfdreid("evaluate", "--bf", str(runs / "bf" / "checkpoint.pt"), "--br",
            str(runs / "br" / "checkpoint.pt"), "--out", str(tmp_path / "eval"))
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert set(results["summary"]) == {"single", "multi"}
