"""The readers and protocols on the real Market-1501 and CAVIAR4REID (skip when absent)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rfdreid.data.datasets import DATASETS
from rfdreid.data.protocols import build_caviar_protocol, build_mlr_protocol


def test_market1501_mlr(market_root: Path) -> None:
    raw = DATASETS.get("market1501")(market_root)  # header reads only
    p = build_mlr_protocol(raw, seed=0, variant="per-image")
    n = 12936
    assert len(p.train) == 2 * n and p.num_train_pids == 751
    assert len(p.query) == 3368 and len(p.galleries["single"]) == 15913
    assert len({r.camid for r in p.query}) == 6
    assert set(raw.sizes.values()) == {(64, 128)}
    lr = Counter(r.factor for r in p.train[n:])
    assert set(lr) == {2, 3, 4} and min(lr.values()) > 0.3 * n
    multi = Counter(r.factor for r in p.galleries["multi"])
    assert set(multi) == {1, 2, 3, 4} and min(multi.values()) > 0.22 * 15913
    assert build_mlr_protocol(raw, seed=0, variant="per-image").fingerprint() == p.fingerprint()


def test_caviar_splits(caviar_root: Path) -> None:
    raw = DATASETS.get("caviar")(caviar_root)
    assert len(raw.subsets["all"]) == 1220 and len({r.pid for r in raw.subsets["all"]}) == 72
    splits = [build_caviar_protocol(raw, 0, k) for k in range(10)]
    assert len(splits) == 10
    for p in splits:
        train_ids, test_ids = set(p.meta["train_ids"]), set(p.meta["test_ids"])
        assert len(train_ids) == len(test_ids) == 25 and not train_ids & test_ids
        assert len(p.train) == 500 and len(p.query) == 250
        # Section 4.4 / Figure 4: one HR-camera image per test id; the old whole camera
        # stays as "single_all".
        single = p.galleries["single"]
        assert len(single) == 25 and {r.pid for r in single} == test_ids
        assert {r.camid for r in single} == {1 - p.meta["query_camera"]}
        assert len(p.galleries["single_all"]) == 250 and len(p.galleries["multi"]) == 25
    assert len({tuple(p.meta["train_ids"]) for p in splits}) == 10
    assert not {1, 2, 5, 10, 72} & set(splits[0].meta["train_ids"] + splits[0].meta["test_ids"])
