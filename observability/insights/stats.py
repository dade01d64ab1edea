"""The statistics behind the experiment verdicts, from scipy and statsmodels.

Which test for which metric, and why:

- **Rates** (thumbs-up, escalation): each vote or conversation is a yes/no, so the difference
  of two proportions is tested with the two-proportion z-test
  (``statsmodels.stats.proportion.proportions_ztest``) and each rate gets a Wilson interval,
  which stays inside 0–100 % for small samples and rates near 0 or 1.
- **Cost per conversation and quality score**: what a decision needs is the *mean* (the bill is
  the mean times the conversations), and with variants of different spread the variances
  differ, so the means are compared with Welch's t-test (``scipy.stats.ttest_ind`` with
  ``equal_var=False``); with hundreds of conversations the mean is close to normal even though
  single costs are skewed.
- **Latency**: heavily right-skewed with a long tail, and what users feel is the typical call
  and the slow ones rather than the mean, so the distributions are compared with the
  Mann–Whitney U test (``scipy.stats.mannwhitneyu``), which needs no normality; p50 and p95 get
  distribution-free intervals from order statistics (``scipy.stats.quantile_test``).
- **Sample still needed**: ``statsmodels.stats.power`` — ``NormalIndPower`` on Cohen's h for
  rates, ``TTestIndPower`` on Cohen's d for means — for the smallest effect worth acting on
  (a relative change, ``INSIGHTS__MIN_EFFECT``) at the chosen power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)


@dataclass(frozen=True)
class Estimate:
    """A value with its confidence interval (NaN bounds when there is too little data)."""

    value: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class Comparison:
    """A candidate against the control on one metric."""

    test: str
    p_value: float
    relative_change: float
    """(candidate − control) / control; NaN when the control is 0."""
    change_low: float
    change_high: float
    """The interval of the relative change (NaN when not defined)."""


NAN = float("nan")
EMPTY = Estimate(NAN, NAN, NAN, 0)


def rate_estimate(successes: int, trials: int, alpha: float) -> Estimate:
    """A proportion with its Wilson interval."""
    if trials <= 0:
        return EMPTY
    low, high = proportion_confint(successes, trials, alpha=alpha, method="wilson")
    return Estimate(successes / trials, float(low), float(high), trials)


@dataclass(frozen=True)
class Moments:
    """A sample reduced to its size, mean and standard deviation (ddof 1): all a t interval,
    Welch's test and a sample-size calculation need, so a database can sum it up."""

    n: int
    mean: float
    sd: float

    @classmethod
    def of(cls, values: np.ndarray) -> Moments:
        """The moments of ``values``."""
        n = int(values.size)
        if n == 0:
            return cls(0, NAN, NAN)
        return cls(n, float(values.mean()), float(values.std(ddof=1)) if n > 1 else NAN)

    @classmethod
    def from_sums(cls, n: int, total: float, squares: float) -> Moments:
        """The moments from a count, a sum and a sum of squares."""
        if n == 0:
            return cls(0, NAN, NAN)
        mean = total / n
        variance = max(squares - n * mean * mean, 0.0) / (n - 1) if n > 1 else NAN
        return cls(n, mean, math.sqrt(variance) if n > 1 else NAN)


def mean_estimate(values: np.ndarray | Moments, alpha: float) -> Estimate:
    """A mean with its t interval."""
    m = values if isinstance(values, Moments) else Moments.of(values)
    if m.n == 0:
        return EMPTY
    if m.n < 2:
        return Estimate(m.mean, NAN, NAN, m.n)
    sem = m.sd / math.sqrt(m.n)
    if sem == 0:
        return Estimate(m.mean, m.mean, m.mean, m.n)
    low, high = stats.t.interval(1 - alpha, m.n - 1, loc=m.mean, scale=sem)
    return Estimate(m.mean, float(low), float(high), m.n)


def quantile_estimate(values: np.ndarray, q: float, alpha: float) -> Estimate:
    """The ``q`` quantile with a distribution-free interval from order statistics."""
    n = int(values.size)
    if n == 0:
        return EMPTY
    value = float(np.quantile(values, q))
    if n < 2:
        return Estimate(value, NAN, NAN, n)
    interval = stats.quantile_test(values, q=value, p=q).confidence_interval(1 - alpha)
    return Estimate(value, _finite(interval.low), _finite(interval.high), n)


def compare_rates(control: tuple[int, int], candidate: tuple[int, int], alpha: float) -> Comparison:
    """Two-proportion z-test of candidate against control ((successes, trials) each)."""
    (c_yes, c_n), (t_yes, t_n) = control, candidate
    if min(c_n, t_n) == 0:
        return Comparison("two-proportion z-test", NAN, NAN, NAN, NAN)
    p_c, p_t = c_yes / c_n, t_yes / t_n
    if c_yes + t_yes in (0, c_n + t_n):
        p_value = 1.0
    else:
        _, p = proportions_ztest([t_yes, c_yes], [t_n, c_n])
        p_value = float(p)
    z = stats.norm.ppf(1 - alpha / 2)
    spread = z * math.sqrt(p_c * (1 - p_c) / c_n + p_t * (1 - p_t) / t_n)
    change, low, high = _relative(p_t - p_c, spread, p_c)
    return Comparison("two-proportion z-test", p_value, change, low, high)


def compare_means(
    control: np.ndarray | Moments, candidate: np.ndarray | Moments, alpha: float
) -> Comparison:
    """Welch's t-test of candidate against control; the interval is Welch's for the difference
    of means (Welch–Satterthwaite degrees of freedom), divided by the control's mean."""
    c = control if isinstance(control, Moments) else Moments.of(control)
    t = candidate if isinstance(candidate, Moments) else Moments.of(candidate)
    if min(c.n, t.n) < 2:
        return Comparison("Welch's t-test", NAN, NAN, NAN, NAN)
    difference = t.mean - c.mean
    if c.sd == 0 and t.sd == 0:
        p_value = 1.0 if difference == 0 else 0.0
        return Comparison("Welch's t-test", p_value, *_relative(difference, 0.0, c.mean))
    result = stats.ttest_ind_from_stats(t.mean, t.sd, t.n, c.mean, c.sd, c.n, equal_var=False)
    a, b = t.sd**2 / t.n, c.sd**2 / c.n
    freedom = (a + b) ** 2 / (a**2 / (t.n - 1) + b**2 / (c.n - 1))
    spread = float(stats.t.ppf(1 - alpha / 2, freedom)) * math.sqrt(a + b)
    return Comparison(
        "Welch's t-test", float(result.pvalue), *_relative(difference, spread, c.mean)
    )


def compare_distributions(control: np.ndarray, candidate: np.ndarray, q: float) -> Comparison:
    """Mann–Whitney U test of candidate against control; the change is of the ``q`` quantiles."""
    if min(control.size, candidate.size) == 0:
        return Comparison("Mann–Whitney U", NAN, NAN, NAN, NAN)
    p_value = float(stats.mannwhitneyu(candidate, control, alternative="two-sided").pvalue)
    base = float(np.quantile(control, q))
    change = (float(np.quantile(candidate, q)) - base) / base if base else NAN
    return Comparison("Mann–Whitney U", p_value, change, NAN, NAN)


def sample_needed_rate(base_rate: float, min_effect: float, alpha: float, power: float) -> int:
    """Units per variant to detect a relative change of ``min_effect`` in a rate."""
    if not 0 < base_rate < 1:
        return 0
    target = min(max(base_rate * (1 + min_effect), 1e-6), 1 - 1e-6)
    effect = abs(float(proportion_effectsize(target, base_rate)))
    if effect == 0:
        return 0
    n = NormalIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0)
    return math.ceil(float(n))


def sample_needed_mean(
    mean: float, sd: float, min_effect: float, alpha: float, power: float
) -> int:
    """Units per variant to detect a relative change of ``min_effect`` in a mean."""
    if not (mean and sd and math.isfinite(sd)):
        return 0
    effect = abs(mean * min_effect / sd)
    n = TTestIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0)
    return math.ceil(float(n))


def _relative(difference: float, spread: float, base: float) -> tuple[float, float, float]:
    if not base:
        return NAN, NAN, NAN
    return (
        float(difference / base),
        float((difference - spread) / base),
        float((difference + spread) / base),
    )


def _finite(value: float) -> float:
    return float(value) if math.isfinite(value) else NAN
