"""Reading a run's spans (the trace store's rows, as ``TraceQueries.trace_spans`` gives them)
for the insights: calls, descendants, attributes, prices and how figures are written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from core.scenarios.driver import llm_calls
from observability.pricing import PriceStatus, TokenUsage, price_usage

__all__ = ["llm_calls"]


def chat_calls(spans: pd.DataFrame) -> pd.DataFrame:
    """The chat calls in start order."""
    calls = llm_calls(spans)
    if calls.empty:
        return calls
    return calls[calls["operation"] == "chat"].sort_values("start_time")


def named(spans: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """The spans whose name starts with ``prefix``, in start order."""
    if spans.empty:
        return spans
    return spans[spans["name"].str.startswith(prefix)].sort_values("start_time")


def descendants(spans: pd.DataFrame, span_id: str) -> pd.DataFrame:
    """Every span below ``span_id`` (children, their children…)."""
    below: set[str] = set()
    frontier = {span_id}
    while frontier:
        children = spans[spans["parent_span_id"].isin(frontier)]["span_id"]
        frontier = set(children) - below
        below |= frontier
    return spans[spans["span_id"].isin(below)]


def attribute(span: pd.Series, name: str, default: Any = None) -> Any:
    """One attribute of a span row."""
    attributes = span.get("attributes")
    return attributes.get(name, default) if isinstance(attributes, dict) else default


def number(value: Any) -> float:
    """A cell as a float, 0 when missing."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return 0.0
    return float(value)


def total(frame: pd.DataFrame, column: str) -> float:
    """A column's sum over rows, missing values as 0."""
    if frame.empty or column not in frame:
        return 0.0
    return float(frame[column].fillna(0).sum())


def model_of(call: pd.Series) -> str:
    """The model a call was answered by (else the one asked for)."""
    return str(call.get("response_model") or call.get("request_model") or "?")


def token_price(call: pd.Series, *, output: bool = False) -> float | None:
    """Dollars per token of ``call``'s model (input, or output), or None when unpriced."""
    usage = TokenUsage(output=1_000_000) if output else TokenUsage(input=1_000_000)
    priced = price_usage(str(call.get("provider") or ""), model_of(call), usage, _today())
    if priced.status is not PriceStatus.PRICED or priced.cost_usd is None:
        return None
    return float(priced.cost_usd) / 1_000_000


def _today() -> Any:
    return datetime.now(UTC).date()


def dollars(value: float | None) -> str:
    """Money as a page shows it: cents for dollars, more digits for fractions of a cent."""
    if value is None:
        return "unpriced"
    if value == 0:
        return "$0"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    if abs(value) >= 0.01:
        return f"${value:.4f}"
    return f"${value:.6f}"


def millis(value: float) -> str:
    """A duration in ms, or in s from one second on."""
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:,.0f} ms"


def share(part: float, whole: float) -> str:
    """``part`` as a percentage of ``whole``."""
    return f"{part / whole:.0%}" if whole else "—"
