"""Distances, the RFD fusion (eq. 7-8) and the chunked feature evaluator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rfdreid.errors import ReIDError
from rfdreid.evaluation import (
    cosine_similarity,
    euclidean_distance,
    evaluate_features,
    rank_result,
    rfd_distance,
)
from rfdreid.evaluation.distance import l2_normalise


def _features(seed: int, q: int = 40, g: int = 150, dim: int = 16, rdim: int = 4):
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    return (
        torch.randn(q, dim, generator=gen), torch.randn(g, dim, generator=gen),
        rng.integers(0, 10, q), rng.integers(0, 10, g), rng.integers(0, 3, q), rng.integers(0, 3, g),
        torch.randn(q, rdim, generator=gen), torch.randn(g, rdim, generator=gen),
    )


def test_euclidean_matches_cdist_and_is_safe() -> None:
    qf, gf = torch.randn(30, 64) * 10, torch.randn(50, 64) * 10
    d = euclidean_distance(qf, gf)
    assert d.dtype == torch.float32 and d.shape == (30, 50)
    torch.testing.assert_close(d, torch.cdist(qf.double(), gf.double()).float(), rtol=1e-4, atol=1e-3)
    self_d = euclidean_distance(gf, gf.numpy())  # arrays accepted too
    assert torch.isfinite(self_d).all() and (self_d >= 0).all()
    assert self_d.diagonal().max() < 1e-2 * gf.norm(dim=1).mean()


def test_cosine_is_eq7() -> None:
    qr, gr = torch.randn(5, 8), torch.randn(7, 8)
    expected = torch.nn.functional.cosine_similarity(qr[:, None], gr[None], dim=2)
    torch.testing.assert_close(cosine_similarity(qr, gr), expected)
    assert cosine_similarity(torch.zeros(1, 8), gr).abs().max() == 0  # no NaN on zero rows


def test_rfd_forms_on_hand_made_numbers() -> None:
    """literal: D = D_f - lam * cos; filter: D = D_f - lam * (1 - cos). Worked by hand."""
    d_f = torch.tensor([[1.0, 2.0]])
    cos = torch.tensor([[1.0, -0.5]])
    assert torch.equal(rfd_distance(d_f, cos, 0.1, "literal"), torch.tensor([[0.9, 2.05]]))
    # filter: 1.0 - 0.1 * 0 = 1.0 ; 2.0 - 0.1 * 1.5 = 1.85
    torch.testing.assert_close(rfd_distance(d_f, cos, 0.1, "filter"), torch.tensor([[1.0, 1.85]]))
    for form in ("literal", "filter"):
        assert torch.equal(rfd_distance(d_f, cos, 0.0, form), d_f)
    with pytest.raises(ReIDError, match="literal, filter"):
        rfd_distance(d_f, cos, 0.1, "cosine")


def test_default_is_the_filter_reading_with_the_papers_lambda() -> None:
    d_f, cos = torch.rand(4, 6), torch.rand(4, 6) * 2 - 1
    torch.testing.assert_close(rfd_distance(d_f, cos), d_f - 0.1 * (1 - cos))


def test_the_two_forms_rank_in_opposite_directions() -> None:
    """A query (pid 1, cam 0) and two gallery images in camera 1.

    g0 is another person (pid 2) at another resolution; g1 is the same person at the query's
    resolution. By identity features g0 is slightly closer (D_f 1.00 < 1.05): B-F puts the
    wrong person first. Resolution cosine: cos(q, g0) = 0, cos(q, g1) = 1.
    literal, lam = 0.1: g0 -> 1.00 - 0 = 1.00, g1 -> 1.05 - 0.1 = 0.95: same resolution
    pulled closer, rank-1 right. filter: g0 -> 1.00 - 0.1 = 0.90, g1 -> 1.05 - 0 = 1.05:
    same resolution pushed away, rank-1 stays wrong.
    """
    qf = torch.tensor([[0.0, 0.0]])
    gf = torch.tensor([[1.0, 0.0], [0.0, 1.05]])  # D_f: g0 1.00 (wrong pid), g1 1.05 (match)
    qr = torch.tensor([[1.0, 0.0]])
    gr = torch.tensor([[0.0, 1.0], [1.0, 0.0]])  # D_r: g0 0 (other resolution), g1 1 (same)
    labels = (np.array([1]), np.array([2, 1]), np.array([0]), np.array([1, 1]))
    res = evaluate_features(qf, gf, *labels, qr=qr, gr=gr, lambdas=(0.0, 0.1), max_rank=2,
                            form="literal")
    assert res[0.0].r1 == 0.0  # B-F: 1.00 < 1.05, the wrong person first
    assert res[0.1].r1 == 1.0  # literal: g0 1.00 - 0 = 1.00 > g1 1.05 - 0.1 = 0.95
    assert res[0.1].mAP == 1.0 and res[0.0].mAP == 0.5
    flt = evaluate_features(qf, gf, *labels, qr=qr, gr=gr, lambdas=(0.1,), max_rank=2,
                            form="filter")
    assert flt[0.1].r1 == 0.0  # filter: g0 0.90 < g1 1.05
    # Penalising resolution similarity helps when the impostor shares the resolution.
    gr_swapped = gr.flip(0)
    assert evaluate_features(qf, gf, *labels, qr=qr, gr=gr_swapped, lambdas=(0.1,),
                             max_rank=2, form="filter")[0.1].r1 == 1.0


@pytest.mark.parametrize("chunk_size", [1, 7, 40, 1000])
def test_chunked_equals_full_matrix(chunk_size: int) -> None:
    qf, gf, qp, gp, qc, gc, qr, gr = _features(chunk_size)
    lambdas = (0.0, 0.1, 0.5, -0.2)
    got = evaluate_features(qf, gf, qp, gp, qc, gc, qr=qr, gr=gr, lambdas=lambdas, max_rank=20,
                            chunk_size=chunk_size)
    assert list(got) == list(lambdas)
    d_f, d_r = euclidean_distance(qf, gf), cosine_similarity(qr, gr)
    for lam in lambdas:
        want = rank_result(rfd_distance(d_f, d_r, lam), qp, gp, qc, gc, max_rank=20)
        np.testing.assert_allclose(got[lam].cmc, want.cmc, atol=1e-6)
        assert got[lam].mAP == pytest.approx(want.mAP, abs=1e-6)
        assert got[lam].mINP == pytest.approx(want.mINP, abs=1e-6)
        assert got[lam].num_valid_queries == want.num_valid_queries


def test_evaluate_features_errors() -> None:
    qf, gf, qp, gp, qc, gc, qr, gr = _features(0)
    with pytest.raises(ReIDError, match="need resolution features"):
        evaluate_features(qf, gf, qp, gp, qc, gc, lambdas=(0.1,))
    with pytest.raises(ReIDError, match="both qr and gr"):
        evaluate_features(qf, gf, qp, gp, qc, gc, qr=qr)
    with pytest.raises(ReIDError, match="resolution features cover"):
        evaluate_features(qf, gf, qp, gp, qc, gc, qr=qr[:3], gr=gr, lambdas=(0.1,))
    with pytest.raises(ReIDError, match="dimension"):
        evaluate_features(qf, gf[:, :5], qp, gp, qc, gc)
    with pytest.raises(ReIDError, match="empty"):
        evaluate_features(qf, gf[:0], qp, gp[:0], qc, gc[:0])
    with pytest.raises(ReIDError, match="g_camids"):
        evaluate_features(qf, gf, qp, gp, qc, gc[:-1])


@pytest.mark.parametrize(("fn", "qname", "gname"), [
    (euclidean_distance, "qf", "gf"), (cosine_similarity, "qr", "gr")])
def test_shape_errors_name_the_argument_at_fault(fn, qname: str, gname: str) -> None:
    """A user passing one bad matrix must learn which one, in the names of eq. 7-8."""
    ok = np.zeros((3, 4), np.float32)
    with pytest.raises(ReIDError, match=rf"^{qname} must be a \[N, D\] feature matrix, got shape \(4,\)$"):
        fn(np.zeros(4), ok)
    with pytest.raises(ReIDError, match=rf"^{gname} must be a \[N, D\] feature matrix, got shape \(4,\)$"):
        fn(ok, np.zeros(4))
    with pytest.raises(ReIDError, match=rf"^{qname} has dimension 4 but {gname} has 5$"):
        fn(ok, np.zeros((2, 5), np.float32))


def test_evaluate_features_errors_say_exactly_what_is_wrong() -> None:
    """Each refusal names the matrix at fault and its real sizes (rows, not columns)."""
    qf, gf, qp, gp, qc, gc, qr, gr = _features(0)  # 40 x 16 / 150 x 16, resolution 4-d
    cases = [
        (dict(qf=qf[0]), r"qf must be a \[N, D\] feature matrix, got shape \(16,\)"),
        (dict(gf=gf[0]), r"gf must be a \[N, D\] feature matrix, got shape \(16,\)"),
        (dict(gf=gf[:, :5]), r"qf has dimension 16 but gf has 5"),
        (dict(qr=qr[0], gr=gr), r"qr must be a \[N, D\] feature matrix, got shape \(4,\)"),
        (dict(qr=qr, gr=gr[0]), r"gr must be a \[N, D\] feature matrix, got shape \(4,\)"),
        (dict(qr=qr, gr=gr[:, :3]), r"qr has dimension 4 but gr has 3"),
        (dict(qr=qr[:3], gr=gr[:7]),
         r"resolution features cover 3 queries / 7 gallery images, identity features 40 / 150"),
        (dict(lambdas=()), r"lambdas is empty; pass at least one \(0.0 = plain B-F\)"),
        (dict(qr=qr), r"pass both qr and gr \(resolution features of query and gallery\), or neither"),
    ]
    for change, message in cases:
        args = dict(qf=qf, gf=gf, qr=None, gr=None, lambdas=(0.0,)) | change
        with pytest.raises(ReIDError, match=rf"^{message}$"):
            evaluate_features(args["qf"], args["gf"], qp, gp, qc, gc, qr=args["qr"],
                              gr=args["gr"], lambdas=args["lambdas"])
    with pytest.raises(ReIDError, match=r"^D_f \(2, 3\) and D_r \(3, 2\) differ in shape$"):
        rfd_distance(torch.zeros(2, 3), torch.zeros(3, 2), 0.1)


def test_evaluate_features_reports_the_papers_cmc_length_by_default() -> None:
    qf, gf, qp, gp, qc, gc, _, _ = _features(1)
    assert len(evaluate_features(qf, gf, qp, gp, qc, gc)[0.0].cmc) == 50


def test_l2_normalise_scales_short_rows_up_and_keeps_zero_rows() -> None:
    x = torch.tensor([[0.3, 0.4], [0.0, 0.0], [6.0, 8.0]])
    torch.testing.assert_close(l2_normalise(x), torch.tensor([[0.6, 0.8], [0.0, 0.0], [0.6, 0.8]]))


def test_unknown_rfd_form_lists_the_readings() -> None:
    from rfdreid.evaluation.distance import check_rfd_form
    with pytest.raises(ReIDError, match=r"^unknown RFD form 'cos'; choose from literal, filter "
                                        r"\(see rfdreid.evaluation.distance\)$"):
        check_rfd_form("cos")
