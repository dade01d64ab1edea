"""Every process-wide object the pages share, each built once per Streamlit process.

Streamlit reruns page scripts on every click; ``st.cache_resource`` keeps these alive across
reruns and sessions. Nothing else in the app calls ``st.cache_resource``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import streamlit as st
from sqlalchemy import Engine

from core.db import create_db_engine
from core.kb import KnowledgeBase
from core.scenarios.proof import RecentRequests
from core.services import Services, create_services
from core.settings import Settings, load_settings
from observability.insights.alerts import AlertWatcher
from pages._shared.insights_panels import create_alert_watcher
from seed.background import BackgroundHistory


@dataclass
class StartState:
    """Whether this process has finished its first start (schema, demo data); the lock lets
    one session do it while the others wait."""

    ready: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


@st.cache_resource(show_spinner=False)
def get_start_state() -> StartState:
    """The process's start-up flag (see ``pages._shared.startup.bootstrap``)."""
    return StartState()


@st.cache_resource(show_spinner=False, on_release=BackgroundHistory.stop)
def get_history() -> BackgroundHistory:
    """The process's demo-history loader and its progress (see ``pages._shared.startup``)."""
    return BackgroundHistory()


@st.cache_resource(show_spinner=False)
def get_settings() -> Settings:
    """The app's settings (environment, then ``.streamlit/secrets.toml``, then defaults)."""
    return load_settings()


@st.cache_resource(show_spinner=False, on_release=Engine.dispose)
def get_db_engine() -> Engine:
    """The app database engine (SQLite file unless ``DATABASE_URL`` is set)."""
    return create_db_engine(get_settings().database_url)


@st.cache_resource(show_spinner=False, on_release=Services.close)
def get_services() -> Services:
    """Tracing, providers, router, knowledge base, tools, cache, rate limiter and the engine.

    Clearing the cache closes them (the local Qdrant folder admits one client at a time). The
    simulator keeps its newest requests (``RecentRequests``): the PII scenario's proof.
    """
    return create_services(get_settings(), get_db_engine(), recorder=RecentRequests())


@st.cache_resource(show_spinner=False, on_release=AlertWatcher.close)
def get_alert_watcher() -> AlertWatcher:
    """The thread that sends alerts to the configured webhook and tells its listeners (the
    API's websocket) of new anomalies; it runs once either is there."""
    return create_alert_watcher(get_services().trace_store, get_settings().insights)


def get_knowledge_base() -> KnowledgeBase:
    """The services' knowledge base: local Qdrant admits one client per folder per process."""
    return get_services().kb
