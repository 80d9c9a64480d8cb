"""Small statistics the evaluations share: binomial confidence intervals."""

from __future__ import annotations

import math

# Two-sided 95%: the standard normal quantile 0.975 (no scipy in the dependencies).
Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    Chosen over the normal approximation because error rates here are small (FPIR near
    0.01) and groups can be small: Wilson stays inside [0, 1] and is not zero-width at 0.
    With n == 0 the proportion is unknown: (0.0, 1.0).
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes}/{n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # Exact bounds at the edges (rounding can leave 1e-17 instead of 0).
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def ratio_max_min(values: list[float]) -> float | None:
    """Highest over lowest value; None when there are none or the lowest is 0 (undefined)."""
    if not values:
        return None
    low = min(values)
    if low <= 0:
        return None
    return max(values) / low
