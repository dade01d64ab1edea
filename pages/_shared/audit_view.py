"""The Admin page's audit log: every audited change and view, newest first, filtered by action
or person, downloadable as CSV; and the record of who looked at the PII audit."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from core.audit import AuditAction, AuditEvent, list_audit, record_audit
from core.db.models import utcnow

PERIODS = {"Last 24 hours": 1, "Last 7 days": 7, "Last 30 days": 30, "Last year": 365}
_EVERY_ACTION = "every action"
_EVERYONE = "everyone"
_PII_VIEWED_KEY = "admin_pii_audit_viewed"


def record_pii_view(db: Engine, actor: str) -> None:
    """Record that ``actor`` saw the PII audit: once per session, not at every rerun."""
    if st.session_state.get(_PII_VIEWED_KEY) == actor:
        return
    record_audit(db, actor, AuditAction.PII_AUDIT_VIEWED, "PII redactions", "Admin page")
    st.session_state[_PII_VIEWED_KEY] = actor


def audit_log_section(db: Engine) -> None:
    """The audit log with its filters and a CSV download of what the filters show."""
    st.subheader("Audit log")
    st.caption(
        "Sign-ins, user and role changes, API clients, prices, budgets, experiments, fault "
        "injections and PII-audit views. Append-only: the database refuses to change or delete "
        "an entry."
    )
    period, action, person = st.columns(3)
    days = PERIODS[period.selectbox("When", list(PERIODS), index=1, key="admin_audit_period")]
    since = utcnow() - timedelta(days=days)
    every = list_audit(db, since)
    chosen_action = action.selectbox(
        "Action", [_EVERY_ACTION, *AuditAction], key="admin_audit_action"
    )
    actors = sorted({event.actor for event in every})
    chosen_actor = person.selectbox("Person", [_EVERYONE, *actors], key="admin_audit_actor")
    events = list_audit(
        db,
        since,
        action=None if chosen_action == _EVERY_ACTION else AuditAction(chosen_action),
        actor=None if chosen_actor == _EVERYONE else chosen_actor,
    )
    if not events:
        st.info("Nothing audited matches these filters.")
        return
    table = _table(events)
    st.dataframe(table, hide_index=True, width="stretch")
    st.download_button(
        f"Download these {len(events):,} entries (CSV)"
        if len(events) > 1
        else "Download this entry (CSV)",
        table.to_csv(index=False).encode("utf-8"),
        file_name=f"audit-log-{utcnow():%Y%m%d-%H%M}.csv",
        mime="text/csv",
        icon=":material/download:",
    )


def _table(events: list[AuditEvent]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "when (UTC)": [e.created_at.strftime("%Y-%m-%d %H:%M:%S") for e in events],
            "who": [e.actor for e in events],
            "action": [str(e.action) for e in events],
            "target": [e.target for e in events],
            "detail": [e.detail for e in events],
        }
    )
