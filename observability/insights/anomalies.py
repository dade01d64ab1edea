"""Spikes in cost, p95 latency, error rate and fallback rate against a rolling baseline.

Read from the call rollups (per minute for ranges up to a day, per hour beyond), summed over
every provider and model: cost per bucket, p95 from the latency histogram, errors per call,
fallbacks per router attempt. Each bucket is scored against the ``baseline_buckets`` buckets
before it with a robust z-score, ``(value − median) / (IQR / 1.349)``: the median and the
interquartile range of the baseline are not moved by the spikes themselves (one shorter than a
quarter of the baseline moves neither), unlike a mean and a standard deviation. The scale has a
floor (5 % of the median, or one point for rates) so a flat baseline does not turn noise into
alarms. A bucket with fewer than ``min_requests`` calls has no value, and one with fewer than
five valued buckets before it no baseline: quiet periods do not alarm. Consecutive anomalous
buckets make one incident, measured against the baseline at its start ("p95 3.4× its baseline
for 12 min"), with a link to the traces of its window. Only rises count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from observability.queries import Window, answering, histogram_percentile
from observability.store.schema import DURATION_BINS, rollup_hour, rollup_minute

MINUTE_GRAIN_UP_TO = timedelta(days=1)
IQR_SCALE = 1.349
"""The interquartile range of a normal distribution in standard deviations."""
MIN_BASELINE = 5
"""Normal buckets needed before a bucket can be judged."""
RECENT_BUCKETS = 5
"""A signal's state is its last judged bucket's, if that is among the last five; else no data."""


class State(StrEnum):
    """How a metric, budget or incident stands."""

    OK = "ok"
    WARNING = "warning"
    ALERT = "alert"
    NO_DATA = "no data"


class Signal(StrEnum):
    """What the detector watches."""

    COST = "cost"
    P95_LATENCY = "p95 latency"
    ERROR_RATE = "error rate"
    FALLBACK_RATE = "fallback rate"

    @property
    def is_rate(self) -> bool:
        """A share of calls (shown in %, with an absolute floor on its scale)."""
        return self in (Signal.ERROR_RATE, Signal.FALLBACK_RATE)


@dataclass(frozen=True)
class AnomalyPolicy:
    """How sensitive the detector is (``INSIGHTS__ANOMALY_*``)."""

    min_requests: int = 20
    baseline_buckets: int = 60
    warning_z: float = 3.5
    alert_z: float = 6.0


@dataclass(frozen=True)
class Incident:
    """A run of anomalous buckets of one signal."""

    signal: Signal
    state: State
    start: datetime
    end: datetime
    peak: float
    baseline: float
    requests: int

    @property
    def minutes(self) -> int:
        """How long it lasted, in whole minutes."""
        return max(round((self.end - self.start).total_seconds() / 60), 1)

    @property
    def size(self) -> str:
        """ "p95 3.4× its baseline for 12 min" (rates: "31 % against a baseline of 0.4 %")."""
        duration = _duration(self.minutes)
        if self.signal.is_rate:
            return (
                f"{self.signal.value} {self.peak:.1%} against a baseline of {self.baseline:.1%} "
                f"for {duration}"
            ).replace("%", " %")
        name = "p95" if self.signal is Signal.P95_LATENCY else self.signal.value
        if self.baseline > 0:
            return f"{name} {self.peak / self.baseline:.1f}× its baseline for {duration}"
        return f"{name} {_value(self.signal, self.peak)} against none before, for {duration}"

    @property
    def traces_link(self) -> str:
        """The Traces page filtered to the incident's window."""
        return traces_link(self.start, self.end)


@dataclass(frozen=True)
class SignalStatus:
    """One signal now, and its incidents in the window."""

    signal: Signal
    state: State
    latest: float
    baseline: float
    incidents: tuple[Incident, ...]


def traces_link(start: datetime, end: datetime) -> str:
    """``/traces?start=…&end=…`` (ISO times, UTC) for the Traces page."""
    return "/traces?" + urlencode({"start": start.isoformat(), "end": end.isoformat()})


def detect_anomalies(
    engine: Engine, window: Window, policy: AnomalyPolicy | None = None
) -> list[SignalStatus]:
    """Each signal's state at the end of ``window`` and its incidents inside it."""
    policy = policy or AnomalyPolicy()
    frame, step = read_buckets(engine, window, policy)
    return [_judge(signal, frame, step, window, policy) for signal in Signal]


def read_buckets(
    engine: Engine, window: Window, policy: AnomalyPolicy
) -> tuple[pd.DataFrame, timedelta]:
    """One row per bucket from the baseline's start to the window's end (empty buckets too):
    requests and each signal's value (NaN where it has no value)."""
    minute = window.end - window.start <= MINUTE_GRAIN_UP_TO
    table, step = (
        (rollup_minute, timedelta(minutes=1)) if minute else (rollup_hour, timedelta(hours=1))
    )
    first = _floor(window.start, step) - step * policy.baseline_buckets
    sums = [
        func.sum(table.c[n]).label(n)
        for n in ("requests", "errors", "cost_usd", "attempts", "fallbacks")
    ]
    bins = [func.sum(table.c[b]).label(b) for b in DURATION_BINS]
    query = (
        select(table.c.bucket, *sums, *bins)
        .where(table.c.bucket >= first, table.c.bucket < window.end)
        .group_by(table.c.bucket)
    )
    with answering(), engine.connect() as conn:
        result = conn.execute(query)
        raw = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    index = pd.date_range(first, _floor(window.end - timedelta(microseconds=1), step), freq=step)
    if raw.empty:
        frame = pd.DataFrame(0.0, index=index, columns=["requests"])
    else:
        raw["bucket"] = pd.to_datetime(raw["bucket"], utc=True)
        frame = raw.set_index("bucket").astype(float).reindex(index, fill_value=0.0)
    return _signals(frame), step


def _signals(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["requests"] = frame["requests"]
    if "cost_usd" not in frame:
        for signal in Signal:
            out[signal.value] = np.nan
        return out
    calls = frame["requests"].where(frame["requests"] > 0)
    out[Signal.COST.value] = frame["cost_usd"]
    out[Signal.ERROR_RATE.value] = frame["errors"] / calls
    attempts = frame["attempts"].where(frame["attempts"] > 0)
    out[Signal.FALLBACK_RATE.value] = frame["fallbacks"] / attempts
    histograms = frame[list(DURATION_BINS)].to_numpy()
    out[Signal.P95_LATENCY.value] = [histogram_percentile(row, 0.95) for row in histograms]
    return out


def _judge(
    signal: Signal, frame: pd.DataFrame, step: timedelta, window: Window, policy: AnomalyPolicy
) -> SignalStatus:
    judged = frame["requests"] >= policy.min_requests
    values = frame[signal.value].where(judged)
    history = values.shift(1).rolling(policy.baseline_buckets, min_periods=MIN_BASELINE)
    median = history.median()
    spread = history.quantile(0.75) - history.quantile(0.25)
    floor = 0.01 if signal.is_rate else 0.05
    scale = np.maximum(spread / IQR_SCALE, floor if signal.is_rate else floor * median.abs())
    z = (values - median) / np.maximum(scale, 1e-12)
    states = np.where(
        z >= policy.alert_z, 2, np.where(z >= policy.warning_z, 1, np.where(z.notna(), 0, -1))
    )
    incidents: list[Incident] = []
    run: list[tuple[datetime, float, State, int]] = []
    run_baseline = 0.0
    rows = zip(frame.index.to_pydatetime(), values, median, states, frame["requests"], strict=True)
    for moment, value, base, code, calls in rows:
        if code > 0:
            if not run:
                run_baseline = float(base)
            run.append(
                (moment, float(value), State.ALERT if code == 2 else State.WARNING, int(calls))
            )
        elif run:
            _close(run, run_baseline, signal, step, window, incidents)
    _close(run, run_baseline, signal, step, window, incidents)
    recent = np.flatnonzero(states[-RECENT_BUCKETS:] >= 0)
    if not recent.size:
        return SignalStatus(signal, State.NO_DATA, float("nan"), float("nan"), tuple(incidents))
    last = (
        len(states) - RECENT_BUCKETS + int(recent[-1])
        if len(states) >= RECENT_BUCKETS
        else int(recent[-1])
    )
    state = (State.OK, State.WARNING, State.ALERT)[int(states[last])]
    return SignalStatus(
        signal, state, float(values.iloc[last]), float(median.iloc[last]), tuple(incidents)
    )


def _close(
    run: list[tuple[datetime, float, State, int]],
    baseline: float,
    signal: Signal,
    step: timedelta,
    window: Window,
    incidents: list[Incident],
) -> float:
    """Turn an open run of anomalous buckets into an incident (if it touches the window)."""
    if not run:
        return baseline
    start, end = run[0][0], run[-1][0] + step
    if end > window.start:
        worst = State.ALERT if any(s is State.ALERT for _, _, s, _ in run) else State.WARNING
        peak = max(v for _, v, _, _ in run)
        incidents.append(
            Incident(signal, worst, start, end, peak, baseline, sum(c for *_, c in run))
        )
    run.clear()
    return 0.0


def _floor(moment: datetime, step: timedelta) -> datetime:
    seconds = step.total_seconds()
    return datetime.fromtimestamp(moment.timestamp() // seconds * seconds, moment.tzinfo)


def _duration(minutes: int) -> str:
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _value(signal: Signal, value: float) -> str:
    if signal is Signal.COST:
        return f"${value:.4f}"
    return f"{value / 1000:.2f} s"
