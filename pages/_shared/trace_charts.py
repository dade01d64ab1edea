"""Charts for the trace pages: the span waterfall of one trace."""

from __future__ import annotations

import altair as alt
import pandas as pd

STATUS_COLOURS = alt.Scale(domain=["ok", "error", "unset"], range=["#4c78a8", "#e45756", "#9d9d9d"])


def waterfall(spans: pd.DataFrame) -> alt.Chart:
    """One bar per span from its start offset for its duration, nested names indented."""
    frame = spans.assign(
        label=[
            f"{'  ' * int(d)}{name}" for d, name in zip(spans["depth"], spans["name"], strict=True)
        ],
        end_ms=spans["offset_ms"] + spans["duration_ms"].fillna(0),
        order=range(len(spans)),
        status=spans["status"].str.lower(),
    )
    height = max(120, 26 * len(frame))
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X("offset_ms:Q", title="ms from the start of the trace"),
            x2="end_ms:Q",
            y=alt.Y("label:N", sort=alt.SortField("order"), title=None),
            color=alt.Color("status:N", scale=STATUS_COLOURS, legend=None),
            tooltip=[
                alt.Tooltip("name:N", title="span"),
                alt.Tooltip("duration_ms:Q", title="duration ms", format=",.1f"),
                alt.Tooltip("request_model:N", title="model"),
                alt.Tooltip("provider:N"),
                alt.Tooltip("input_tokens:Q", title="input tokens"),
                alt.Tooltip("output_tokens:Q", title="output tokens"),
                alt.Tooltip("cost_usd:Q", title="cost $", format=".6f"),
                alt.Tooltip("error_type:N", title="error"),
            ],
        )
        .properties(height=height)
    )
