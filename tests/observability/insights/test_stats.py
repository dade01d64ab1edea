"""The tests behind the verdicts hold their stated rates: about 5 % false alarms under no
difference, and the power the sample-size calculation promises under a real one."""

from __future__ import annotations

import numpy as np
import pytest

from observability.insights import stats

RUNS = 400


def test_rate_test_false_alarm_rate_is_near_alpha() -> None:
    rng = np.random.default_rng(11)
    alarms = sum(
        stats.compare_rates(
            (int(rng.binomial(300, 0.85)), 300), (int(rng.binomial(300, 0.85)), 300), 0.05
        ).p_value
        < 0.05
        for _ in range(RUNS)
    )

    assert 0.02 <= alarms / RUNS <= 0.08


def test_welch_false_alarm_rate_is_near_alpha_on_skewed_costs() -> None:
    rng = np.random.default_rng(12)
    alarms = sum(
        stats.compare_means(rng.lognormal(0, 0.8, 200), rng.lognormal(0, 0.8, 200), 0.05).p_value
        < 0.05
        for _ in range(RUNS)
    )

    assert 0.02 <= alarms / RUNS <= 0.08


def test_sample_size_gives_the_promised_power() -> None:
    rng = np.random.default_rng(13)
    needed = stats.sample_needed_rate(0.80, 0.10, 0.05, 0.8)
    found = sum(
        stats.compare_rates(
            (int(rng.binomial(needed, 0.80)), needed),
            (int(rng.binomial(needed, 0.88)), needed),
            0.05,
        ).p_value
        < 0.05
        for _ in range(RUNS)
    )

    assert needed == pytest.approx(330, abs=40)
    assert 0.72 <= found / RUNS <= 0.88


def test_intervals_cover_the_true_value() -> None:
    rng = np.random.default_rng(14)
    values = rng.normal(10, 2, 400)

    mean = stats.mean_estimate(values, 0.05)
    p95 = stats.quantile_estimate(values, 0.95, 0.05)
    rate = stats.rate_estimate(84, 100, 0.05)

    assert mean.low < 10 < mean.high
    assert p95.low < 10 + 1.645 * 2 < p95.high
    assert rate.low < 0.84 < rate.high and rate.high < 1
