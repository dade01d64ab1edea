"""The Analytics page's view (range, filters, grouping, refresh) kept in the URL, and its
queries cached for a few seconds.

Every widget of the view has a session key ``analytics_<name>``; it starts from the URL's
query parameter of the same name, and the URL is rewritten from the widgets on every run, so a
copied link opens the same view. Each query is cached ``CACHE_TTL_S`` seconds per range and
filters; a range's end is rounded down to that many seconds so that sessions share answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from observability.analytics import Outcomes
from observability.export import ExportFormat, count_spans, iter_export
from observability.queries import AnalyticsFilters, Dimension, Window
from pages._shared.resources import get_services

CACHE_TTL_S = 5
"""How long a query's answer is reused (the shortest refresh interval is twice that)."""
RANGES = {
    "15 min": timedelta(minutes=15),
    "1 hour": timedelta(hours=1),
    "6 hours": timedelta(hours=6),
    "24 hours": timedelta(days=1),
    "7 days": timedelta(days=7),
    "30 days": timedelta(days=30),
}
CUSTOM = "Custom"
DEFAULT_RANGE = "24 hours"
REFRESH = {"Paused": None, "10 s": 10, "30 s": 30, "1 min": 60, "5 min": 300}
DEFAULT_REFRESH = "30 s"
GROUPS = {"model": Dimension.MODEL, "provider": Dimension.PROVIDER}
FILTERS = ("provider", "model", "experiment", "variant", "scenario", "customer", "environment")
ANY = "All"
EXPORT_PAGE_ROWS = 200_000
"""The most spans a download from the page holds: Streamlit hands a download over as one
piece in memory (about 100 MB of CSV at this size). Larger exports go through the API's export
jobs, which stream."""
PREFIX = "analytics_"


@dataclass(frozen=True)
class View:
    """What the page shows: a range (one of ``RANGES`` or custom days), filters, grouping."""

    range: str
    days: tuple[date, date]
    filters: AnalyticsFilters
    group: Dimension
    refresh_s: int | None

    def window(self) -> Window:
        """The range as of now."""
        return range_window(self.range, self.days)


def range_window(chosen: str, days: tuple[date, date]) -> Window:
    """A named range up to now (its end rounded down to ``CACHE_TTL_S`` seconds), or whole
    UTC days from ``days[0]`` to ``days[1]``."""
    if chosen == CUSTOM:
        first, last = days
        start = datetime.combine(first, time(), UTC)
        return Window(start, datetime.combine(last, time(), UTC) + timedelta(days=1))
    now = datetime.now(UTC)
    end = now - timedelta(seconds=now.timestamp() % CACHE_TTL_S)
    return Window.last(RANGES[chosen], now=end)


def chosen_days() -> tuple[date, date]:
    """The custom range's first and last day as the date picker holds them (while a range
    is being picked it holds one day)."""
    days = st.session_state[PREFIX + "days"]
    if isinstance(days, tuple | list):
        return (days[0], days[-1]) if days else (datetime.now(UTC).date(),) * 2
    return days, days


def start_from_url() -> None:
    """Put the URL's view into the widgets' session keys (once per session and key)."""
    params = st.query_params
    today = datetime.now(UTC).date()
    defaults = {"range": DEFAULT_RANGE, "group": "model", "refresh": DEFAULT_REFRESH}
    for name, default in defaults.items():
        st.session_state.setdefault(PREFIX + name, params.get(name, default))
    for name in FILTERS:
        st.session_state.setdefault(PREFIX + name, params.get(name, ANY))
    first = _day(params.get("from"), today - timedelta(days=6))
    last = _day(params.get("to"), today)
    st.session_state.setdefault(PREFIX + "days", (min(first, last), max(first, last)))
    for name, allowed in (("range", [*RANGES, CUSTOM]), ("group", GROUPS), ("refresh", REFRESH)):
        if st.session_state[PREFIX + name] not in allowed:
            st.session_state[PREFIX + name] = defaults[name]


def _day(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


def current_view() -> View:
    """The view the widgets hold; the URL is rewritten to match it."""
    state = st.session_state
    chosen = {name: state[PREFIX + name] for name in FILTERS if state[PREFIX + name] != ANY}
    first, last = chosen_days()
    view = View(
        range=state[PREFIX + "range"],
        days=(first, last),
        filters=AnalyticsFilters(**chosen),
        group=GROUPS[state[PREFIX + "group"]],
        refresh_s=REFRESH[state[PREFIX + "refresh"]],
    )
    url = {"range": view.range, **chosen, "group": state[PREFIX + "group"]}
    url["refresh"] = state[PREFIX + "refresh"]
    if view.range == CUSTOM:
        url |= {"from": first.isoformat(), "to": last.isoformat()}
    if dict(st.query_params) != url:
        st.query_params.from_dict(url)
    return view


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def filter_options(window: Window) -> dict[str, list[str]]:
    """The values each filter can take in ``window``."""
    return get_services().analytics.options(window)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def periods(window: Window, filters: AnalyticsFilters) -> pd.DataFrame:
    """``AnalyticsQueries.periods``, cached."""
    return get_services().analytics.periods(window, filters)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def over_time(window: Window, filters: AnalyticsFilters) -> pd.DataFrame:
    """``AnalyticsQueries.over_time``, cached."""
    return get_services().analytics.over_time(window, filters)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def outcomes(window: Window, filters: AnalyticsFilters) -> Outcomes:
    """``AnalyticsQueries.outcomes``, cached."""
    return get_services().analytics.outcomes(window, filters)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def spenders(window: Window, filters: AnalyticsFilters, by: Dimension, top: int) -> pd.DataFrame:
    """``AnalyticsQueries.spenders``, cached."""
    return get_services().analytics.spenders(window, filters, by, top=top)


def export_size(window: Window, filters: AnalyticsFilters) -> int:
    """How many spans a download of the view would hold."""
    return count_spans(get_services().trace_store, window, filters)


def export_file(window: Window, filters: AnalyticsFilters, fmt: ExportFormat) -> bytes:
    """The whole export file, built from the stream (only called at most
    ``EXPORT_PAGE_ROWS`` spans, see ``export_size``)."""
    return b"".join(iter_export(get_services().trace_store, window, filters, fmt))
