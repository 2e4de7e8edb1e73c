"""Statistics against hand-computed values: Wilson intervals, one-sided Fisher exact, Holm, percentiles."""

import math

import pytest

from ahabench.stats import fisher_exact_less, holm_adjust, percentile, wilson_interval


@pytest.mark.parametrize("k,n,lo,hi", [
    # p=0.8, z=1.959964: centre (0.8 + z^2/20) / (1 + z^2/10) = 0.71674, half-width 0.22658.
    (8, 10, 0.49016, 0.94332),
    (0, 10, 0.0, 0.27753),      # upper = z^2/n / (1 + z^2/n) = 0.384146 / 1.384146
    (10, 10, 0.72247, 1.0),
    (50, 100, 0.40383, 0.59617),
    (1, 1, 0.20654, 1.0),
])
def test_wilson_hand_computed(k, n, lo, hi):
    got = wilson_interval(k, n)
    assert got[0] == pytest.approx(lo, abs=1e-5)
    assert got[1] == pytest.approx(hi, abs=1e-5)


def test_wilson_formula_direct():
    z = 1.959963984540054
    k, n = 3, 7
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert wilson_interval(k, n) == pytest.approx((c - h, c + h), abs=1e-12)


def test_wilson_edge_and_errors():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="successes=11"):
        wilson_interval(11, 10)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 2, confidence=1.5)


def test_fisher_one_sided_hand_computed():
    # run 5/10 vs reference 10/10: only x=5 is as extreme: C(15,5) C(5,5) / C(20,10) = 3003 / 184756.
    assert fisher_exact_less(5, 10, 10, 10) == pytest.approx(3003 / 184756, rel=1e-12)
    # equal counts are far from significant; better-than-reference is ~1.
    assert fisher_exact_less(9, 10, 9, 10) > 0.5
    assert fisher_exact_less(10, 10, 5, 10) == pytest.approx(1.0)
    # 2/4 vs 4/4: P(X<=2), total 6 of 8: C(6,2)C(2,2)/C(8,4) = 15/70.
    assert fisher_exact_less(2, 4, 4, 4) == pytest.approx(15 / 70)


def test_fisher_matches_scipy_when_available():
    stats = pytest.importorskip("scipy.stats")
    for a, an, b, bn in [(3, 20, 12, 20), (40, 100, 55, 100), (0, 5, 5, 5), (7, 9, 2, 11)]:
        ref = stats.fisher_exact([[a, an - a], [b, bn - b]], alternative="less").pvalue
        assert fisher_exact_less(a, an, b, bn) == pytest.approx(ref, rel=1e-9)


def test_holm_hand_computed():
    # sorted: 0.01*3 = 0.03; 0.03*2 = 0.06; 0.04*1 = 0.04 -> monotone max 0.06.
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm_adjust([]) == []


def test_percentile_linear():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10.0], 95) == 10.0
    assert percentile([None, 3.0, 1.0], 0) == 1.0
    assert percentile([], 50) is None


def test_mcnemar_exact_by_hand():
    from ahabench.stats import mcnemar_exact

    assert mcnemar_exact(0, 0) == 1.0
    # 5 gains, 0 losses: 2 * P(X <= 0) = 2 / 32
    assert mcnemar_exact(5, 0) == pytest.approx(2 / 32)
    # 3 vs 1: 2 * (1 + 4) / 16 = 0.625; symmetric
    assert mcnemar_exact(3, 1) == mcnemar_exact(1, 3) == pytest.approx(0.625)
    assert mcnemar_exact(2, 2) == 1.0


def test_paired_bootstrap_interval_is_seeded_and_covers_the_mean():
    from ahabench.stats import paired_bootstrap_mean

    diffs = [-1.0, -0.5, -0.8, -1.2, -0.9, -0.7]
    lo, hi = paired_bootstrap_mean(diffs)
    assert lo <= sum(diffs) / len(diffs) <= hi < 0  # every pair faster: the whole interval below 0
    assert paired_bootstrap_mean(diffs) == (lo, hi) and paired_bootstrap_mean([]) is None
    assert paired_bootstrap_mean([0.3]) == (0.3, 0.3)
