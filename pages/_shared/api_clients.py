"""The Admin page's API clients: make one (its secret shown once), see them all, revoke one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.api import client_registry
from core.audit import AuditAction, record_audit
from core.services import Services
from observability.api import ClientError, NewClient, Scope, Tier

_NEW = "admin_api_new_client"


def api_clients_section(services: Services, actor: str) -> None:
    """Create, list and revoke the clients of the Analytics API (``/api/docs``); each change
    is audited as ``actor``'s."""
    registry = client_registry(services.settings, services.db)
    st.subheader("API clients")
    st.caption(
        "Clients of the Analytics API and the OTLP receiver on this app's own port "
        "(`/api/v1/…`, `/v1/traces`; documented at `/api/docs`). A client exchanges its id and "
        "secret at `POST /api/v1/auth/token` for a token that lasts "
        f"{services.settings.api.token_ttl_s // 60} minutes."
    )
    made: NewClient | None = st.session_state.get(_NEW)
    if made is not None:
        st.success(
            f"Client **{made.client.name}** made. Copy its secret now: it is stored only as a "
            "hash and is never shown again."
        )
        st.code(f"client_id:     {made.client.client_id}\nclient_secret: {made.secret}")
        st.button("I have kept the secret", on_click=st.session_state.pop, args=(_NEW, None))
    with st.form("admin_api_create", clear_on_submit=True):
        name = st.text_input("Name", placeholder="Billing dashboard")
        scopes = st.multiselect(
            "Scopes", [s.value for s in Scope], default=[Scope.TRACES_READ.value]
        )
        tier = st.selectbox(
            "Rate-limit tier",
            [t.value for t in Tier],
            index=1,
            format_func=lambda t: f"{t} ({_per_minute(services, Tier(t))} requests a minute)",
        )
        if st.form_submit_button("Create client"):
            try:
                made = registry.create(name, scopes, tier or Tier.STANDARD)
            except ClientError as exc:
                st.error(str(exc))
            else:
                st.session_state[_NEW] = made
                record_audit(
                    services.db, actor, AuditAction.API_CLIENT_CREATED, made.client.client_id,
                    f"{made.client.name}: {' '.join(made.client.scopes)}, {made.client.tier}",
                )  # fmt: skip
                st.rerun()
    clients = registry.list()
    if not clients:
        st.info("No API client yet: create one above, or run `python -m core.api clients create`.")
        return
    st.table(
        pd.DataFrame(
            {
                "client id": [c.client_id for c in clients],
                "name": [c.name for c in clients],
                "scopes": [" ".join(c.scopes) for c in clients],
                "tier": [str(c.tier) for c in clients],
                "created": [c.created_at.strftime("%Y-%m-%d %H:%M UTC") for c in clients],
                "state": ["revoked" if c.revoked else "active" for c in clients],
            }
        )
    )
    active = {c.client_id: c.name for c in clients if not c.revoked}
    if not active:
        return
    chosen = st.selectbox(
        "Revoke a client", list(active), format_func=lambda c: f"{active[c]} ({c})"
    )
    if st.button("Revoke", type="primary") and chosen:
        gone = registry.revoke(chosen)
        record_audit(services.db, actor, AuditAction.API_CLIENT_REVOKED, gone.client_id, gone.name)
        st.toast(f"{active[chosen]} is revoked: its secret and tokens no longer work.")
        st.rerun()


def _per_minute(services: Services, tier: Tier) -> int:
    api = services.settings.api
    match tier:
        case Tier.FREE:
            return api.free_per_minute
        case Tier.STANDARD:
            return api.standard_per_minute
        case Tier.ENTERPRISE:
            return api.enterprise_per_minute
