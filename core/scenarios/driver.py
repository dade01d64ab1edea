"""Run one scenario through the app's own engine, desk and knowledge base, step by step.

    for event in run_scenario(services, ScenarioKey.FALLBACK):
        ...  # Step("Armed: 429 then 500 on gpt-4o-mini"), …, then the ScenarioRun

A run is one trace: a ``scenario {key}`` root span with every turn, upload and call of the run
under it, each span stamped ``observatory.scenario`` (the A/B test's conversations are their
own traces, stamped the same, because experiment results are read per conversation trace).
Steps are yielded as they happen; the span context is attached only while the scenario computes
its next step (``core.conversation.tracing.drive``), never while the caller draws it. When the
run ends its spans are flushed to the trace store and read back, and the insight is computed
from them. A failure ends the run with one sentence in ``ScenarioRun.error``; the faults it
armed and did not use are taken out either way (faults armed by others stay).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import pandas as pd
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode

from core import clock
from core.cache.memory import MemoryCache
from core.conversation import ConversationEngine
from core.conversation.tracing import drive, with_ids
from core.errors import ObservatoryError
from core.scenarios.definitions import SCENARIOS, Scenario, ScenarioKey
from core.services import Services
from core.simulator import Fault
from observability.queries import TraceStoreUnavailable

log = logging.getLogger(__name__)
tracer = trace.get_tracer("support_observatory.scenarios")
T = TypeVar("T")

CALL_COLUMNS = ("input_tokens", "output_tokens", "cost_usd")
UNEXPECTED = (
    "The scenario stopped on an unexpected error (it is in the server log); its spans so far "
    "are in the trace below."
)


@dataclass(frozen=True)
class Step:
    """One thing the scenario did, as a line for the page."""

    text: str


@dataclass(frozen=True)
class Fact:
    """One figure of an insight: a label, its value as shown, and an optional note."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Insight:
    """What a run shows, computed from its spans: a sentence, figures and an optional table."""

    headline: str
    facts: tuple[Fact, ...] = ()
    table: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ScenarioRun:
    """A finished run: its trace, totals over its LLM calls, and its insight."""

    key: ScenarioKey
    title: str
    trace_id: str
    trace_ids: tuple[str, ...]
    spans: pd.DataFrame
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float
    insight: Insight | None
    error: str | None = None
    settings_note: str | None = None


ScenarioEvent = Step | ScenarioRun


@dataclass
class RunContext:
    """What a scenario's flow works with: the app's services, its definition, the run's
    contexts, and the facts it notes for the insight (ids and flags; figures come from spans)."""

    services: Services
    scenario: Scenario
    detached: Context
    """The scenario's ids without the run's span: for traces of their own (A/B)."""
    trace_ids: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    armed: list[int] = field(default_factory=list)
    """The plan ids of the faults this run armed."""

    def arm(self, fault: Fault) -> None:
        """Arm ``fault`` for this run; it is disarmed when the run ends, whatever happened."""
        self.armed.append(self.services.faults.arm(fault).id)

    def disarm(self) -> None:
        """Take this run's faults that did not fire out of the plan, leaving any others (an
        admin's demo controls) as they are."""
        for fault_id in self.armed:
            self.services.faults.disarm(fault_id)
        self.armed.clear()

    def engine(self, **engine_settings: Any) -> ConversationEngine:
        """The chat's engine over the app's parts, with a fresh answer cache (a run never
        replays an earlier run's answer, so every run calls the models) and, if given, other
        ``EngineSettings`` for this run."""
        parts = self.services.engine.parts
        settings = parts.settings
        if engine_settings:
            changed = settings.engine.model_copy(update=engine_settings)
            settings = settings.model_copy(update={"engine": changed})
        return ConversationEngine(replace(parts, settings=settings, cache=MemoryCache()))

    def on_own_trace(self, action: Callable[[], T]) -> T:
        """Run ``action`` in a trace of its own, still stamped with the scenario."""
        token = otel_context.attach(self.detached)
        try:
            return action()
        finally:
            otel_context.detach(token)


Flow = Callable[[RunContext], Generator[Step, None, None]]


def run_scenario(services: Services, key: ScenarioKey | str) -> Iterator[ScenarioEvent]:
    """Run scenario ``key``: its steps as they happen, then the ``ScenarioRun``."""
    # The flows and insights are built on this module's types, so they are imported here.
    from core.scenarios.flows import FLOWS
    from core.scenarios.insights import compute_insight

    scenario = SCENARIOS[ScenarioKey(key)]
    detached = with_ids(Context(), scenario=scenario.key.value)
    root = tracer.start_span(
        f"scenario {scenario.key.value}", context=detached, kind=SpanKind.INTERNAL
    )
    run = RunContext(services, scenario, detached)
    run.trace_ids.append(format(root.get_span_context().trace_id, "032x"))
    started = clock.perf_counter()
    error: str | None = None
    try:
        yield from drive(trace.set_span_in_context(root, detached), FLOWS[scenario.key](run))
        root.set_status(Status(StatusCode.OK))
    except ObservatoryError as exc:
        error = str(exc)
    except Exception as exc:  # a bug must not show as a traceback on the page
        log.exception("scenario %s failed", scenario.key.value)
        error = UNEXPECTED
        root.record_exception(exc)
    finally:
        run.disarm()
        if error is not None:
            root.set_status(Status(StatusCode.ERROR, error[:500]))
        root.end()
    latency_ms = (clock.perf_counter() - started) * 1000
    yield Step("Reading the run's spans back from the trace store…")
    yield _finish(services, run, latency_ms, error, compute_insight)


def _finish(
    services: Services,
    run: RunContext,
    latency_ms: float,
    error: str | None,
    compute: Callable[[RunContext, pd.DataFrame], Insight],
) -> ScenarioRun:
    services.observatory.force_flush()
    insight: Insight | None = None
    try:
        spans = read_spans(services, run.trace_ids)
        if error is None:
            insight = compute(run, spans)
    except TraceStoreUnavailable as exc:
        spans, error = pd.DataFrame(), str(exc)
    except ObservatoryError as exc:
        error = str(exc)
    except Exception:
        log.exception("the insight of scenario %s failed", run.scenario.key.value)
        error = "The run finished but its insight could not be computed (see the server log)."
    calls = llm_calls(spans)
    return ScenarioRun(
        key=run.scenario.key,
        title=run.scenario.title,
        trace_id=run.trace_ids[0],
        trace_ids=tuple(run.trace_ids),
        spans=spans,
        input_tokens=int(calls["input_tokens"].fillna(0).sum()) if len(calls) else 0,
        output_tokens=int(calls["output_tokens"].fillna(0).sum()) if len(calls) else 0,
        cost_usd=float(calls["cost_usd"].fillna(0).sum()) if len(calls) else 0.0,
        latency_ms=round(latency_ms, 1),
        insight=insight,
        error=error,
        settings_note=run.scenario.settings_note,
    )


def read_spans(services: Services, trace_ids: list[str]) -> pd.DataFrame:
    """Every stored span of the run's traces, the root trace first."""
    frames = [services.traces.trace_spans(trace_id) for trace_id in trace_ids]
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def llm_calls(spans: pd.DataFrame) -> pd.DataFrame:
    """The spans that are LLM or embedding calls (an operation and a provider)."""
    if spans.empty or "operation" not in spans:
        return pd.DataFrame(columns=["name", *CALL_COLUMNS])
    return spans[spans["operation"].notna() & spans["provider"].notna()]
