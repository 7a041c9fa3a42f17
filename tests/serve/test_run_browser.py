"""`rfdreid serve --run` over HTTP: tables from results.json, per-query ranks that agree
with the evaluation, sorting, and each query's ranking."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rfdreid.serve.run_browser import RunBrowser

from live_http import request


def test_overview_shows_every_gallery_and_metric(run_url: str, run_dir: Path) -> None:
    status, body = request(run_url, "/")
    assert status == 200
    summary = json.loads((run_dir / "results.json").read_text())["summary"]
    for mode, rows in summary.items():
        assert f"/queries/0/{mode}".encode() in body
        for label, metrics in rows.items():
            assert label.encode() in body
            assert f"{metrics['mAP']['mean']:.1f}".encode() in body


def test_first_match_ranks_agree_with_the_evaluation(run_dir: Path) -> None:
    browser = RunBrowser(run_dir, progress=False)
    per_split = json.loads((run_dir / "results.json").read_text())["per_split"][0]
    label = f"B-F+RFD {browser.ecfg.rfd_form} (λ={browser.ecfg.rfd_lambda:g})"
    for mode in browser.galleries:
        stats = [s for s in browser.view(0, mode).stats if s.first_bf is not None]
        assert len(stats) == per_split[mode]["B-F"]["num_valid_queries"]
        r1_bf = sum(s.first_bf == 1 for s in stats) / len(stats)
        r1_rfd = sum(s.first_rfd == 1 for s in stats) / len(stats)
        assert abs(r1_bf - per_split[mode]["B-F"]["R1"]) < 1e-9
        assert abs(r1_rfd - per_split[mode][label]["R1"]) < 1e-9


def test_queries_sort_by_rank_and_by_move(run_url: str, run_dir: Path) -> None:
    view = RunBrowser(run_dir, progress=False).view(0, "multi")
    for key in ("first_bf", "first_rfd", "moved"):
        status, body = request(run_url, f"/queries/0/multi?sort={key}")
        assert status == 200
        shown = [int(i) for i in re.findall(rb'<tr data-index="(\d+)"', body)]
        values = [abs(getattr(view.stats[i], key) or 0) for i in shown]
        assert sorted(shown) == list(range(len(view.queries)))
        assert values == sorted(values, reverse=True), key
    assert request(run_url, "/queries/0/multi?sort=name")[0] == 400
    assert request(run_url, "/queries/7/multi")[0] == 404


def test_query_page_and_its_ranking(run_url: str, run_dir: Path) -> None:
    view = RunBrowser(run_dir, progress=False).view(0, "single")
    status, page = request(run_url, "/queries/0/single/1")
    assert status == 200 and b'data-query="run:0:single:1"' in page
    status, html = request(run_url, "/ranking?query=run:0:single:1&lam=0&k=100")
    assert status == 200
    frames = re.findall(rb'class="tile (match|miss)"', html)
    assert frames.index(b"match") + 1 == view.stats[1].first_bf
    status, png = request(run_url, "/run-image/0/single/q/1")
    assert status == 200 and png.startswith(b"\x89PNG")
    assert request(run_url, "/ranking?query=run:0:single:999")[0] == 404
    assert request(run_url, "/run-image/0/single/x/1")[0] == 404



def test_query_group_tables_link_to_their_gallery(class_run_url: str, class_run_dir: Path
                                                  ) -> None:
    """An evaluation with --by-resolution-class has a table per (gallery, query group):
    each is shown, and its query links go to the gallery it ranked, never to a title."""
    results = json.loads((class_run_dir / "results.json").read_text())
    groups = {r["queries"] for r in results["records"]} - {""}
    assert groups, "the tiny protocol should have queries in both resolution-class groups"
    status, body = request(class_run_url, "/")
    assert status == 200
    for title in results["summary"]:
        assert title.encode() in body
    linked = set(re.findall(rb'href="/queries/0/([^"]+)"', body))
    assert linked == {b"single", b"multi"}
    for mode in linked:
        assert request(class_run_url, f"/queries/0/{mode.decode()}")[0] == 200
