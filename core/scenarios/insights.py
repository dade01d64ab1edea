"""Each scenario's insight, computed from the spans its run stored (never canned figures).

``compute_insight(run, spans)`` dispatches on the scenario; this module holds the insights of
the conversation scenarios, ``insights_calls`` the others. Facts a flow noted (ids, flags, the
prompt's parts counted with ``core.tokens``) only say where to look; tokens, costs and times
are the spans'.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable

import pandas as pd

from core.errors import EngineError
from core.pii import list_pii_audit
from core.scenarios.definitions import SECRETS, ScenarioKey
from core.scenarios.driver import Fact, Insight, RunContext
from core.scenarios.insights_calls import (
    ab_test_insight,
    document_insight,
    error_recovery_insight,
    fallback_insight,
)
from core.scenarios.span_reading import (
    attribute,
    chat_calls,
    descendants,
    dollars,
    millis,
    model_of,
    named,
    number,
    share,
    token_price,
    total,
)

Compute = Callable[[RunContext, pd.DataFrame], Insight]


def compute_insight(run: RunContext, spans: pd.DataFrame) -> Insight:
    """The insight of ``run`` from its stored ``spans``."""
    if spans.empty:
        raise EngineError("The run's spans are not in the trace store yet; run it again.")
    return INSIGHTS[run.scenario.key](run, spans)


def order_status_insight(run: RunContext, spans: pd.DataFrame) -> Insight:
    """Tokens and cost of the turn, and the answering call's prompt by part."""
    calls = chat_calls(spans)
    answer = calls.iloc[-1]
    parts = dict(run.facts["parts"])
    measured = int(number(answer["input_tokens"]))
    parts["tool calls, results and framing"] = max(measured - sum(parts.values()), 0)
    price_in, price_out = token_price(answer), token_price(answer, output=True)
    rows = [
        {
            "part": name,
            "tokens": tokens,
            "share of the prompt": share(tokens, measured),
            "cost": dollars(tokens * price_in if price_in is not None else None),
        }
        for name, tokens in parts.items()
    ]
    out = int(number(answer["output_tokens"]))
    rows.append(
        {
            "part": "answer",
            "tokens": out,
            "share of the prompt": "—",
            "cost": dollars(out * price_out if price_out is not None else None),
        }
    )
    biggest = max(parts, key=lambda name: parts[name])
    turn = named(spans, "turn").iloc[0]
    headline = (
        f"{len(calls)} model calls used {total(calls, 'input_tokens'):,.0f} input and "
        f"{total(calls, 'output_tokens'):,.0f} output tokens for "
        f"{dollars(total(calls, 'cost_usd'))}; "
        f"{biggest} took the most of the answering prompt ({share(parts[biggest], measured)} of "
        f"{measured:,} tokens)."
    )
    facts = (
        Fact("Model calls", str(len(calls)), ", ".join(model_of(c) for _, c in calls.iterrows())),
        Fact("Answering prompt", f"{measured:,} tokens", "as the provider counted them"),
        Fact("Turn latency", millis(number(turn["duration_ms"]))),
    )
    return Insight(headline, facts, tuple(rows))


def function_calling_insight(run: RunContext, spans: pd.DataFrame) -> Insight:
    """Each round trip (model call or tool) with its tokens and time, and the total."""
    steps = spans[
        (spans["operation"] == "chat") & spans["provider"].notna()
        | spans["name"].str.startswith("execute_tool ")
    ].sort_values("start_time")
    rows = []
    for _, span in steps.iterrows():
        is_call = span["operation"] == "chat"
        rows.append(
            {
                "step": f"model call ({model_of(span)})" if is_call else span["name"],
                "input tokens": int(number(span["input_tokens"])) if is_call else None,
                "output tokens": int(number(span["output_tokens"])) if is_call else None,
                "time": millis(number(span["duration_ms"])),
                "cost": dollars(number(span["cost_usd"])) if is_call else "",
            }
        )
    calls = chat_calls(spans)
    tools = [
        str(name).removeprefix("execute_tool ")
        for name in steps["name"]
        if str(name).startswith("execute_tool ")
    ]
    root = spans.iloc[0]
    headline = (
        f"{len(calls)} round trips to the model and {len(tools)} tool runs "
        f"({', '.join(tools) or 'none'}) took {millis(number(root['duration_ms']))} in all, "
        f"{total(calls, 'input_tokens') + total(calls, 'output_tokens'):,.0f} tokens and "
        f"{dollars(total(calls, 'cost_usd'))}."
    )
    per_step = total(calls, "input_tokens") / len(calls) if len(calls) else 0
    facts = (
        Fact("Round trips", str(len(calls))),
        Fact("Tokens per model call", f"{per_step:,.0f}", "input, on average"),
        Fact("The customer's confirmation", "asked before the change", "consent span"),
    )
    return Insight(headline, facts, tuple(rows))


def context_window_insight(run: RunContext, spans: pd.DataFrame) -> Insight:
    """Where the summary was made, what it cost, what each following message saves."""
    budgets = named(spans, "context_budget")
    summarised = budgets[
        [
            attribute(b, "observatory.context.summarised_messages", 0) > 0
            for _, b in budgets.iterrows()
        ]
    ]
    if summarised.empty:
        raise EngineError("The conversation stayed inside its budget, so nothing was summarised.")
    first = summarised.iloc[0]
    saved = int(attribute(first, "observatory.context.tokens_saved", 0))
    summary_call = chat_calls(
        descendants(spans, named(spans, "summarise conversation").iloc[0]["span_id"])
    )
    summary_cost = total(summary_call, "cost_usd")
    answers = chat_calls(spans)
    price = token_price(answers.iloc[-1])
    saving = saved * price if price is not None else None
    following = len(budgets) - budgets.index.get_loc(first.name) - 1
    break_even = math.ceil(summary_cost / saving) if saving else None
    rows = [
        {
            "turn": n,
            "prompt tokens": int(attribute(b, "observatory.context.tokens", 0)),
            "budget": int(attribute(b, "observatory.context.budget_tokens", 0)),
            "summarised now": int(attribute(b, "observatory.context.summarised_messages", 0)),
            "without the summary": int(attribute(b, "observatory.context.tokens", 0))
            + (saved if n > 1 else int(attribute(b, "observatory.context.tokens_saved", 0))),
        }
        for n, (_, b) in enumerate(budgets.iterrows(), start=1)
    ]
    messages = int(attribute(first, "observatory.context.summarised_messages", 0))
    headline = (
        f"The {messages} oldest messages were summarised once for {dollars(summary_cost)}; every "
        f"following message sends {saved:,} fewer tokens, saving {dollars(saving)}, so the "
        f"summary pays for itself after {break_even if break_even else '—'} messages."
    )
    facts = (
        Fact("Tokens saved per message", f"{saved:,}"),
        Fact("Money saved per message", dollars(saving), model_of(answers.iloc[-1])),
        Fact("Summary cost", dollars(summary_cost)),
        Fact(
            "Break-even",
            f"{break_even} messages" if break_even else "—",
            f"{following} following messages in this run",
        ),
    )
    return Insight(headline, facts, tuple(rows))


def pii_insight(run: RunContext, spans: pd.DataFrame) -> Insight:
    """What was found, the audit rows, and where the values were looked for and not found."""
    redactions = named(spans, "redact_pii")
    kinds = sorted(
        {
            str(k)
            for _, s in redactions.iterrows()
            for k in attribute(s, "observatory.pii.kinds", [])
        }
    )
    conversation_id = run.facts["conversation_id"]
    audit = [
        event
        for event in list_pii_audit(run.services.db, run.facts["since"])
        if event.conversation_id == conversation_id
    ]
    span_text = " ".join(
        json.dumps(row, default=str)
        for row in spans.drop(columns=["depth"], errors="ignore").to_dict("records")
    )
    requests = run.facts.get("requests")
    in_spans = _leaked(span_text)
    in_requests = _leaked(" ".join(requests)) if requests is not None else []
    in_store = _leaked(run.facts["stored"])
    rows = [
        {
            "kind": e.pii_type,
            "where": e.location,
            "count": e.count,
            "when": f"{e.created_at:%H:%M:%S}",
        }
        for e in audit
    ]
    if requests is None:
        proof = f"provider requests not recorded in this process; none in the {len(spans)} spans"
    else:
        proof = f"{len(requests)} provider requests recorded; none held them"
    leaks = sorted(set(in_spans + in_requests + in_store))
    headline = f"Found {', '.join(kinds) or 'nothing'}; " + (
        f"LEAKED: {', '.join(leaks)}."
        if leaks
        else f"none of them reached the provider or the trace ({proof})."
    )
    facts = (
        Fact("Detected", ", ".join(kinds) or "nothing"),
        Fact("Audit events", str(len(audit)), "kind, where, when and count; never the value"),
        Fact("Provider requests", "clean" if not in_requests else "leaked", proof),
        Fact("Trace", "clean" if not in_spans else "leaked", f"{len(spans)} spans searched"),
    )
    return Insight(headline, facts, tuple(rows))


def _leaked(text: str) -> list[str]:
    """Which of the scenario's secrets appear in ``text`` (digits also without spaces)."""
    squeezed = re.sub(r"[\s-]", "", text)
    return [
        name
        for name, value in SECRETS.items()
        if value in text or re.sub(r"[\s-]", "", value) in squeezed
    ]


INSIGHTS: dict[ScenarioKey, Compute] = {
    ScenarioKey.ORDER_STATUS: order_status_insight,
    ScenarioKey.DOCUMENT: document_insight,
    ScenarioKey.FALLBACK: fallback_insight,
    ScenarioKey.AB_TEST: ab_test_insight,
    ScenarioKey.FUNCTION_CALLING: function_calling_insight,
    ScenarioKey.ERROR_RECOVERY: error_recovery_insight,
    ScenarioKey.CONTEXT_WINDOW: context_window_insight,
    ScenarioKey.PII: pii_insight,
}
