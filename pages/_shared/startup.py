"""The one start-up call ``app.py`` makes: settings, database, first-start seeding, and the
demo history on a background thread; plus the history's progress bar for the pages."""

from __future__ import annotations

import logging

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from streamlit.navigation.page import StreamlitPage

from core.errors import ObservatoryError
from core.services import trace_store_engine
from core.settings import Settings
from observability.store import prepare_store
from pages._shared.resources import (
    get_alert_watcher,
    get_db_engine,
    get_history,
    get_services,
    get_settings,
    get_start_state,
)
from seed.history import describe_history
from seed.history_store import recorded_history
from seed.loader import is_seeded
from seed.setup import prepare_database, seed_demo

log = logging.getLogger(__name__)


def bootstrap() -> None:
    """Make sure the app can run; on a problem show one sentence and stop the page.

    The first start on an empty database creates the schema and loads the demo data, showing
    progress; later reruns cost one flag check.
    """
    state = get_start_state()
    if state.ready:
        return
    with state.lock:
        if state.ready:
            return
        try:
            _start()
        except ObservatoryError as exc:
            st.error(str(exc), icon="🛑")
            st.stop()
        state.ready = True


def _start() -> None:
    settings = get_settings()
    engine = get_db_engine()
    prepare_database(engine)
    _prepare_trace_store(settings, engine)
    services = get_services()
    get_alert_watcher()
    if not settings.app.seed_on_start:
        return
    first_start = not is_seeded(engine)
    if first_start:
        with st.status("First start: loading the demo data…", expanded=True) as status:
            summary = seed_demo(settings, engine, services.kb, progress=status.write)
            status.update(
                label=f"Demo data loaded: {summary.rows_added} rows, "
                f"{summary.documents_added} knowledge-base documents.",
                state="complete",
                expanded=False,
            )
    days = settings.app.history_days
    if days and (first_start or recorded_history(engine) is not None):
        get_history().start(services, days, short_first=first_start)


def run_page(page: StreamlitPage) -> None:
    """Run the chosen page; the background demo history holds back meanwhile."""
    with get_history().page_running():
        page.run()


def history_progress() -> None:
    """What the demo history holds and, while it loads, a progress bar that follows it (every
    2 s); a warning if it stopped."""
    history = get_history()
    if history.started and not history.progress.finished and not history.progress.error:
        _history_bar()
        return
    _history_story()
    if history.progress.error:
        st.warning(history.progress.error)


def _history_story() -> None:
    story = describe_history(get_db_engine(), get_settings().app.store_timezone)
    if story:
        st.caption(story)


@st.fragment(run_every=2)
def _history_bar() -> None:
    """The history's story (it is written down once the load has begun, maybe after the
    page's first run) and its progress."""
    progress = get_history().progress
    if progress.finished:
        st.rerun(scope="app")
    _history_story()
    made = progress.done + progress.already
    stage = {"short": "a first sample of every day", "full": "the rest"}.get(
        progress.stage, "starting"
    )
    st.progress(
        progress.fraction,
        text=f"Making the demo history in the background ({stage}): {made:,} of "
        f"{progress.total:,} conversations. The app is usable meanwhile.",
    )


def _prepare_trace_store(settings: Settings, engine: Engine) -> None:
    """Create the trace store's tables now, so Traces reads an empty store before the first
    span is written (the writer would create them then). A store that does not answer only
    logs: the writer retries and the app runs without it."""
    tracing = settings.tracing
    store = trace_store_engine(settings, engine)
    try:
        prepare_store(
            store,
            compress_after_days=tracing.compress_after_days,
            drop_after_days=tracing.drop_after_days,
            text_index=tracing.text_index,
        )
    except SQLAlchemyError as exc:
        log.warning("The trace store could not be prepared at start: %s", exc)
    finally:
        if store is not engine:
            store.dispose()
