"""`rfdreid search`: top-k table, Fig. 4 picture, incremental gallery cache, one-line errors."""

from __future__ import annotations

import json
import shutil

import pytest
from PIL import Image

from rfdreid.inference import gallery as gallery_module
from rfdreid.errors import ReIDError
from rfdreid.evaluation.visualize import LABEL_HEIGHT, PAD, SEPARATOR


@pytest.fixture
def embedded(monkeypatch):
    """Counts the gallery files each run really embeds (the rest come from the cache)."""
    counts: list[int] = []
    extract = gallery_module.extract_features

    def counting(net, records, **kwargs):
        counts.append(len(records))
        return extract(net, records, **kwargs)

    monkeypatch.setattr(gallery_module, "extract_features", counting)
    return counts


def search(cli, trained, gallery, *extra):
    query = trained.images / "7_0_2.jpg"  # not in the gallery; Market-style name below
    named = gallery.parent / "0007_c1s1_000002_00.jpg"
    shutil.copy(query, named)
    return cli("search", named, "--gallery", gallery, "--bf", trained.bf,
               "--br", trained.br, *extra)


def test_prints_top_k_and_draws_the_ranking(cli, trained, market_gallery, tmp_path):
    out = tmp_path / "ranking.png"
    res = search(cli, trained, market_gallery, "--top-k", "4", "--out", out)
    assert res.code == 0, res.err
    rows = [line.split() for line in res.out.splitlines() if line.split()[0].isdigit()]
    assert [r[0] for r in rows] == ["1", "2", "3", "4"]
    assert all(r[2] in ("yes", "no") for r in rows)  # Market names: matches are known
    distances = [float(r[1]) for r in rows]
    assert distances == sorted(distances)
    with Image.open(out) as picture:  # query + 4 results, all 32 x 64, at their real size
        width = PAD + 32 + SEPARATOR + 4 * (32 + PAD)
        assert picture.size == (width, PAD + 64 + PAD + LABEL_HEIGHT)


def test_top_hit_is_the_query_s_copy_and_a_match(cli, trained, market_gallery):
    """Known answer: the query's pixel copy, filed under another camera, is its nearest
    gallery image by D_f (λ 0), whatever the model learnt; its name marks it a match."""
    shutil.copy(trained.images / "7_0_2.jpg", market_gallery / "0007_c2s1_000009_00.jpg")
    res = search(cli, trained, market_gallery, "--lambda", "0", "--top-k", "3")
    assert res.code == 0, res.err
    rows = [line.split() for line in res.out.splitlines() if line.split()[0].isdigit()]
    assert rows[0][0] == "1" and rows[0][2] == "yes" and rows[0][-1].endswith(
        "0007_c2s1_000009_00.jpg")
    assert float(rows[0][1]) < float(rows[1][1])


def test_cache_is_reused_and_follows_the_folder(cli, trained, market_gallery, embedded):
    n = len(list(market_gallery.glob("*.jpg")))
    assert search(cli, trained, market_gallery).code == 0
    assert embedded == [n, n]  # B-F and B-R embed every file once
    embedded.clear()
    assert search(cli, trained, market_gallery).code == 0
    assert embedded == []  # a re-run embeds nothing

    shutil.copy(trained.images / "8_1_2.jpg", market_gallery / "0008_c2s1_000002_00.jpg")
    (market_gallery / "0009_c2s1_000001_00.jpg").unlink()
    res = search(cli, trained, market_gallery, "--top-k", str(n))
    assert embedded == [1, 1]  # only the added file
    assert "0008_c2s1_000002_00.jpg" in res.out and "0009_c2s1_000001_00.jpg" not in res.out

    embedded.clear()
    shutil.copy(trained.images / "9_0_2.jpg", market_gallery / "0006_c1s1_000000_00.jpg")
    assert search(cli, trained, market_gallery).code == 0
    assert embedded == [1, 1]  # a changed file (size, mtime) is embedded again


def test_errors_are_one_line(cli, trained, market_gallery, tmp_path):
    query = trained.images / "6_0_0.jpg"
    base = ["--gallery", market_gallery, "--out", tmp_path / "r.png"]
    cli("search", query, *base, "--bf", tmp_path / "none.pt").assert_one_line_error(
        "none.pt", "not found")
    cli("search", query, *base, "--bf", trained.br).assert_one_line_error(
        "B-R checkpoint")
    cli("search", tmp_path / "nope.jpg", *base, "--bf", trained.bf
        ).assert_one_line_error("nope.jpg")
    cli("search", query, "--gallery", tmp_path / "absent", "--bf", trained.bf
        ).assert_one_line_error("absent", "not found")
    (tmp_path / "empty").mkdir()
    cli("search", query, "--gallery", tmp_path / "empty", "--bf", trained.bf
        ).assert_one_line_error("holds no images")
    (market_gallery / "broken.jpg").write_bytes(b"not a jpeg")
    cli("search", query, *base, "--bf", trained.bf).assert_one_line_error("broken.jpg")


def test_help_has_an_example(cli):
    res = cli("search", "--help")
    assert res.code == 0 and "Example: rfdreid search" in res.out


def test_rerank_keeps_the_query_s_copy_on_top_and_refuses_one_image(cli, trained,
                                                                    market_gallery, tmp_path):
    """With --rerank the query's pixel copy (its nearest image and reciprocal neighbour)
    stays first; a gallery of one image is one line."""
    shutil.copy(trained.images / "7_0_2.jpg", market_gallery / "0007_c2s1_000009_00.jpg")
    res = search(cli, trained, market_gallery, "--top-k", "3", "--rerank", "--rerank-k1", "4",
                 "--rerank-k2", "1")
    assert res.code == 0, res.err
    assert "+ re-ranking:" in res.out
    rows = [line.split() for line in res.out.splitlines() if line.split()[0].isdigit()]
    assert rows[0][-1].endswith("0007_c2s1_000009_00.jpg") and rows[0][2] == "yes"
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(trained.images / "6_1_0.jpg", one / "0006_c2s1_000000_00.jpg")
    search(cli, trained, one, "--rerank").assert_one_line_error("gallery of at least 2 images")
    search(cli, trained, market_gallery, "--rerank", "--rerank-lambda", "-1"
           ).assert_one_line_error("lambda must be in [0, 1]")
    search(cli, trained, market_gallery, "--rerank-k1", "4").assert_one_line_error(
        "--rerank-k1 set but re-ranking is off", "add --rerank")


def test_max_distance_keeps_exactly_the_hits_within_it(model, trained, market_gallery):
    """API: the filtered result is the unfiltered ranking cut at D, whatever D."""
    query = trained.images / "7_0_2.jpg"
    n = len(list(market_gallery.glob("*.jpg")))
    every = model.search(query, market_gallery, top_k=n)
    for limit in (every[0].distance, every[3].distance, every[-1].distance, -1e9):
        got = model.search(query, market_gallery, top_k=n, max_distance=limit)
        assert got == [h for h in every if h.distance <= limit]
    assert model.search(query, market_gallery, top_k=2, max_distance=every[3].distance) \
        == every[:2]
    with pytest.raises(ReIDError, match="max_distance=nan is invalid"):
        model.search(query, market_gallery, max_distance=float("nan"))


def _rows(res):
    return [line.split()[-1] for line in res.out.splitlines() if line.split()[0].isdigit()]


def test_cli_max_distance_and_at_fpr_from_results(cli, model, trained, market_gallery,
                                                  tmp_path):
    """--max-distance D and --at-fpr F (D read from an evaluation's verification section of
    this checkpoint and method) both print the unfiltered rows with distance <= D."""
    n = len(list(market_gallery.glob("*.jpg")))
    every = search(cli, trained, market_gallery, "--top-k", str(n))
    hits = model.search(market_gallery.parent / "0007_c1s1_000002_00.jpg", market_gallery,
                        top_k=n)
    limit = (hits[2].distance + hits[3].distance) / 2
    assert hits[2].distance < limit < hits[3].distance
    res = search(cli, trained, market_gallery, "--top-k", str(n), "--max-distance", str(limit))
    assert res.code == 0, res.err
    assert _rows(res) == _rows(every)[:3] and "within distance" in res.out

    point = {"reachable": True, "threshold": limit, "tpr": 0.5, "fpr": 0.001}
    groups = {"all": {"at_fpr": {"0.001": point, "0.0001": {"reachable": False}}}}
    rfd = {"form": "filter", "lam": 0.1, "chosen": False, "rerank": False, "form_chosen": False}
    bf = {**rfd, "form": None, "lam": 0.0}
    far = {"all": {"at_fpr": {"0.001": {**point, "threshold": 99.0}}}}
    methods = [{"method": bf, "groups": far}, {"method": rfd, "groups": groups}]
    results = tmp_path / "results.json"
    for written in (methods, {"B-F+RFD filter (λ=0.1)": groups}):  # records; before them, labels
        results.write_text(json.dumps({"verification": [
            {"split": str(trained.bf.resolve()), "galleries": {"multi": written}}]}))
        res = search(cli, trained, market_gallery, "--top-k", str(n), "--at-fpr", "1e-3",
                     "--results", results)
        assert res.code == 0, res.err
        assert _rows(res) == _rows(every)[:3]

    search(cli, trained, market_gallery, "--at-fpr", "1e-4", "--results", results
           ).assert_one_line_error("FPR 0.0001 was not reachable", "--at-fpr")
    search(cli, trained, market_gallery, "--at-fpr", "1e-3", "--results", results,
           "--lambda", "0.5").assert_one_line_error("not B-F+RFD filter (λ=0.5)")
    search(cli, trained, market_gallery, "--at-fpr", "1e-3"
           ).assert_one_line_error("--at-fpr and --results go together")
    results.write_text(json.dumps({"settings": {"normalize": {"value": True, "source": "default"}},
                                   "verification": [{"split": str(trained.bf.resolve()),
                                                     "galleries": {"multi": methods}}]}))
    search(cli, trained, market_gallery, "--at-fpr", "1e-3", "--results", results,
           "--no-normalize").assert_one_line_error("normalize=True", "--normalize")
    search(cli, trained, market_gallery, "--max-distance", "inf"
           ).assert_one_line_error("--max-distance=inf is invalid")
    results.write_text(json.dumps({"verification": [{"split": 3}]}))
    search(cli, trained, market_gallery, "--at-fpr", "1e-3", "--results", results
           ).assert_one_line_error("malformed verification section")
    results.write_text(json.dumps({"summary": {}}))
    search(cli, trained, market_gallery, "--at-fpr", "1e-3", "--results", results
           ).assert_one_line_error("no verification section", "--verification")
