"""Drift tests between a reference sample and a current one, vectorised with numpy/scipy.

One function per test, each on values already cleaned of nulls:

- numeric (float64 arrays, **sorted** once per column by the caller and shared by every
  test): ``ks`` (two-sample Kolmogorov-Smirnov: statistic and p-value, as
  ``scipy.stats.ks_2samp``'s "auto" method), ``wasserstein`` (first Wasserstein distance,
  divided by the reference's standard deviation, as Evidently's ``wasserstein`` test),
  and ``numeric_bins`` (Sturges bins over both samples) for ``psi`` and ``jensenshannon``;
- categorical (counts per category over the union of both samples' categories):
  ``chisquare`` (goodness of fit of the current counts to the reference's shares),
  ``psi`` (population stability index) and ``jensenshannon`` (Jensen-Shannon distance,
  natural log, as ``scipy.spatial.distance.jensenshannon``).

``TESTS`` describes each: its kind of score (a p-value, drift below the threshold; or a
distance, drift above it) and its default threshold. ``benjamini_hochberg`` adjusts
p-values for testing many columns at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "TESTS", "TestSpec", "benjamini_hochberg", "chisquare", "jensenshannon", "ks",
    "numeric_bins", "psi", "wasserstein",
]

EMPTY_SHARE = 0.0001  # a bin empty on one side counts as this share (Evidently's choice)
EXACT_KS_MAX = 10_000  # up to this many values per side, scipy's exact KS p-value


@dataclass(frozen=True)
class TestSpec:
    """A drift test: ``p_value`` tests flag drift when the score is below ``threshold``,
    distances when it is above."""

    name: str
    p_value: bool
    threshold: float
    kinds: tuple[str, ...]

    def drifted(self, score: float, threshold: float) -> bool:
        return score < threshold if self.p_value else score > threshold


TESTS: dict[str, TestSpec] = {
    spec.name: spec for spec in (
        TestSpec("ks", True, 0.05, ("numeric",)),
        TestSpec("chisquare", True, 0.05, ("categorical",)),
        TestSpec("wasserstein", False, 0.1, ("numeric",)),
        TestSpec("psi", False, 0.1, ("numeric", "categorical")),
        TestSpec("jensenshannon", False, 0.1, ("numeric", "categorical")),
    )
}


def ks(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """(D, p-value) of the two-sample KS test on sorted samples (two-sided): exact p-values
    for samples up to ``EXACT_KS_MAX`` (scipy computes them), else the asymptotic
    distribution scipy uses for large samples."""
    import numpy as np
    from scipy import stats

    n, m = len(reference), len(current)
    if max(n, m) <= EXACT_KS_MAX:
        result = stats.ks_2samp(reference, current)
        return float(result.statistic), float(result.pvalue)
    both = np.concatenate([reference, current])
    cdf_ref = np.searchsorted(reference, both, side="right") / n
    cdf_cur = np.searchsorted(current, both, side="right") / m
    d = float(np.max(np.abs(cdf_ref - cdf_cur)))
    en = n * m / (n + m)
    p = float(stats.distributions.kstwo.sf(d, np.round(en)))
    return d, min(max(p, 0.0), 1.0)


def wasserstein(reference: np.ndarray, current: np.ndarray, spread: float | None = None
                ) -> tuple[float, float]:
    """(W1, W1 / std(reference)) on sorted samples: the area between the two quantile
    functions, and that area in units of the reference's spread (at least 0.001;
    ``spread`` when the caller knows it already).

    The quantile functions step at i/n and j/m, in units of 1/(n*m) at the integers i*m
    and j*n. The interval that ends at a reference step i*m starts at the larger of the
    previous reference step and the last current step below it, ceil(i*m/n) - 1 steps
    of n; likewise for current steps. So the distance is two dot products over the
    sorted arrays, O(n + m), without merging them."""
    import numpy as np

    n, m = len(reference), len(current)
    if spread is None:
        spread = float(np.std(reference))
    if n == m:  # both quantile functions step together: the mean gap of the sorted samples
        distance = float(np.mean(np.abs(reference - current)))
        return distance, distance / max(spread, 0.001)
    i_m = np.arange(1, n + 1, dtype=np.float64) * m
    j_n = np.arange(1, m + 1, dtype=np.float64) * n
    below_i = np.ceil(i_m / n)  # current steps up to and including the one at i*m
    below_j = np.floor(j_n / m)  # reference steps at or below j*n (ties: reference first)
    widths_ref = i_m - np.maximum(i_m - m, (below_i - 1) * n)
    widths_cur = j_n - np.maximum(j_n - n, below_j * m)
    at_cur = below_i.astype(np.intp) - 1
    at_ref = np.minimum(below_j.astype(np.intp), n - 1)
    area = (np.dot(widths_ref, np.abs(reference - current[at_cur]))
            + np.dot(widths_cur, np.abs(reference[at_ref] - current)))
    distance = float(area) / (n * m)
    return distance, distance / max(spread, 0.001)


def numeric_bins(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of both sorted samples in Sturges bins over their joint range."""
    import numpy as np

    low = min(reference[0], current[0])
    high = max(reference[-1], current[-1])
    n = len(reference) + len(current)
    bins = int(np.ceil(np.log2(n))) + 1
    if high <= low:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    inner = edges[1:-1]  # the last bin is closed, as numpy.histogram's
    counts_ref = np.diff(np.searchsorted(reference, inner, side="left"), prepend=0,
                         append=len(reference))
    counts_cur = np.diff(np.searchsorted(current, inner, side="left"), prepend=0,
                         append=len(current))
    return counts_ref, counts_cur


def _shares(counts: np.ndarray) -> np.ndarray:
    import numpy as np

    total = counts.sum()
    shares = counts / total if total else np.zeros(len(counts))
    return np.where(shares == 0, EMPTY_SHARE, shares)


def psi(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """The population stability index of two count vectors over the same bins."""
    import numpy as np

    ref, cur = _shares(reference_counts), _shares(current_counts)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def jensenshannon(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """The Jensen-Shannon distance (natural log) of two count vectors over the same bins."""
    import numpy as np

    p, q = _shares(reference_counts), _shares(current_counts)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    divergence = (np.sum(p * np.log(p / m)) + np.sum(q * np.log(q / m))) / 2
    return float(np.sqrt(max(divergence, 0.0)))


def chisquare(reference_counts: np.ndarray, current_counts: np.ndarray) -> tuple[float, float]:
    """(statistic, p-value) of the current counts against the reference's shares. A
    category the reference never had makes the statistic infinite (p-value 0)."""
    import numpy as np
    from scipy import stats

    total_ref = reference_counts.sum()
    total_cur = current_counts.sum()
    expected = reference_counts / total_ref * total_cur
    if np.any((expected == 0) & (current_counts > 0)):
        return float("inf"), 0.0
    seen = expected > 0
    statistic = float(np.sum((current_counts[seen] - expected[seen]) ** 2 / expected[seen]))
    dof = max(int(seen.sum()) - 1, 1)
    return statistic, float(stats.chi2.sf(statistic, dof))


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (the false discovery rate's step-up), in order."""
    import numpy as np

    if not p_values:
        return []
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(len(p))
    out[order] = np.minimum(adjusted, 1.0)
    return [float(v) for v in out]
