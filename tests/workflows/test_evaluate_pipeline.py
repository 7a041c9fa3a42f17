"""Evaluation driver: both galleries, B-F and B-F+RFD rows (both forms), cached features,
λ chosen on validation ids only, MLR repeats, CLI errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from rfdreid.config import EvalConfig, load_config
from rfdreid.workflows import evaluate
from rfdreid.data.records import ImageRecord, Protocol
from rfdreid.inference.gallery import Features
from rfdreid.training.trainer import train

from oracles import reference_rank
from tiny import TINY_OVERRIDES


@pytest.fixture(scope="module")
def trained_pair(trained):
    """The session's tiny B-F/B-R pair with its protocol (tests only read it; the feature
    cache is keyed by record content). Tests that edit the protocol use `own_protocol`."""
    return evaluate.RunPair(bf=trained.bf, br=trained.br, protocol=trained.protocol)


@pytest.fixture
def own_protocol(trained_pair, tmp_path):
    """A private copy of the pair's protocol file, and the pair pointed at it."""
    import shutil
    from dataclasses import replace

    path = tmp_path / "protocol.json"
    shutil.copy(trained_pair.protocol, path)
    return replace(trained_pair, protocol=str(path)), path


def _train_pair(tiny_protocol, tmp_path):
    paths = {}
    for kind, task in (("bf", "id"), ("br", "resolution")):
        cfg = load_config(None, [*TINY_OVERRIDES, "train.iterations=2", f"train.task={task}",
                                 f"data.protocol={tiny_protocol}",
                                 f"train.out_dir={tmp_path / 'split_00' / kind}"])
        paths[kind] = train(cfg, progress=False)
    return evaluate.RunPair(bf=paths["bf"], br=paths["br"])


def _oracle_row(protocol, features, mode: str, form: str | None, lam: float
                ) -> tuple[float, float, float]:
    """(R1, R5, mAP) in % of one table row, recomputed from the pair's features by
    torch.cdist, eq. 8 written out and a plain per-query sort (tests/oracles.py)."""
    queries, gallery = protocol.query, protocol.galleries[mode]
    q, g = features("query", queries), features(f"gallery_{mode}", gallery)
    dist = torch.cdist(q.f.double(), g.f.double())
    if form is not None:
        cos = torch.nn.functional.cosine_similarity(q.r.double()[:, None], g.r.double()[None],
                                                    dim=2)
        dist = dist - lam * (cos if form == "literal" else 1 - cos)
    labels = [np.array([getattr(r, a) for r in recs])
              for a, recs in (("pid", queries), ("pid", gallery), ("camid", queries),
                              ("camid", gallery))]
    cmc, m_ap, _, _ = reference_rank(dist.numpy(), *labels)
    return 100 * cmc[0], 100 * cmc[4], 100 * m_ap


def test_tables_for_both_galleries_and_cache(trained_pair, tmp_path, monkeypatch):
    ecfg = EvalConfig(lambda_sweep=[0.5], rfd_form="filter")
    table, md = evaluate.evaluate_runs([trained_pair], ecfg, out_dir=tmp_path / "eval",
                                       progress=False)
    assert set(table) == {"single", "multi"}
    rows = {"B-F": (None, 0.0), "B-F+RFD filter (λ=0.1)": ("filter", 0.1),
            "B-F+RFD filter (λ=0.5)": ("filter", 0.5),
            "B-F+RFD literal (λ=0.1)": ("literal", 0.1)}
    assert list(table["multi"]) == list(rows)
    # Known answer: every row equals the oracle on the same query / gallery features.
    protocol, features = evaluate.pair_features(trained_pair, ecfg, progress=False)
    for mode in ("single", "multi"):
        for label, (form, lam) in rows.items():
            got = table[mode][label]
            want = _oracle_row(protocol, features, mode, form, lam)
            assert (got["r1"]["mean"], got["r5"]["mean"], got["mAP"]["mean"]) == pytest.approx(
                want, abs=1e-6), (mode, label)
    assert "| B-F+RFD filter (λ=0.1) |" in md
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert results["init"] == [{"B-F": "random init", "B-R": "random init"}]
    fp32 = {"value": "fp32", "auto": False, "reason": "train.precision=fp32"}  # TINY_OVERRIDES
    assert results["precision"] == [{"B-F": fp32, "B-R": fp32}]

    def no_extraction(*a, **k):
        raise AssertionError("features should come from the cache")

    monkeypatch.setattr(evaluate, "extract_features", no_extraction)
    again, _ = evaluate.evaluate_runs([trained_pair], ecfg, progress=False)
    assert again == table


def test_without_br_only_bf_row(trained_pair):
    res = evaluate.evaluate_pair(evaluate.RunPair(bf=trained_pair.bf), EvalConfig(),
                                 progress=False)
    assert [list(r[("single", "")]) for r in res.repeats] == [[evaluate.Method()]]
    assert res.chosen is None


def test_cli_swapped_checkpoints_one_line_error(cli, trained_pair):
    cli("evaluate", "--bf", trained_pair.br).assert_one_line_error("B-R checkpoint")


def test_gallery_specific_queries_are_used(own_protocol):
    from dataclasses import replace

    from rfdreid.data.records import Protocol

    trained_pair, tiny_protocol = own_protocol
    p = Protocol.load(tiny_protocol)
    replace(p, gallery_queries={"multi": p.query[:2]}).save(tiny_protocol)
    res = evaluate.evaluate_pair(trained_pair, EvalConfig(), progress=False)
    (split,) = res.repeats
    assert split[("multi", "")][evaluate.Method()].num_valid_queries == 2
    assert split[("single", "")][evaluate.Method()].num_valid_queries == len(p.query)


def test_paired_gain_and_sign_test():
    import numpy as np

    from rfdreid.evaluation import RankResult

    def split(bf_r1, rfd_r1):
        def res(r1):
            return RankResult(cmc=np.array([r1] * 10), mAP=r1, mINP=r1, num_valid_queries=1)
        return {("multi", ""): {evaluate.Method(): res(bf_r1), RFD: res(rfd_r1)}}

    RFD = evaluate.Method("filter", 0.1)
    splits = [split(0.5, 0.6)] * 6 + [split(0.5, 0.4)]
    line = evaluate.paired_gain(splits, ("multi", ""), RFD)
    # gains: six +10, one -10 -> mean +7.1, sample SD 7.6 (n - 1); two-sided sign test
    # p = 2 * (1 + 7) / 128
    assert "+7.1 ± 7.6 points" in line and "better on 6, worse on 1 of 7" in line
    assert "p = 0.125" in line
    assert "p = 0.016" in evaluate.paired_gain([split(0.5, 0.6)] * 7, ("multi", ""), RFD)


def test_query_group_empty_in_some_draws():
    """A query group absent from a draw (MLR redraws the factors, and "match in the same
    resolution class" can be left without a query) is summarised over the draws that have
    it, and the table says so. Before, summarize raised KeyError after every draw had been
    embedded and ranked, and no results file was written."""
    from rfdreid.evaluation import RankResult

    def res(r1):
        return RankResult(cmc=np.array([r1] * 10), mAP=r1, mINP=r1, num_valid_queries=1)

    rfd = evaluate.Method("filter", 0.1)
    same = ("multi", "match in the same resolution class")

    def draw(bf_r1, rfd_r1, with_group):
        out = {("multi", ""): {evaluate.Method(): res(0.5), rfd: res(0.5)}}
        if with_group:
            out[same] = {evaluate.Method(): res(bf_r1), rfd: res(rfd_r1)}
        return out

    draws = [draw(0.2, 0.4, True), draw(0.9, 0.9, False), draw(0.3, 0.2, True)]
    table = evaluate.summarize(draws)
    rows = table["multi, match in the same resolution class"]
    assert rows["B-F"]["r1"]["mean"] == pytest.approx(25.0)  # (20 + 30) / 2, not over 3
    assert rows[rfd.label]["r1"]["mean"] == pytest.approx(30.0)
    assert "better on 1, worse on 1 of 2" in evaluate.paired_gain(draws, same, rfd)
    present = {evaluate.table_title(k): len(v) for k, v in evaluate.table_keys(draws).items()}
    md = evaluate.to_markdown(table, 1, 3, present)
    assert "match in the same resolution class (mean ± std over 2 of the 3 draws" in md
    assert "### multi-resolution gallery (mean ± std over 3 draws)" in md


def test_select_lambda_reads_validation_ids_only(tmp_path, monkeypatch):
    """λ is chosen on held-out training ids: no test identity is embedded while choosing."""
    from rfdreid.data.prepare import prepare
    from rfdreid.data.records import Protocol
    from rfdreid.data.synthetic import generate_synthetic

    root = generate_synthetic(tmp_path / "synthetic", num_train_ids=8, num_test_ids=4,
                              num_cameras=2, images_per_id_per_camera=2)
    [path] = prepare("synthetic", root, tmp_path / "prepared", val_ids=3)
    protocol = Protocol.load(path)
    val_pids, test_pids = protocol.val_pids(), {r.pid for r in protocol.query}
    assert len(val_pids) == 3 and not val_pids & test_pids
    assert protocol.num_train_pids == 5  # the held-out ids are not trained on
    pair = _train_pair(path, tmp_path)
    seen: list[set[int]] = []
    real_call = evaluate._Embedder.__call__

    def spy(self, subset, records):
        seen.append({r.pid for r in records})
        return real_call(self, subset, records)

    monkeypatch.setattr(evaluate._Embedder, "__call__", spy)
    ecfg = EvalConfig(select_lambda=[0.2, 0.5])
    features = evaluate._PairFeatures(
        evaluate._Embedder(evaluate.read_trained_model(pair.bf), protocol.interpolation,
                           ecfg, "cpu", False),
        evaluate._Embedder(evaluate.read_trained_model(pair.br), protocol.interpolation,
                           ecfg, "cpu", False))
    chosen = evaluate.select_lambda(protocol, features, ecfg)
    assert seen and all(pids <= val_pids for pids in seen)
    assert set(chosen) == set(protocol.galleries)
    assert all(c["lambda"] in (0.0, 0.2, 0.5) for c in chosen.values())
    # Both readings are scored at every λ of the grid, and the curve is what was chosen on.
    for c in chosen.values():
        assert {f: set(v) for f, v in c["curve"].items()} == {
            "B-F": {"0"}, "filter": {"0.2", "0.5"}, "literal": {"0.2", "0.5"}}
        best = max(v for curve in c["curve"].values() for v in curve.values())
        assert c["val_mAP"] == best
    # The chosen (form, λ) becomes its own row of the test table, equal to that
    # candidate's own row (which every candidate of the grid gets).
    res = evaluate.evaluate_pair(pair, ecfg, progress=False)
    rows = _by_label(res.repeats[0][("multi", "")])
    picked = res.chosen["multi"]
    same = "B-F" if picked["lambda"] == 0 else f"B-F+RFD {picked['form']} (λ={picked['lambda']:g})"
    assert rows["B-F+RFD (form and λ chosen on validation)"] == rows[same]
    assert {"B-F+RFD literal (λ=0.5)", "B-F+RFD filter (λ=0.2)"} <= set(rows)
    one_form = evaluate.evaluate_pair(pair, EvalConfig(select_lambda=[0.2, 0.5],
                                                       select_forms=["filter"]), progress=False)
    assert "B-F+RFD filter (λ chosen on validation)" in _by_label(
        one_form.repeats[0][("multi", "")])


def test_select_lambda_without_validation_is_one_clear_error(trained_pair):
    with pytest.raises(evaluate.ReIDError, match="--val-ids"):
        evaluate.evaluate_pair(trained_pair, EvalConfig(select_lambda=[0.1]), progress=False)


def test_repeats_redraw_queries_and_average(own_protocol):
    from dataclasses import replace

    from rfdreid.data.protocols import redraw_degradation
    from rfdreid.data.records import Protocol

    trained_pair, tiny_protocol = own_protocol
    with pytest.raises(evaluate.ReIDError, match="MLR"):  # the tiny set is not marked MLR
        evaluate.evaluate_pair(trained_pair, EvalConfig(repeats=2), progress=False)
    p = replace(Protocol.load(tiny_protocol), meta={"protocol": "mlr"})
    p.save(tiny_protocol)
    again = redraw_degradation(p, 1)
    assert [r.path for r in again.query] == [r.path for r in p.query]
    assert [r.factor for r in again.query] != [r.factor for r in p.query]
    assert {r.factor for r in again.query} <= {2, 3, 4}
    assert again.galleries["single"] == p.galleries["single"]  # the HR gallery stays HR
    assert redraw_degradation(p, 1) == again  # seeded
    table, md = evaluate.evaluate_runs([trained_pair], EvalConfig(repeats=3), progress=False)
    assert "(mean ± std over 3 draws)" in md


def test_rerank_rows_equal_reranking_the_fused_pooled_distance(trained_pair):
    """`eval.rerank` adds "B-F + re-ranking" and "B-F+RFD ... + re-ranking"; each equals the
    oracle ranking of k-reciprocal re-ranking applied to the pooled (query + gallery)²
    distance written out here: torch.cdist, and for RFD eq. 8 on every block."""
    from rfdreid.evaluation.rerank import RerankParams, rerank

    ecfg = EvalConfig(rerank=True, rerank_k1=4, rerank_k2=2, rerank_lambda=0.2)
    res = evaluate.evaluate_pair(trained_pair, ecfg, progress=False)
    rows = _by_label(res.repeats[0][("multi", "")])
    assert list(rows)[-2:] == ["B-F + re-ranking", "B-F+RFD filter (λ=0.1) + re-ranking"]
    protocol, features = evaluate.pair_features(trained_pair, ecfg, progress=False)
    queries, gallery = protocol.query, protocol.galleries["multi"]
    q, g = features("query", queries), features("gallery_multi", gallery)
    f, r = torch.cat([q.f, g.f]).double(), torch.cat([q.r, g.r]).double()
    cos = torch.nn.functional.cosine_similarity(r[:, None], r[None], dim=2)
    labels = [np.array([getattr(x, a) for x in recs])
              for a, recs in (("pid", queries), ("pid", gallery), ("camid", queries),
                              ("camid", gallery))]
    for label, pooled in (("B-F + re-ranking", torch.cdist(f, f)),
                          ("B-F+RFD filter (λ=0.1) + re-ranking",
                           torch.cdist(f, f) - 0.1 * (1 - cos))):
        dist = rerank(pooled.float(), len(queries), RerankParams(k1=4, k2=2, lam=0.2))
        _, m_ap, _, _ = reference_rank(dist.numpy(), *labels)
        assert rows[label].mAP == pytest.approx(m_ap, abs=1e-6), label
    assert "B-F + re-ranking" not in _by_label(evaluate.evaluate_pair(
        trained_pair, EvalConfig(), progress=False).repeats[0][("multi", "")])


def test_cli_rerank_rows_and_one_line_errors(cli, trained_pair, tmp_path):
    base = ["evaluate", "--bf", trained_pair.bf, "--br", trained_pair.br,
            "--protocol", trained_pair.protocol, "--out", tmp_path / "eval"]
    res = cli(*base, "--rerank", "--rerank-k1", "5", "--rerank-lambda", "0.5")
    assert res.code == 0, res.err
    assert "| B-F + re-ranking |" in res.out and "| B-F+RFD filter (λ=0.1) + re-ranking |" in res.out
    assert "rerank_k1=5 (command line)" in res.out
    for flag, value, fragment in (
            ("--rerank-k1", "0", "eval.rerank_k1=0 is invalid; it must be a whole number >= 1"),
            ("--rerank-k2", "0", "eval.rerank_k2=0 is invalid; it must be a whole number >= 1"),
            ("--rerank-lambda", "1.5", "eval.rerank_lambda=1.5 is invalid; it must be in [0, 1]")):
        cli(*base, "--rerank", flag, value).assert_one_line_error(fragment)
    cli(*base, "--rerank", "--rerank-max-gib", "1e-9").assert_one_line_error(
        "distance matrix", "--rerank-max-gib")
    cli(*base, "--rerank-k2", "3").assert_one_line_error(
        "--rerank-k2 set but re-ranking is off", "add --rerank")


def test_cli_verification_section_table_and_plot(cli, trained_pair, tmp_path):
    """--verification adds, per gallery and method, pair counts that match a count over the
    protocol's records (same id & other camera = genuine, other id = impostor), pair groups
    from the recorded factors, a table and a PNG per gallery."""
    from rfdreid.data.records import Protocol

    out = tmp_path / "eval"
    res = cli("evaluate", "--bf", trained_pair.bf, "--br", trained_pair.br, "--protocol",
              trained_pair.protocol, "--out", out, "--verification")
    assert res.code == 0, res.err
    assert "### verification, multi-resolution gallery" in res.out
    [entry] = json.loads((out / "results.json").read_text())["verification"]
    assert entry["split"] == str(trained_pair.bf.resolve())
    protocol = Protocol.load(trained_pair.protocol)
    for mode, gallery in protocol.galleries.items():
        rows = entry["galleries"][mode]
        assert [(r["method"]["form"], r["method"]["lam"]) for r in rows] == \
            [(None, 0.0), ("filter", 0.1)]
        for groups in (r["groups"] for r in rows):
            want: dict[str, list[int]] = {}
            for q, g in ((q, g) for q in protocol.query for g in gallery):
                if q.pid == g.pid and q.camid == g.camid:
                    continue
                name = ("HR→HR" if q.factor == 1 else "LR→HR") if g.factor == 1 else "other"
                for n in ("all", name):
                    want.setdefault(n, [0, 0])[q.pid != g.pid] += 1
            assert {n: [r["genuine"], r["impostor"]] for n, r in groups.items()} == want
            # 4 queries x 12 images: 36 impostor pairs resolve no FPR of 1e-2 or below.
            assert all(p == {"reachable": False} for p in groups["all"]["at_fpr"].values())
        with Image.open(out / f"verification_{mode}.png") as picture:
            assert picture.format == "PNG"


def test_cli_verification_without_impostor_pairs_is_one_line(cli, own_protocol, tmp_path):
    from dataclasses import replace

    from rfdreid.data.records import Protocol

    trained_pair, path = own_protocol
    p = Protocol.load(path)
    pid = p.query[0].pid
    replace(p, query=p.query[:1], galleries={k: [r for r in g if r.pid == pid]
                                             for k, g in p.galleries.items()}).save(path)
    cli("evaluate", "--bf", trained_pair.bf, "--protocol", path, "--out", tmp_path / "eval",
        "--verification").assert_one_line_error("needs impostor pairs", "--verification")


def test_high_resolution_reads_factors_or_pixel_bins():
    """MLR-style protocols: HR = kept at factor 1; real-resolution ones (pixel-count bins
    recorded, label 0 = fewest pixels): the upper half of the bins."""
    from dataclasses import replace

    from rfdreid.data.records import ImageRecord, Protocol

    records = [ImageRecord("x.jpg", 1, 0, factor=f, res_label=b)
               for f, b in ((1, 0), (2, 1), (1, 3), (1, 4), (1, 2))]
    mlr = Protocol(dataset="d", interpolation="bicubic", seed=0, num_res_classes=5, train=[],
                   query=records, galleries={})
    assert evaluate._high_resolution(mlr, records).tolist() == [True, False, True, True, True]
    real = replace(mlr, meta={"res_bin_edges": [0, 1, 2, 3, 4, 5]})
    assert evaluate._high_resolution(real, records).tolist() == [False, False, True, True,
                                                                 False]


def test_cli_verification_over_the_pair_cap_is_one_line(cli, trained_pair, tmp_path,
                                                        monkeypatch):
    from rfdreid.evaluation import verification

    monkeypatch.setattr(verification, "MAX_PAIRS", 10)
    cli("evaluate", "--bf", trained_pair.bf, "--protocol", trained_pair.protocol, "--out",
        tmp_path / "eval", "--verification").assert_one_line_error("exceeds the cap of 10",
                                                                    "--verification")
    assert not (tmp_path / "eval" / "results.json").exists()


def _by_label(rows: dict) -> dict:
    """A table's rows by their results.md label (what these tests read)."""
    return {m.label: r for m, r in rows.items()}


def _rec(path: str, pid: int, cam: int, res: int, factor: int = 1) -> ImageRecord:
    return ImageRecord(path=path, pid=pid, camid=cam, factor=factor, res_label=res)


def test_resolution_class_groups_split_queries_by_their_true_matches():
    gallery = [_rec("g1", 1, 1, 2), _rec("g2", 2, 1, 1), _rec("g3a", 3, 1, 0),
               _rec("g3b", 3, 1, 3), _rec("g4", 4, 0, 3)]
    queries = [_rec("q1", 1, 0, 0), _rec("q2", 2, 0, 1), _rec("q3", 3, 0, 0),
               _rec("q4", 4, 0, 0)]
    groups = evaluate.resolution_class_groups(queries, gallery)
    # q3 has matches in both classes, q4 only a same-camera image (no true match)
    assert {k: v.tolist() for k, v in groups.items()} == {
        evaluate.CLASS_GROUPS[0]: [0], evaluate.CLASS_GROUPS[1]: [1]}


def test_grouped_rows_rank_only_their_queries():
    """q1 (match in another class) is ranked right, q2 (same class) wrong: the grouped
    rows must say R1 = 1 and 0, and the whole table 0.5."""
    gallery = [_rec("g1", 1, 1, 2), _rec("g2", 2, 1, 1)]
    queries = [_rec("q1", 1, 0, 0), _rec("q2", 2, 0, 1)]
    vec = {"g1": [1.0, 0.0], "g2": [0.0, 1.0], "q1": [1.0, 0.0], "q2": [1.0, 0.1]}

    def features(_name, records):
        return Features(torch.tensor([vec[r.path] for r in records]))

    protocol = Protocol(dataset="toy", interpolation="bicubic", seed=0, num_res_classes=3,
                        train=[], query=queries, galleries={"single": gallery})
    out = evaluate.evaluate_protocol(protocol, features, EvalConfig(by_resolution_class=True),
                                     with_rfd=False)
    bf = evaluate.Method()
    assert out[("single", "")][bf].r1 == 0.5
    assert out[("single", evaluate.CLASS_GROUPS[0])][bf].r1 == 1.0
    assert out[("single", evaluate.CLASS_GROUPS[1])][bf].r1 == 0.0


def test_pair_features_embed_each_image_and_factor_once():
    """A redrawn degradation embeds only its new (image, factor) pairs; rows are the
    embeddings of exactly those pairs, in the set's order."""
    calls: list[list[tuple[str, int]]] = []

    def embed(_name, records):
        calls.append([(r.path, r.factor) for r in records])
        return torch.tensor([[float(len(r.path)), float(r.factor)] for r in records])

    pf = evaluate._PairFeatures(embed, embed)
    first = [_rec("a", 0, 0, 0, 1), _rec("bb", 1, 0, 0, 2)]
    pf("query", first)
    redrawn = [_rec("a", 0, 0, 0, 3), _rec("bb", 1, 0, 0, 2), _rec("a", 0, 0, 0, 1)]
    got = pf("query", redrawn)
    assert calls == [[("a", 1), ("bb", 2)], [("a", 1), ("bb", 2)], [("a", 3)], [("a", 3)]]
    assert got.f.tolist() == [[1.0, 3.0], [2.0, 2.0], [1.0, 1.0]]
    assert got.r is not None and got.r.tolist() == got.f.tolist()


def test_results_json_records_are_what_the_page_is_built_from(trained_pair, tmp_path):
    """results.json's typed records carry every (gallery, query group, method) without a
    label to parse; collect turns each into one CSV row with the same metrics."""
    from rfdreid.report import collect

    ecfg = EvalConfig(by_resolution_class=True, lambda_sweep=[0.5])
    evaluate.evaluate_runs([trained_pair], ecfg, out_dir=tmp_path, progress=False)
    payload = json.loads((tmp_path / "results.json").read_text())
    res = evaluate.evaluate_pair(trained_pair, ecfg, progress=False).repeats[0]
    assert len(payload["records"]) == sum(len(rows) for rows in res.values())
    rows = collect.result_rows(payload, "x", "toy", "0", "")
    for (gallery, queries), methods in res.items():
        for m, r in methods.items():
            [row] = [w for w in rows if (w["gallery"], w["queries"]) == (gallery, queries)
                     and w["form"] == (m.form or "") and w["lambda"] == (f"{m.lam:g}" if m.form else "")]
            assert row["R1"] == f"{100 * r.r1:.1f}" and row["mAP"] == f"{100 * r.mAP:.1f}"


def test_bf16_test_features_are_close_to_fp32_and_cached_apart(trained_pair):
    """eval.precision=bf16 runs the network under bf16 autocast: its features differ from
    fp32's (so bf16 really ran) but stay close, and the two never share a cache entry."""
    records = evaluate.Protocol.load(trained_pair.protocol).query
    model = evaluate.read_trained_model(trained_pair.bf)
    feats = {}
    for precision in ("fp32", "bf16"):
        embed = evaluate._Embedder(model, "bicubic", EvalConfig(precision=precision), "cpu", False)
        feats[precision] = embed("query", records)
    diff = (feats["fp32"] - feats["bf16"]).abs().max().item()
    assert 0 < diff < 0.05
    cos = torch.nn.functional.cosine_similarity(feats["fp32"], feats["bf16"], dim=1)
    assert cos.min().item() > 0.99


def test_chosen_rows_line_up_across_splits_that_chose_differently():
    """Each split may choose another (form, λ); its row is the same, so a table over
    splits has one 'chosen on validation' row (a bug once keyed it by the choice)."""
    a = evaluate.Method("filter", 0.2, chosen=True, form_chosen=True)
    b = evaluate.Method("literal", 0.5, chosen=True, form_chosen=True)
    assert a.row == b.row and a.row.label == "B-F+RFD (form and λ chosen on validation)"
    one = evaluate.Method("filter", 0.2, chosen=True)
    assert one.row == evaluate.Method("filter", 0.5, chosen=True).row != a.row
    assert evaluate.Method("filter", 0.2).row == evaluate.Method("filter", 0.2)
