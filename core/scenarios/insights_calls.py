"""The insights of document analysis, fallback, error recovery and the A/B test, from the
spans of their runs (the A/B verdict from every span of the experiment so far)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from core.errors import EngineError
from core.experiments import analysis_spec, get_experiment
from core.scenarios.driver import Fact, Insight, RunContext, read_spans
from core.scenarios.span_reading import (
    attribute,
    chat_calls,
    descendants,
    dollars,
    llm_calls,
    millis,
    model_of,
    named,
    number,
    share,
    total,
)
from observability.insights.experiments import analyse_experiment
from observability.queries import TraceFilters

EARLIER_RUNS_READ = 20


def document_insight(run: RunContext, spans: pd.DataFrame) -> Insight:
    """Embedding against generation, and what the kept vectors save on a run again."""
    calls = llm_calls(spans)
    embeddings = calls[calls["operation"] == "embeddings"]
    generation = chat_calls(spans)
    indexing = _document_embedding(embeddings)
    if run.facts["cached"]:
        indexing = _earlier_document_embedding(run)
    rows = [
        {
            "work": "embedding (document chunks and the query)",
            "tokens": int(total(embeddings, "input_tokens")),
            "time": millis(total(embeddings, "duration_ms")),
            "cost": _embedding_cost(embeddings),
        },
        {
            "work": "generation (structured summary)",
            "tokens": int(total(generation, "input_tokens") + total(generation, "output_tokens")),
            "time": millis(total(generation, "duration_ms")),
            "cost": dollars(total(generation, "cost_usd")),
        },
    ]
    summary = run.facts["summary"]
    rows += [
        {"work": f"summary · {key}", "tokens": None, "time": "", "cost": _shown(value)}
        for key, value in summary.items()
    ]
    if indexing is None:
        saving = "Run it again: its chunks' vectors are kept and not embedded again."
    elif run.facts["cached"]:
        saving = (
            f"The document was already indexed, so its {_inputs(indexing)} chunks "
            f"({int(number(indexing['input_tokens'])):,} tokens) were not embedded again: "
            f"{millis(number(indexing['duration_ms']))} saved."
        )
    else:
        saving = (
            f"Embedding its {_inputs(indexing)} chunks took "
            f"{millis(number(indexing['duration_ms']))}; a second run reuses the vectors."
        )
    headline = (
        f"Embedding took {millis(total(embeddings, 'duration_ms'))} "
        f"({_embedding_cost(embeddings)}) "
        f"and generation {millis(total(generation, 'duration_ms'))} "
        f"({dollars(total(generation, 'cost_usd'))}). {saving}"
    )
    facts = (
        Fact("Embedding", millis(total(embeddings, "duration_ms")), _embedding_cost(embeddings)),
        Fact(
            "Generation",
            millis(total(generation, "duration_ms")),
            dollars(total(generation, "cost_usd")),
        ),
        Fact(
            "Embedding cache",
            "hit" if run.facts["cached"] else "first run",
            "vectors kept by content hash",
        ),
    )
    return Insight(headline, facts, tuple(rows))


def _document_embedding(embeddings: pd.DataFrame) -> pd.Series | None:
    """The embedding call that embedded the document's chunks (more than one input)."""
    chunks = [
        span
        for _, span in embeddings.iterrows()
        if int(attribute(span, "observatory.embeddings.inputs", 1)) > 1
    ]
    return chunks[0] if chunks else None


def _earlier_document_embedding(run: RunContext) -> pd.Series | None:
    """The newest earlier run's embedding of the document, read from the trace store."""
    since = datetime.now(UTC) - timedelta(days=30)
    filters = TraceFilters(start=since, text=f"scenario {run.scenario.key.value}")
    page = run.services.traces.list_traces(filters, page_size=EARLIER_RUNS_READ)
    for trace_id in page.traces["trace_id"]:
        if trace_id == run.trace_ids[0]:
            continue
        calls = llm_calls(read_spans(run.services, [str(trace_id)]))
        found = _document_embedding(calls[calls["operation"] == "embeddings"])
        if found is not None:
            return found
    return None


def _inputs(span: pd.Series) -> int:
    return int(attribute(span, "observatory.embeddings.inputs", 0))


def _embedding_cost(embeddings: pd.DataFrame) -> str:
    local = (embeddings["provider"] == "local").all() if len(embeddings) else False
    return "$0 (local model)" if local else dollars(total(embeddings, "cost_usd"))


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _shown(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return str(value)


def fallback_insight(run: RunContext, spans: pd.DataFrame) -> Insight:
    """Each attempt's outcome, time and cost; the delay before the answering attempt."""
    attempts = named(spans, "attempt ")
    if attempts.empty:
        raise EngineError("The run made no routed attempts.")
    rows = []
    for _, attempt in attempts.iterrows():
        calls = llm_calls(descendants(spans, attempt["span_id"]))
        rows.append(
            {
                "attempt": f"#{attribute(attempt, 'observatory.attempt', '')} "
                + str(attempt["name"]).removeprefix("attempt "),
                "outcome": _text(attempt["error_type"]) or "answered",
                "reason": attribute(attempt, "observatory.fallback.reason", "") or "",
                "waited before": f"{number(attribute(attempt, 'observatory.backoff_s', 0)):.2f} s",
                "time": millis(number(attempt["duration_ms"])),
                "cost": dollars(total(calls, "cost_usd")),
            }
        )
    served = attempts[attempts["error_type"].isna()]
    if served.empty:
        raise EngineError("No attempt answered.")
    winner = served.iloc[0]
    delay = (winner["start_time"] - attempts.iloc[0]["start_time"]).total_seconds() * 1000
    answered_by = model_of(llm_calls(descendants(spans, winner["span_id"])).iloc[0])
    model = str(winner["name"]).removeprefix("attempt ")
    breakers = run.facts["breakers"]
    primary = next((k for k in breakers if k.endswith(f":{run.facts['primary']}")), None)
    state = breakers.get(primary, "closed") if primary else "closed"
    failures = run.facts["breaker_failures"].get(primary, 0) if primary else 0
    headline = (
        f"{len(attempts) - 1} failed attempts on {run.facts['primary']} added {millis(delay)} "
        f"before {model} answered; the primary's breaker is {state} after {failures} failures "
        "in a row."
    )
    facts = (
        Fact("Served by", model, answered_by),
        Fact("Delay added by the fallback", millis(delay)),
        Fact("Breaker", state, f"{primary or run.facts['primary']}: {failures} failures"),
    )
    return Insight(headline, facts, tuple(rows))


def error_recovery_insight(run: RunContext, spans: pd.DataFrame) -> Insight:
    """What the rejected answer and its retry cost, from the structured span's calls."""
    structured = named(spans, "structured ")
    if structured.empty:
        raise EngineError("The run made no structured request.")
    span = structured.iloc[-1]
    calls = chat_calls(descendants(spans, span["span_id"]))
    if len(calls) < 2:
        raise EngineError("The structured request was answered at once; there was no retry.")
    first, retry = calls.iloc[0], calls.iloc[-1]
    events = span.get("events") or []
    error = next(
        (
            e.get("attributes", {}).get("error")
            for e in events
            if e.get("attributes", {}).get("valid") is False
        ),
        "invalid JSON",
    )
    retry_cost, first_cost = number(retry["cost_usd"]), number(first["cost_usd"])
    rows = [
        {
            "attempt": n,
            "model": model_of(c),
            "input tokens": int(number(c["input_tokens"])),
            "output tokens": int(number(c["output_tokens"])),
            "time": millis(number(c["duration_ms"])),
            "cost": dollars(number(c["cost_usd"])),
            "valid": n == len(calls),
        }
        for n, (_, c) in enumerate(calls.iterrows(), start=1)
    ]
    headline = (
        f"The first answer was rejected ({error}); the retry with the schema succeeded, costing "
        f"{dollars(retry_cost)} more ({share(retry_cost, first_cost)} of the first call) and "
        f"adding {millis(number(retry['duration_ms']))}."
    )
    facts = (
        Fact("Retry cost", dollars(retry_cost)),
        Fact("Delay added", millis(number(retry["duration_ms"]))),
        Fact(
            "Extra tokens", f"{number(retry['input_tokens']) + number(retry['output_tokens']):,.0f}"
        ),
    )
    return Insight(headline, facts, tuple(rows))


def ab_test_insight(run: RunContext, spans: pd.DataFrame) -> Insight:
    """Per variant, over the experiment so far: cost per conversation, thumbs up, quality;
    and the verdict with its significance."""
    info = get_experiment(run.services.db, run.facts["experiment"])
    result = analyse_experiment(
        run.services.trace_store, analysis_spec(info), datetime.now(UTC) + timedelta(seconds=1)
    )
    rows = [
        {
            "variant": v.name,
            "conversations": v.conversations,
            "cost per conversation": dollars(v.cost_per_conversation.value),
            "thumbs up": f"{v.thumbs_up.value:.0%}"
            if v.thumbs_up.value == v.thumbs_up.value
            else "—",
            "quality": f"{v.quality.value:.2f}" if v.quality.value == v.quality.value else "—",
        }
        for v in result.variants
    ]
    tests = {t.metric.value: t for t in result.tests}
    cost_test = tests.get("cost_per_conversation")
    thumbs_test = tests.get("thumbs_up_rate")
    this_run = llm_calls(spans)
    facts = (
        Fact(
            "This run",
            f"{len(run.trace_ids) - 1} conversations",
            dollars(total(this_run, "cost_usd")),
        ),
        Fact(
            "Cost difference",
            "significant" if cost_test and cost_test.significant else "not yet",
            f"p = {cost_test.comparison.p_value:.3g}" if cost_test else "",
        ),
        Fact(
            "Satisfaction difference",
            "significant" if thumbs_test and thumbs_test.significant else "not yet",
            f"p = {thumbs_test.comparison.p_value:.3g}" if thumbs_test else "",
        ),
    )
    return Insight(result.verdict, facts, tuple(rows))
