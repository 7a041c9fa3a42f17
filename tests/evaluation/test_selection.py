"""Choosing the reading of eq. 8 and λ on validation ids: each rule against curves whose
answer is known by construction."""

import pytest

from rfdreid.errors import ReIDError
from rfdreid.evaluation.selection import BF, PRIOR, candidates, choose


def test_candidates_count_lambda_zero_once():
    assert candidates(["filter", "literal"], [0.0, 0.5, 0.1, 0.1]) == [
        BF, ("filter", 0.1), ("filter", 0.5), ("literal", 0.1), ("literal", 0.5)]


CURVES = {  # single: literal 0.5 best by a hair; multi: B-F best; pooled: filter 0.1
    "single": {BF: 10.0, ("filter", 0.1): 12.0, ("literal", 0.5): 12.5},
    "multi": {BF: 14.0, ("filter", 0.1): 13.9, ("literal", 0.5): 11.0},
}


def test_per_gallery_takes_each_gallery_best():
    assert choose(CURVES, "per-gallery") == {"single": ("literal", 0.5), "multi": BF}


def test_pooled_takes_the_best_mean_for_every_gallery():
    # means: B-F 12.0, filter 0.1 12.95, literal 0.5 11.75
    assert choose(CURVES, "pooled") == {"single": PRIOR, "multi": PRIOR}


def test_prior_leaves_the_paper_only_beyond_the_margin():
    curves = {"single": {BF: 10.0, PRIOR: 12.0, ("literal", 1.0): 13.5}}
    assert choose(curves, "prior", margin=1.0) == {"single": ("literal", 1.0)}
    assert choose(curves, "prior", margin=2.0) == {"single": PRIOR}
    with pytest.raises(ReIDError, match="prior"):
        choose({"single": {BF: 1.0, ("literal", 1.0): 2.0}}, "prior")


def test_ties_go_to_the_smaller_lambda_then_the_filter_reading():
    tie = {"g": {BF: 5.0, ("filter", 0.1): 5.0, ("literal", 0.1): 5.0}}
    assert choose(tie, "per-gallery") == {"g": BF}
    tie["g"][BF] = 4.0
    assert choose(tie, "per-gallery") == {"g": ("filter", 0.1)}


def test_bad_rule_and_empty_curves_are_refused():
    with pytest.raises(ReIDError, match="unknown selection rule"):
        choose(CURVES, "best")
    with pytest.raises(ReIDError, match="no validation scores"):
        choose({}, "pooled")
