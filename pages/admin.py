"""Admin: provider health and circuit breakers, rate limits and their hits, the PII audit."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from core.db.models import utcnow
from core.directory import list_customers
from core.pii import list_pii_audit
from core.ratelimit import list_rate_limit_hits
from core.status import describe_providers
from pages._shared.admin_insights import (
    render_alert_admin,
    render_budget_admin,
    render_experiment_admin,
    render_price_admin,
)
from pages._shared.admin_users import users_section
from pages._shared.api_clients import api_clients_section
from pages._shared.audit_view import audit_log_section, record_pii_view
from pages._shared.auth import check_page_role
from pages._shared.demo_controls import demo_controls_section
from pages._shared.resources import get_services
from pages._shared.roles import current_user, signed_in

check_page_role(__file__)

services = get_services()
actor = current_user().email  # who every change below is audited as
since = utcnow() - timedelta(days=7)

st.title("🛠️ Admin")
st.caption("What protects the app and the customers, and what it has done in the last 7 days.")

st.subheader("Providers and circuit breakers")
providers = describe_providers(services.providers)
st.dataframe(
    pd.DataFrame(
        {
            "provider": [p.component for p in providers],
            "mode": [p.backend for p in providers],
            "detail": [p.detail for p in providers],
        }
    ),
    hide_index=True,
    width="stretch",
)
breakers = services.router.breaker_snapshots()
if breakers:
    st.dataframe(
        pd.DataFrame(
            {
                "provider:model": list(breakers),
                "state": [b.state.value for b in breakers.values()],
                "failures in a row": [b.consecutive_failures for b in breakers.values()],
                "trial in (s)": [b.reopens_in_s for b in breakers.values()],
            }
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.caption("No model has been called since the app started, so every breaker is closed.")

demo_controls_section(services, actor)

st.subheader("Rate limits")
engine_settings = services.settings.engine
st.markdown(
    f"Each customer may send **{engine_settings.rate_limit_per_minute} messages a minute** "
    f"with bursts of **{engine_settings.rate_limit_burst}** "
    "(`ENGINE__RATE_LIMIT_PER_MINUTE`, `ENGINE__RATE_LIMIT_BURST`)."
)
hits = list_rate_limit_hits(services.db, since)
if hits:
    names = {c.id: c.name for c in list_customers(services.db)}
    st.dataframe(
        pd.DataFrame(
            {
                "when": [h.created_at for h in hits],
                "customer": [names.get(h.user_id, f"user {h.user_id}") for h in hits],
                "told to wait (s)": [round(h.retry_after_s, 1) for h in hits],
            }
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("Nobody has been rate limited in the last 7 days.")

st.subheader("PII redactions")
record_pii_view(services.db, actor)
audit = list_pii_audit(services.db, since)
if audit:
    events = pd.DataFrame(
        {
            "when": [e.created_at for e in audit],
            "kind": [e.pii_type for e in audit],
            "where": [e.location for e in audit],
            "count": [e.count for e in audit],
            "conversation": [e.conversation_id for e in audit],
        }
    )
    st.bar_chart(events.groupby("kind")["count"].sum(), horizontal=True)
    st.dataframe(events, hide_index=True, width="stretch")
else:
    st.info("No personal data has been redacted in the last 7 days.")

trace_store = services.traces.engine
users_section(services.db, services.settings.auth, actor, hosted=signed_in() is not None)
render_experiment_admin(services.db, actor)
render_alert_admin(trace_store, services.settings.insights)
render_budget_admin(trace_store, services.settings.insights, services.db, actor)
render_price_admin(trace_store, services.db, actor)
api_clients_section(services, actor)
audit_log_section(services.db)
