"""Each scenario runs green through the app's own engine, and its insight holds the figures of
the spans the run stored."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import pytest

from core.scenarios import SCENARIOS, ScenarioKey, Step
from core.scenarios.definitions import SECRETS
from core.scenarios.driver import UNEXPECTED, llm_calls
from core.services import Services
from tests.core.scenarios.conftest import run_to_end


def _fact(run: object, label: str) -> str:
    insight = run.insight  # type: ignore[attr-defined]
    return next(f.value for f in insight.facts if f.label == label)


@pytest.mark.parametrize("key", list(ScenarioKey))
def test_every_scenario_runs_green_with_its_spans_stamped(
    services: Services, key: ScenarioKey
) -> None:
    steps, run = run_to_end(services, key)

    assert run.error is None, run.error
    assert run.insight is not None and run.insight.headline
    assert steps and steps[-1] == "Reading the run's spans back from the trace store…"
    assert run.title == SCENARIOS[key].title
    assert set(run.spans["scenario"].dropna()) == {key.value}
    root = run.spans[run.spans["trace_id"] == run.trace_id]
    assert root.iloc[0]["name"] == f"scenario {key.value}"
    assert run.input_tokens > 0 and run.cost_usd > 0 and run.latency_ms > 0
    assert services.faults.pending() == []


def test_order_status_splits_the_answering_prompt_into_its_parts(services: Services) -> None:
    _, run = run_to_end(services, ScenarioKey.ORDER_STATUS)

    assert run.insight is not None
    rows = {row["part"]: row["tokens"] for row in run.insight.table}
    answering = llm_calls(run.spans).query("operation == 'chat'").sort_values("start_time").iloc[-1]
    prompt = sum(tokens for part, tokens in rows.items() if part != "answer")
    assert prompt == answering["input_tokens"]
    assert rows["answer"] == answering["output_tokens"]
    assert rows["sources"] > 0 and rows["system prompt"] > 0 and rows["question"] > 0
    assert "[" in next(s for s in run_to_end(services, ScenarioKey.ORDER_STATUS)[0] if "Cited" in s)


def test_fallback_shows_each_attempt_and_the_model_that_served(services: Services) -> None:
    _, run = run_to_end(services, ScenarioKey.FALLBACK)

    assert run.insight is not None
    outcomes = [row["outcome"] for row in run.insight.table]
    assert outcomes == ["RateLimited", "ProviderUnavailable", "answered"]
    assert _fact(run, "Served by").startswith("claude-haiku-4-5")
    assert _fact(run, "Breaker") == "closed"


def test_a_second_document_run_uses_the_kept_vectors(services: Services) -> None:
    run_to_end(services, ScenarioKey.DOCUMENT)
    steps, run = run_to_end(services, ScenarioKey.DOCUMENT)

    assert run.insight is not None
    assert any(step.startswith("Already indexed") for step in steps)
    assert _fact(run, "Embedding cache") == "hit"
    assert re.search(
        r"its 12 chunks \([\d,]+ tokens\) were not embedded again", run.insight.headline
    )
    summary = {row["work"]: row["cost"] for row in run.insight.table}
    assert summary["summary · customer_name"] == "Margaret Okafor"
    assert summary["summary · order_number"] == "ORD-10136"
    assert "refund" in summary["summary · summary"]
    assert "nothing to summarise" not in summary["summary · summary"].lower()


def test_pii_never_reaches_the_provider_and_the_proof_says_so(services: Services) -> None:
    _, run = run_to_end(services, ScenarioKey.PII)

    assert run.insight is not None
    assert _fact(run, "Detected") == "CARD, EMAIL, PHONE"
    assert _fact(run, "Provider requests") == "clean"
    sent = " ".join(r.text for r in services.recorder.requests)  # type: ignore[union-attr]
    assert "[CARD]" in sent
    for value in SECRETS.values():
        assert value not in sent


def test_context_window_summarises_and_finds_the_break_even(services: Services) -> None:
    _, run = run_to_end(services, ScenarioKey.CONTEXT_WINDOW)

    assert run.insight is not None
    first = run.insight.table[0]
    assert first["summarised now"] > 0
    assert first["prompt tokens"] <= first["budget"] < first["without the summary"]
    saved = int(_fact(run, "Tokens saved per message").replace(",", ""))
    assert saved == first["without the summary"] - first["prompt tokens"]
    summary_cost = float(_fact(run, "Summary cost").lstrip("$"))
    saving = float(_fact(run, "Money saved per message").lstrip("$"))
    messages = int(_fact(run, "Break-even").removesuffix(" messages"))
    # The figures shown are rounded to a millionth of a dollar: the ratio may round either way.
    assert abs(messages - math.ceil(summary_cost / saving)) <= 1 and messages >= 1


def test_error_recovery_costs_one_retry(services: Services) -> None:
    _, run = run_to_end(services, ScenarioKey.ERROR_RECOVERY)

    assert run.insight is not None
    assert [row["valid"] for row in run.insight.table] == [False, True]
    assert run.insight.headline.startswith("The first answer was rejected (not JSON")


def test_the_ab_test_gives_a_verdict_per_variant(services: Services) -> None:
    _, run = run_to_end(services, ScenarioKey.AB_TEST)

    assert run.insight is not None
    variants = {row["variant"] for row in run.insight.table}
    assert variants == {"gpt-4o-mini", "gpt-4o"}
    assert "per conversation" in run.insight.headline
    assert len(run.trace_ids) == 17


def test_a_broken_flow_ends_in_one_sentence_and_clears_its_faults(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.scenarios import flows
    from core.scenarios.driver import RunContext
    from core.simulator import Fault, FaultKind

    def broken(run: RunContext) -> Iterator[Step]:
        run.arm(Fault(FaultKind.SERVER_ERROR))
        yield Step("armed")
        raise RuntimeError("boom")

    monkeypatch.setitem(flows.FLOWS, ScenarioKey.FALLBACK, broken)
    steps, run = run_to_end(services, ScenarioKey.FALLBACK)

    assert steps[0] == "armed"
    assert run.error == UNEXPECTED and run.insight is None
    assert services.faults.pending() == []


def test_faults_armed_by_an_admin_stay_armed_after_a_scenario(services: Services) -> None:
    from core.simulator import Fault, FaultKind

    admins = Fault(FaultKind.SLOW, provider="anthropic", times=5, delay_s=0.0)
    services.faults.add(admins)
    try:
        _, run = run_to_end(services, ScenarioKey.FALLBACK)

        assert run.error is None
        left = services.faults.pending()
        assert [p.fault.kind for p in left] == [FaultKind.SLOW]
        assert left[0].remaining == 4, "the fallback's answer from Anthropic drew it once"
    finally:
        services.faults.clear()
