"""The Admin page's demo controls: arm a fault on cue, see the armed ones, clear them."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from core.audit import AuditAction, record_audit
from core.demo_faults import (
    DEMO_KINDS,
    DemoFault,
    FaultInputError,
    arm_demo_fault,
    clear_all_demo_faults,
    clear_demo_fault,
    fault_targets,
    list_armed_faults,
)
from core.faults import FaultKind
from core.services import Services

_SAID = "admin_demo_said"
_ANY = "any"
_CALLS = "the next N calls"
_MINUTES = "M minutes"


def demo_controls_section(services: Services, actor: str) -> None:
    """Arm a fault for a provider and model, for the next N calls or M minutes; list and clear.
    Every change is in the audit log as ``actor``'s."""
    st.subheader("Demo controls")
    modes = {s.provider: s.mode for s in services.providers.describe()}
    st.caption(
        "Make a provider fail on cue to show retries, fallback and recovery. Faults fire in the "
        "simulator, or in front of the real API for a provider with a key "
        f"({', '.join(f'{p}: {m}' for p, m in modes.items())})."
    )
    targets = fault_targets(services.settings)
    left, middle, right = st.columns(3)
    provider = left.selectbox(
        "Provider", [_ANY, *targets], key="admin_demo_provider", format_func=_provider_label
    )
    models = dict.fromkeys(m for name in targets if provider in (_ANY, name) for m in targets[name])
    model = middle.selectbox(
        "Model", [_ANY, *models], key="admin_demo_model", format_func=_model_label
    )
    kind = right.selectbox(
        "Fault", list(DEMO_KINDS), key="admin_demo_kind", format_func=DEMO_KINDS.__getitem__
    )
    wanted = _form(kind or FaultKind.RATE_LIMIT, provider, model)
    if st.button("Arm", type="primary", key="admin_demo_arm"):
        try:
            said = arm_demo_fault(services.faults, wanted, targets)
            st.session_state[_SAID] = said
            target = f"{wanted.provider or 'any provider'}/{wanted.model or 'any model'}"
            record_audit(services.db, actor, AuditAction.FAULT_INJECTED, target, said)
        except FaultInputError as exc:
            st.session_state.pop(_SAID, None)
            st.error(str(exc))
    _armed(services, actor)


def _form(kind: FaultKind, provider: str | None, model: str | None) -> DemoFault:
    """The fault's parameter and how long it lasts, read from the widgets."""
    left, middle, right = st.columns(3)
    retry_after_s, status_code, delay_s = 1.0, 503, 5.0
    calls: int | float | None = None
    minutes: float | None = None
    if kind is FaultKind.RATE_LIMIT:
        retry_after_s = left.number_input(
            "Retry-after (s)", value=1.0, step=0.5, key="admin_demo_retry"
        )
    elif kind is FaultKind.SERVER_ERROR:
        status_code = left.number_input("Status code", value=503, step=1, key="admin_demo_status")
    elif kind in (FaultKind.SLOW, FaultKind.TIMEOUT):
        delay_s = left.number_input("Delay (s)", value=5.0, step=0.5, key="admin_demo_delay")
    lasting = middle.radio("For", [_CALLS, _MINUTES], key="admin_demo_for", horizontal=True)
    if lasting == _CALLS:
        calls = right.number_input("Calls (N)", value=2, step=1, key="admin_demo_calls")
    else:
        minutes = right.number_input("Minutes (M)", value=5.0, step=1.0, key="admin_demo_minutes")
    return DemoFault(
        kind,
        provider=None if provider == _ANY else provider,
        model=None if model == _ANY else model,
        calls=calls if lasting == _CALLS else None,
        minutes=minutes if lasting == _MINUTES else None,
        retry_after_s=retry_after_s,
        status_code=status_code,
        delay_s=delay_s,
    )


@st.fragment(run_every=3)
def _armed(services: Services, actor: str) -> None:
    """The armed faults with what is left (refreshed every few seconds), each with a Clear
    button, and Clear all."""
    plan = services.faults
    said = st.session_state.get(_SAID)
    if said:
        st.success(said)
    rows = list_armed_faults(plan)
    if not rows:
        st.info("No fault is armed: every call goes through as usual.")
        return
    st.markdown(f"**Armed faults ({len(rows)})**")
    for row in rows:
        fault, target, setting, left, fired, clear = st.columns(
            [3, 3, 2, 2, 1, 1], vertical_alignment="center"
        )
        fault.markdown(row.fault)
        target.markdown(f"`{row.target}`")
        setting.markdown(row.detail or "—")
        left.markdown(f"{row.left} left")
        fired.markdown(f"fired {row.fired}×")
        clear.button(
            "Clear",
            key=f"admin_demo_clear_{row.id}",
            on_click=_record,
            args=(services, actor, f"fault {row.id}: {row.target}", clear_demo_fault, plan, row.id),
        )
    st.button(
        "Clear all",
        key="admin_demo_clear_all",
        on_click=_record,
        args=(services, actor, "every armed fault", clear_all_demo_faults, plan),
    )


def _record(
    services: Services, actor: str, target: str, change: Callable[..., str], *args: object
) -> None:
    """Run a clearing change, keep its sentence to show and put it in the audit log."""
    said = change(*args)
    st.session_state[_SAID] = said
    record_audit(services.db, actor, AuditAction.FAULT_CLEARED, target, said)


def _provider_label(name: str) -> str:
    return "any provider" if name == _ANY else name


def _model_label(name: str) -> str:
    return "any model" if name == _ANY else name
