"""Small, dependency-free statistics for success rates: Wilson intervals, Fisher's exact test, Holm.

Everything here works on counts (successes out of episodes), the only thing a success-rate benchmark
measures. Exact integer arithmetic (``math.comb``) keeps the tests reproducible to the last digit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    Chosen over the normal (Wald) interval because benchmark rates sit near 0 or 1 with 10-100 episodes,
    where Wald collapses to zero width. ``n == 0`` gives the uninformative interval (0, 1).
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes!r}, n={n!r}")
    if n == 0:
        return (0.0, 1.0)
    z = _z(confidence)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # Clamp float round-off at the ends (p = 0 or 1 give exactly 0 / 1 in exact arithmetic).
    return (max(0.0, centre - half), min(1.0, centre + half))


def fisher_exact_less(a_succ: int, a_n: int, b_succ: int, b_n: int) -> float:
    """One-sided Fisher exact p-value for H1: rate(a) < rate(b).

    Conditional on the total number of successes, the successes of ``a`` follow a hypergeometric law;
    the p-value is P(X <= a_succ). Exact, so valid for the small per-task counts of a benchmark.
    """
    for name, s, n in (("a", a_succ, a_n), ("b", b_succ, b_n)):
        if n < 0 or s < 0 or s > n:
            raise ValueError(f"bad counts for {name}: successes={s!r}, n={n!r}")
    total_s = a_succ + b_succ
    total_n = a_n + b_n
    if a_n == 0 or b_n == 0:
        return 1.0
    denom = math.comb(total_n, a_n)
    lo = max(0, total_s - b_n)
    num = sum(math.comb(total_s, x) * math.comb(total_n - total_s, a_n - x) for x in range(lo, a_succ + 1))
    return min(1.0, num / denom)


def holm_adjust(pvalues: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (family-wise error control, valid under any dependence)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), None for no values."""
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile q must be in [0, 100], got {q!r}")
    pos = (len(vals) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def sign_test_less(losses: int, gains: int) -> float:
    """One-sided exact sign test (McNemar's exact test) on paired pass/fail outcomes, H1: the run succeeds less
    often than the reference on the same episodes.

    losses: pairs the reference solved and the run did not; gains: the reverse (concordant pairs carry no
    information). p = P(X >= losses) for X ~ Binomial(losses + gains, 1/2); 1.0 without a discordant pair.
    """
    if losses < 0 or gains < 0:
        raise ValueError(f"need losses >= 0 and gains >= 0, got {losses!r}, {gains!r}")
    n = losses + gains
    if n == 0:
        return 1.0
    return sum(math.comb(n, k) for k in range(losses, n + 1)) / 2**n


def mcnemar_exact(gains: int, losses: int) -> float:
    """Two-sided exact McNemar test on paired pass/fail outcomes: H0, neither side succeeds more often.

    gains: pairs only the compared side solved; losses: pairs only the baseline solved. p = 2 P(X <= min) for
    X ~ Binomial(gains + losses, 1/2), capped at 1; 1.0 without a discordant pair.
    """
    if losses < 0 or gains < 0:
        raise ValueError(f"need gains >= 0 and losses >= 0, got {gains!r}, {losses!r}")
    n = gains + losses
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(n, k) for k in range(min(gains, losses) + 1)) / 2**n)


#: Resamples of the paired bootstrap; its seed is fixed so a comparison's interval is the same on every rerun.
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def paired_bootstrap_mean(diffs: Sequence[float], confidence: float = 0.95, resamples: int = BOOTSTRAP_RESAMPLES,
                          seed: int = BOOTSTRAP_SEED) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean of paired differences (resampling the pairs); None for no pair."""
    if not diffs:
        return None
    import random

    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    lo = means[int(math.floor((1 - confidence) / 2 * (resamples - 1)))]
    hi = means[int(math.ceil((1 + confidence) / 2 * (resamples - 1)))]
    return lo, hi


def min_detectable_drop(ref_successes: int, ref_n: int, alpha: float, paired: bool, family: int = 1) -> int | None:
    """The power of the one-sided test at the reference's size: the fewest successes a run of the same ``ref_n``
    episodes must lose (gaining none) for the test to reject at ``alpha / family`` (Holm's first step over
    ``family`` tests); None when even losing every reference success is not significant.

    paired: the sign test (same seeds on both sides), else Fisher's exact test.
    """
    if not 0.0 < alpha < 1.0 or family < 1:
        raise ValueError(f"need 0 < alpha < 1 and family >= 1, got alpha={alpha!r}, family={family!r}")
    for k in range(1, ref_successes + 1):
        p = sign_test_less(k, 0) if paired else fisher_exact_less(ref_successes - k, ref_n, ref_successes, ref_n)
        if min(1.0, family * p) < alpha:
            return k
    return None
