"""Demo controls: faults on cue from the Admin page, listed while armed, cleared by hand.

A ``DemoFault`` is what the form says (provider, model, kind, its parameter, and "the next N
calls" or "for M minutes"); ``arm_demo_fault`` checks it and arms it on the app's one
``FaultPlan``, which the simulator and the real providers' fault injector both draw from. Every
change returns one sentence saying what was armed or cleared: show it, and record it in the
audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import ObservatoryError
from core.faults import Fault, FaultKind, FaultPlan, PendingFault
from core.providers.azure_provider import resolve_deployments
from core.providers.catalogue import list_models
from core.settings import Settings

DEMO_KINDS: dict[FaultKind, str] = {
    FaultKind.RATE_LIMIT: "Rate limit (429 with retry-after)",
    FaultKind.SERVER_ERROR: "Server error (5xx)",
    FaultKind.TIMEOUT: "Timeout",
    FaultKind.SLOW: "Slow answers",
    FaultKind.MALFORMED_JSON: "Malformed JSON",
    FaultKind.STREAM_CUT: "Stream cut midway",
}
"""The faults the demo controls offer, with their labels."""
MAX_CALLS = 1_000
MAX_MINUTES = 24 * 60
MAX_WAIT_S = 600.0


class FaultInputError(ObservatoryError):
    """The demo-controls form holds something that cannot be armed; the message says what."""


@dataclass(frozen=True)
class DemoFault:
    """What the demo-controls form asks for. ``provider``/``model`` None means any; exactly one
    of ``calls`` and ``minutes`` says how long it lasts."""

    kind: FaultKind
    provider: str | None = None
    model: str | None = None
    calls: int | float | None = None
    minutes: float | None = None
    retry_after_s: float = 1.0
    status_code: int | float = 503
    delay_s: float = 5.0


@dataclass(frozen=True)
class ArmedFaultRow:
    """One armed fault as the Admin page lists it."""

    id: int
    fault: str
    target: str
    detail: str
    left: str
    fired: int


def fault_targets(settings: Settings) -> dict[str, list[str]]:
    """The models each provider can be faulted on: its catalogue chat models (for Azure, its
    deployments)."""
    deployments = resolve_deployments(settings.providers.azure_deployments)
    chat = list_models("chat")
    return {
        "openai": [m.name for m in chat if m.provider == "openai"],
        "anthropic": [m.name for m in chat if m.provider == "anthropic"],
        "azure": list(deployments),
    }


def arm_demo_fault(plan: FaultPlan, wanted: DemoFault, targets: Mapping[str, list[str]]) -> str:
    """Arm ``wanted`` on ``plan``; returns the sentence saying what was armed. Raises
    ``FaultInputError`` with one sentence when the form cannot be armed."""
    armed = plan.arm(build_fault(wanted, targets))
    return f"Armed {armed.fault.describe()}{_detail(armed.fault, ' (', ')')}."


def build_fault(wanted: DemoFault, targets: Mapping[str, list[str]]) -> Fault:
    """The ``Fault`` the form asks for, checked; ``FaultInputError`` says what is wrong."""
    if wanted.kind not in DEMO_KINDS:
        raise FaultInputError(f"{wanted.kind.value} is not one of the demo faults.")
    _check_target(wanted, targets)
    times, for_s = _lasting(wanted)
    if wanted.kind is FaultKind.RATE_LIMIT and not 0 <= wanted.retry_after_s <= MAX_WAIT_S:
        raise FaultInputError(f"Retry-after must be between 0 and {MAX_WAIT_S:g} seconds.")
    if wanted.kind is FaultKind.SERVER_ERROR and not (
        float(wanted.status_code).is_integer() and 500 <= wanted.status_code <= 599
    ):
        raise FaultInputError(
            "A server error's status code must be a whole number from 500 to 599."
        )
    if wanted.kind in (FaultKind.SLOW, FaultKind.TIMEOUT) and not 0 < wanted.delay_s <= MAX_WAIT_S:
        raise FaultInputError(f"The delay must be more than 0 and at most {MAX_WAIT_S:g} seconds.")
    return Fault(
        wanted.kind,
        provider=wanted.provider,
        model=wanted.model,
        times=times,
        for_s=for_s,
        retry_after_s=wanted.retry_after_s,
        status_code=int(wanted.status_code),
        delay_s=wanted.delay_s,
    )


def clear_demo_fault(plan: FaultPlan, fault_id: int) -> str:
    """Disarm one fault; the sentence says which (or that it had already ended)."""
    cleared = plan.disarm(fault_id)
    if cleared is None:
        return "That fault had already ended; nothing was cleared."
    return f"Cleared {cleared.fault.describe()}."


def clear_all_demo_faults(plan: FaultPlan) -> str:
    """Disarm every fault; the sentence says how many and which."""
    cleared = plan.clear()
    if not cleared:
        return "No fault was armed; nothing was cleared."
    names = "; ".join(p.fault.describe() for p in cleared)
    return f"Cleared {len(cleared)} fault{'s' if len(cleared) > 1 else ''}: {names}."


def list_armed_faults(plan: FaultPlan) -> list[ArmedFaultRow]:
    """The armed faults, oldest first, with what is left of each."""
    return [_row(pending) for pending in plan.pending()]


def _row(pending: PendingFault) -> ArmedFaultRow:
    fault = pending.fault
    return ArmedFaultRow(
        id=pending.id,
        fault=DEMO_KINDS.get(fault.kind, fault.kind.value),
        target=fault.target,
        detail=_detail(fault),
        left=pending.left(),
        fired=pending.fired,
    )


def _detail(fault: Fault, before: str = "", after: str = "") -> str:
    match fault.kind:
        case FaultKind.RATE_LIMIT:
            text = f"retry after {fault.retry_after_s:g} s"
        case FaultKind.SERVER_ERROR:
            text = f"HTTP {fault.status_code}"
        case FaultKind.SLOW | FaultKind.TIMEOUT:
            text = f"{fault.delay_s:g} s"
        case _:
            return ""
    return f"{before}{text}{after}"


def _check_target(wanted: DemoFault, targets: Mapping[str, list[str]]) -> None:
    if wanted.provider is not None and wanted.provider not in targets:
        known = ", ".join(targets)
        raise FaultInputError(f"There is no provider {wanted.provider!r}; choose one of: {known}.")
    if wanted.model is None:
        return
    if wanted.provider:
        served = set(targets[wanted.provider])
    else:
        served = {model for models in targets.values() for model in models}
    if wanted.model not in served:
        where = wanted.provider or "any provider"
        raise FaultInputError(f"{where} does not serve {wanted.model}; pick one of its models.")


def _lasting(wanted: DemoFault) -> tuple[int | None, float | None]:
    """``(times, for_s)`` from "the next N calls" or "for M minutes" (exactly one)."""
    if (wanted.calls is None) == (wanted.minutes is None):
        raise FaultInputError("Say how long the fault lasts: the next N calls or M minutes.")
    if wanted.calls is not None:
        calls = wanted.calls
        if not float(calls).is_integer() or not 1 <= calls <= MAX_CALLS:
            raise FaultInputError(
                f"The number of calls must be a whole number from 1 to {MAX_CALLS:,}."
            )
        return int(calls), None
    minutes = wanted.minutes or 0
    if not 0 < minutes <= MAX_MINUTES:
        raise FaultInputError(f"The minutes must be more than 0 and at most {MAX_MINUTES:,}.")
    return None, minutes * 60
