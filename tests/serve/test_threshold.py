"""The match threshold and re-ranking in `rfdreid serve` (issue 28), over HTTP.

The threshold is checked on `line_search`, whose image j lies at distance exactly j from
image 0, so which hits pass `d <= D` is known without the server's code; re-ranking is
checked against `rerank_features` called directly on the gallery's features.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import torch

from rfdreid.evaluation.methods import Method
from rfdreid.evaluation.rerank import RerankParams, rerank_features
from rfdreid.serve.gallery_search import GallerySearch
from rfdreid.serve.run_browser import RunBrowser

from live_http import request


def _json(url: str, path: str) -> dict:
    status, body = request(url, path)
    assert status == 200, body
    return json.loads(body)


def _line_query(line_search: GallerySearch) -> str:
    return f"gallery:{line_search.paths[0].name}"


def _page_marks(html: bytes) -> list[str]:
    """The ranking as drawn: each hit's name, "beyond" for a greyed one, and "|" where the
    threshold line stands."""
    marks = []
    for line, beyond, name in re.findall(
            rb'(class="threshold")|class="tile [a-z]*( beyond)?" data-name="([^"]+)"', html):
        marks.append("|" if line else name.decode() + (" beyond" if beyond else ""))
    return marks


@pytest.mark.parametrize("limit, within", [("3", 3), ("2.5", 2), ("0", 0), ("23", 23),
                                           ("1e3", 23)])
def test_max_distance_keeps_exactly_the_hits_at_or_below_it(
        limit: str, within: int, line_url: str, line_search: GallerySearch) -> None:
    """Image j is at distance j: D keeps images 1..floor(D), the boundary included."""
    names = [p.name for p in line_search.paths]
    path = f"?query={_line_query(line_search)}&k=100&max_distance={limit}"
    answer = _json(line_url, "/ranking.json" + path)
    assert answer["max_distance"] == float(limit) and answer["at_fpr"] is None
    assert [h["name"] for h in answer["hits"]] == names[1:]
    assert [h["distance"] for h in answer["hits"]] == list(range(1, len(names)))
    assert [h["within"] for h in answer["hits"]] == [j <= within for j in range(1, len(names))]

    status, html = request(line_url, "/ranking" + path)
    assert status == 200
    expected = names[1:within + 1] + (["|"] if within < len(names) - 1 else []) + \
        [n + " beyond" for n in names[within + 1:]]
    assert _page_marks(html) == expected
    assert f"{within} of {len(names) - 1} shown within".encode() in html


def test_without_a_threshold_nothing_is_marked(line_url: str,
                                               line_search: GallerySearch) -> None:
    path = f"?query={_line_query(line_search)}&k=5"
    answer = _json(line_url, "/ranking.json" + path)
    assert answer["max_distance"] is None and all(h["within"] is None for h in answer["hits"])
    html = request(line_url, "/ranking" + path)[1]
    assert _page_marks(html) == [p.name for p in line_search.paths[1:6]]


@pytest.mark.parametrize("param, expected", [
    ("max_distance=nan", "max_distance=nan is invalid; it must be a finite number"),
    ("max_distance=inf", "max_distance=inf is invalid; it must be a finite number"),
    ("max_distance=-1", "max_distance=-1 is invalid; it must be >= 0"),
    ("max_distance=-0.001", "max_distance=-0.001 is invalid; it must be >= 0"),
    ("max_distance=x", "max_distance must be a number"),
    ("max_distance=", "max_distance must be a number"),
    ("max_distance=2&at_fpr=1e-3", "give max_distance or at_fpr, not both"),
    ("at_fpr=nan", "at_fpr=nan is invalid; it must be a finite number"),
    ("at_fpr=1e-4", "FPR 0.0001 was not reachable"),
    ("at_fpr=0.5", "has thresholds at FPR 0.001, 0.0001, not 0.5"),
    ("at_fpr=1e-3&rerank=1", "not B-F + re-ranking"),
    ("rerank=2", "rerank must be 0 or 1"),
    ("rerank=yes", "rerank must be 0 or 1"),
])
@pytest.mark.parametrize("endpoint", ["/ranking", "/ranking.json"])
def test_bad_threshold_or_rerank_is_a_one_line_400(param: str, expected: str, endpoint: str,
                                                   line_url: str,
                                                   line_search: GallerySearch) -> None:
    status, body = request(line_url, f"{endpoint}?query={_line_query(line_search)}&{param}")
    assert status == 400 and expected.encode() in body, (status, body)
    assert b"\n" not in body.strip()


def test_at_fpr_takes_the_evaluations_threshold(line_url: str,
                                                line_search: GallerySearch) -> None:
    """line_search's --results measured 2.5 for B-F at FPR 1e-3: images 1 and 2 pass."""
    path = f"?query={_line_query(line_search)}&k=4&at_fpr=0.001"
    answer = _json(line_url, "/ranking.json" + path)
    assert (answer["method"], answer["max_distance"], answer["at_fpr"]) == \
        ("B-F", 2.5, 1e-3)
    assert [h["within"] for h in answer["hits"]] == [True, True, False, False]
    html = request(line_url, "/ranking" + path)[1]
    assert b"measured by the evaluation at FPR 0.001" in html
    assert b'id="at-fpr"' in request(line_url, "/")[1]  # offered when there is --results


def test_at_fpr_needs_thresholds(gallery_url: str, run_url: str) -> None:
    """No --results, and a run evaluated without --verification: one line saying so."""
    assert b'id="at-fpr"' not in request(gallery_url, "/")[1]
    status, body = request(gallery_url,
                           "/ranking?query=gallery:0006_c1s1_000000_00.jpg&at_fpr=1e-3")
    assert status == 400 and b"serve with --results" in body, body
    status, body = request(run_url, "/ranking.json?query=run:0:single:1&at_fpr=1e-3")
    assert status == 400 and b"no verification section" in body, body


def test_run_threshold_is_that_of_the_viewed_gallery(run_dir: Path, tmp_path: Path) -> None:
    """A run's query ranks against one gallery: its threshold is the one measured there,
    not the multi-resolution gallery's that `rfdreid search` takes."""
    shutil.copy(run_dir / "results.json", tmp_path / "results.json")
    results = json.loads((tmp_path / "results.json").read_text())
    browser = RunBrowser(tmp_path, progress=False)
    assert not browser.has_thresholds

    def at(t: float) -> list[dict]:
        point = {"reachable": True, "threshold": t, "tpr": 1.0, "fpr": 0.0}
        return [{"method": Method().to_record(), "groups": {"all": {"at_fpr": {"0.001": point}}}}]

    results["verification"] = [{"split": str(browser.pairs[0].bf),
                                "galleries": {"multi": at(0.7), "single": at(0.4)}}]
    (tmp_path / "results.json").write_text(json.dumps(results))
    browser = RunBrowser(tmp_path, progress=False)
    assert browser.has_thresholds
    assert browser.threshold_at("run:0:single:1", Method(), 1e-3) == 0.4
    assert browser.threshold_at("run:0:multi:1", Method(), 1e-3) == 0.7


def test_rerank_is_rerank_features_of_the_whole_gallery(gallery_url: str,
                                                        search: GallerySearch) -> None:
    """rerank=1 ranks by eq. 13's d* as `rerank_features` gives it for the query against
    the whole gallery (the query's own file then left out, as `ReIDModel.search` does)."""
    i = 5
    f, r = search.gallery.features.f, search.gallery.features.r
    for lam in (0.0, 1.0):
        d = rerank_features(f[i:i + 1], f, r[i:i + 1], r, lam, "filter", RerankParams())[0]
        expected = [j for j in torch.argsort(d, stable=True).tolist() if j != i]
        answer = _json(gallery_url, f"/ranking.json?query=gallery:{search.paths[i].name}"
                       f"&lam={lam}&form=filter&k=100&rerank=1")
        assert answer["rerank"] and answer["method"].endswith(" + re-ranking")
        assert [h["name"] for h in answer["hits"]] == [search.paths[j].name for j in expected]
        assert [h["distance"] for h in answer["hits"]] == pytest.approx(
            [float(d[j]) for j in expected], abs=1e-6)
    status, html = request(gallery_url, f"/ranking?query=gallery:{search.paths[i].name}"
                           "&rerank=1")
    assert status == 200 and b'data-rerank="1"' in html and b"+ re-ranking" in html
