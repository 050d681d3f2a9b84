"""Boundary tables for the NPS arithmetic (DESIGN.md "Scoring rules")."""

import math

import pytest

from npsloop.scoring import Category, Counts, change_is_significant, classify, margin_of_error, nps


@pytest.mark.parametrize(
    ("score", "category"),
    [
        (0, Category.DETRACTOR),
        (6, Category.DETRACTOR),
        (7, Category.PASSIVE),
        (8, Category.PASSIVE),
        (9, Category.PROMOTER),
        (10, Category.PROMOTER),
    ],
)
def test_classify_boundaries(score, category):
    assert classify(score) is category


@pytest.mark.parametrize("bad", [-1, 11, 7.5, "9", None, True])
def test_classify_rejects_what_is_not_a_score(bad):
    with pytest.raises(ValueError):
        classify(bad)


def test_no_responses_gives_null_not_zero():
    assert nps(0, 0, 0) is None
    assert margin_of_error(0, 0, 0) is None
    assert Counts().standard_error is None


@pytest.mark.parametrize(
    ("p", "pa", "d", "expected"),
    [(1, 0, 0, 100.0), (0, 0, 1, -100.0), (0, 5, 0, 0.0), (5, 3, 2, 30.0), (50, 30, 20, 30.0)],
)
def test_nps_from_counts(p, pa, d, expected):
    assert nps(p, pa, d) == pytest.approx(expected)


def test_margin_by_hand():
    # 50 promoters, 30 passives, 20 detractors: p = .5, d = .2, n = 100
    # variance = (.5 + .2) - (.5 - .2)^2 = .7 - .09 = .61; SE = 100 * sqrt(.61 / 100) = 7.8102...
    assert Counts(50, 30, 20).standard_error == pytest.approx(7.810249675906654)
    assert margin_of_error(50, 30, 20) == pytest.approx(1.96 * 7.810249675906654)  # 15.308...
    # 10 responses, 5/3/2: variance .61, SE = 100 * sqrt(.061) = 24.6981781...; margin 48.40843...
    assert margin_of_error(5, 3, 2) == pytest.approx(1.96 * 24.698178070456937, rel=1e-12)


def test_unanimous_answers_have_no_spread():
    assert margin_of_error(7, 0, 0) == 0.0
    assert margin_of_error(0, 4, 0) == 0.0


def test_significance_uses_both_standard_errors():
    before, after = Counts(50, 30, 20), Counts(70, 20, 10)
    se1, se2 = before.standard_error, after.standard_error
    threshold = 1.96 * math.sqrt(se1**2 + se2**2)  # 30 -> 60, delta 30 vs threshold ~ 20.4
    assert after.nps - before.nps > threshold
    assert change_is_significant(before, after) is True
    assert change_is_significant(Counts(5, 3, 2), Counts(6, 2, 2)) is False
    assert change_is_significant(Counts(), after) is None
