"""Support Observatory: one process, one port. ``streamlit run app.py`` (or ``uvicorn app:app``)
serves the UI (``ui.py``, the navigation frame) and, beside it, the Analytics API
(``/api/v1/…``, docs at ``/api/docs``), the OTLP/HTTP receiver (``/v1/traces``), the event
websocket (``/ws``), ``/health`` and ``/metrics``.
"""

import inspect

import streamlit as st
import streamlit.emojis  # see _warm_first_page_run

from core.api import ApiServer
from observability import Observatory
from observability.api import api_routes
from observability.api.events import EventType


def _observatory() -> Observatory:
    """The UI's own Observatory (built once per process), so ingested spans share its store;
    the alert watcher's new anomalies go out as websocket ``anomaly`` events. The app
    database's schema comes first, under the lock the UI's first start takes too."""
    from pages._shared.resources import (
        get_alert_watcher,
        get_db_engine,
        get_services,
        get_start_state,
    )
    from seed.setup import prepare_database

    with get_start_state().lock:
        prepare_database(get_db_engine())
    observatory = get_services().observatory
    get_alert_watcher().listen(_publish_anomaly)
    return observatory


def _publish_anomaly(anomaly: dict[str, object]) -> None:
    if server.services is not None:
        server.services.events.publish(EventType.ANOMALY, anomaly)


def _warm_first_page_run() -> None:
    """Pay now, before the first visitor, what Streamlit pays once per process in its first
    page run: its emoji table (imported above, for the page icon) and the frame walk of its
    first element (a REPL check that resolves the path of every loaded module; walked here,
    later runs find the paths known). Together about 0.8 s of the first start's first screen."""
    inspect.stack()


_warm_first_page_run()
server = ApiServer(_observatory)
app = st.App("ui.py", routes=api_routes(server), lifespan=server.lifespan)
