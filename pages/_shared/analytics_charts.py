"""The Analytics page's altair charts, each from one frame of ``observability.dashboard``."""

from __future__ import annotations

import altair as alt
import pandas as pd

HEIGHT = 240
TIME = alt.X("bucket:T", title=None)


def cost(frame: pd.DataFrame, group: str) -> alt.Chart:
    """Priced spend per bucket, stacked by ``group``."""
    return (
        alt.Chart(frame, title="Cost (USD, priced calls)")
        .mark_bar()
        .encode(
            x=TIME,
            y=alt.Y("sum(cost_usd):Q", title="USD", stack=True),
            color=alt.Color(f"{group}:N", title=group),
            tooltip=[
                alt.Tooltip("bucket:T"),
                f"{group}:N",
                alt.Tooltip("sum(cost_usd):Q", title="USD", format="$.4f"),
            ],
        )
        .properties(height=HEIGHT)
    )


def requests(frame: pd.DataFrame, group: str) -> alt.Chart:
    """LLM calls per bucket, one line per ``group``."""
    return (
        alt.Chart(frame, title="Requests")
        .mark_line()
        .encode(
            x=TIME,
            y=alt.Y("requests:Q", title="calls"),
            color=alt.Color(f"{group}:N", title=group),
            tooltip=["bucket:T", f"{group}:N", "requests:Q"],
        )
        .properties(height=HEIGHT)
    )


def tokens(frame: pd.DataFrame) -> alt.Chart:
    """Tokens per bucket by kind (input not cached, cached input, cache writes, output)."""
    return (
        alt.Chart(frame, title="Tokens")
        .mark_area()
        .encode(
            x=TIME,
            y=alt.Y("tokens:Q", title="tokens", stack=True),
            color=alt.Color("kind:N", title=None),
            tooltip=["bucket:T", "kind:N", alt.Tooltip("tokens:Q", format=",")],
        )
        .properties(height=HEIGHT)
    )


def latency(frame: pd.DataFrame) -> alt.Chart:
    """Latency percentiles and time to first chunk per model."""
    return (
        alt.Chart(frame, title="Latency per model (ms)")
        .mark_bar()
        .encode(
            y=alt.Y("model:N", title=None),
            x=alt.X("ms:Q", title="ms"),
            yOffset="measure:N",
            color=alt.Color("measure:N", title=None),
            tooltip=["model:N", "measure:N", alt.Tooltip("ms:Q", format=",.0f")],
        )
        .properties(height=max(HEIGHT, 90 * frame["model"].nunique()))
    )


def rates(frame: pd.DataFrame) -> alt.Chart:
    """Error, retry and fallback rates per bucket."""
    return (
        alt.Chart(frame, title="Errors, retries and fallbacks")
        .mark_line()
        .encode(
            x=TIME,
            y=alt.Y("value:Q", title="share", axis=alt.Axis(format="%")),
            color=alt.Color("rate:N", title=None),
            tooltip=["bucket:T", "rate:N", alt.Tooltip("value:Q", format=".1%")],
        )
        .properties(height=HEIGHT)
    )


def cache_hits(frame: pd.DataFrame) -> alt.Chart:
    """Share of calls answered from the cache per bucket."""
    return (
        alt.Chart(frame, title="Cache hit rate")
        .mark_line()
        .encode(
            x=TIME,
            y=alt.Y("hit_rate:Q", title="share", axis=alt.Axis(format="%")),
            tooltip=["bucket:T", alt.Tooltip("hit_rate:Q", format=".1%")],
        )
        .properties(height=HEIGHT)
    )


def cache_savings(frame: pd.DataFrame) -> alt.Chart:
    """Estimated money the cache saved per bucket."""
    return (
        alt.Chart(frame, title="Saved by the cache (USD, estimate)")
        .mark_bar(color="#54a24b")
        .encode(
            x=TIME,
            y=alt.Y("saved_usd:Q", title="USD"),
            tooltip=["bucket:T", alt.Tooltip("saved_usd:Q", format="$.4f")],
        )
        .properties(height=HEIGHT)
    )


def quality(frame: pd.DataFrame) -> alt.Chart:
    """Thumbs-up, quality score, escalation and resolution rates per bucket."""
    return (
        alt.Chart(frame, title="Quality of the answers")
        .mark_line(point=True)
        .encode(
            x=TIME,
            y=alt.Y("value:Q", title="share or score", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("measure:N", title=None),
            tooltip=["bucket:T", "measure:N", alt.Tooltip("value:Q", format=".2f")],
        )
        .properties(height=HEIGHT)
    )


def redactions(frame: pd.DataFrame) -> alt.Chart:
    """Texts with each kind of PII redacted."""
    return (
        alt.Chart(frame, title="PII redactions by kind")
        .mark_bar()
        .encode(
            y=alt.Y("kind:N", sort="-x", title=None),
            x=alt.X("texts:Q", title="texts redacted"),
            tooltip=["kind:N", "texts:Q"],
        )
        .properties(height=alt.Step(28))
    )
