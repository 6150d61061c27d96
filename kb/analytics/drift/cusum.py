"""Poisson CUSUM: Markov-chain ARL, thresholds for the false-alarm budget, Lucas's reference value."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from kb.analytics.drift.model import _single_thread

# -- Poisson CUSUM ---------------------------------------------------------------------------------


def _resolution(mu0: float) -> int:
    """Return the grid steps per count unit for the Markov chain (finer for small means)."""
    # k is rounded to 1/m; 1/m relative to the noise sqrt(mu0) stays below ~0.1 while the chain
    # keeps a few hundred states even for large means.
    return int(min(20, max(2, round(20 / math.sqrt(max(mu0, 1.0))))))


def _poisson_pmf(mu: float, n: int) -> np.ndarray:
    from scipy.stats import poisson

    return poisson.pmf(np.arange(n + 1), mu)


def cusum_arl(mu: float, k: float, h: float, *, resolution: int | None = None) -> float:
    """Return the average run length of a Poisson CUSUM (S = max(0, S + x - k), signal when S > h)."""
    m = resolution or _resolution(mu)
    big_k = int(round(k * m))
    n_states = int(math.floor(h * m + 1e-9)) + 1  # S = 0, 1/m, ..., h
    xmax = (n_states - 1 + big_k) // m
    pmf = _poisson_pmf(mu, xmax)
    q = np.zeros((n_states, n_states))
    i = np.arange(n_states)
    for x in range(xmax + 1):
        j = i + m * x - big_k
        ok = j < n_states  # j >= n_states: S > h, the chain is absorbed (a signal)
        np.add.at(q, (i[ok], np.maximum(j[ok], 0)), pmf[x])
    arl = np.linalg.solve(np.eye(n_states) - q, np.ones(n_states))
    return float(arl[0])


@lru_cache(maxsize=8192)
def _calibrate_cached(mus: tuple[float, ...], k: float, target_arl: float, m: int) -> float:
    # The chance-signal rate at h is the mean of 1/ARL over the plausible in-control means; it falls
    # as h grows, so search the chain's grid for the smallest h that meets 1 / target_arl.
    def ok(big_n: int) -> bool:
        rate = float(np.mean([1.0 / cusum_arl(mu, k, big_n / m, resolution=m) for mu in mus]))
        return rate <= 1.0 / target_arl

    lo, hi = 0, m
    while not ok(hi):
        lo, hi = hi, hi * 2
        if hi > 400 * m:
            return hi / m
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi / m


def plausible_means(count: float, periods: float, *, n_points: int = 9) -> tuple[float, ...]:
    """Return quantiles of the Jeffreys posterior of a Poisson mean given count events in periods."""
    from scipy.stats import gamma

    qs = (np.arange(n_points) + 0.5) / n_points
    vals = gamma.ppf(qs, count + 0.5, scale=1.0 / max(periods, 1e-9))
    return tuple(float(round(max(v, 1e-3), 6)) for v in vals)


@_single_thread
def calibrate_h(
    mu0: float, k: float, target_arl: float, *, baseline: tuple[float, float] | None = None
) -> float:
    """Return the smallest h (on the chain's grid) whose in-control ARL is at least target_arl.

    With baseline = (events, periods) the baseline mean is an estimate, so the chance-signal rate
    (1/ARL) is averaged over the mean's plausible values (Jeffreys posterior quantiles) instead of
    taken at mu0 alone: an estimated mu0 that happens to be low would otherwise inflate alarms.
    """
    m = _resolution(mu0)
    k_grid = round(k * m) / m
    mus = (round(mu0, 6),) if baseline is None else plausible_means(*baseline)
    return _calibrate_cached(mus, k_grid, float(target_arl), m)


def cusum_reference(mu0: float, mu1: float) -> float:
    """Return Lucas's reference value k = (mu1 - mu0) / (ln mu1 - ln mu0)."""
    return (mu1 - mu0) / (math.log(mu1) - math.log(mu0))


def family_arl(n_clusters: int, periods_per_year: float, false_alarms_per_year: float) -> float:
    """Return the per-cluster in-control ARL that gives this many chance signals per year in total."""
    # n clusters each signalling by chance once per ARL periods give n * ppy / ARL signals a year.
    return max(1, n_clusters) * periods_per_year / false_alarms_per_year
