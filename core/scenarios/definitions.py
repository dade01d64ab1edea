"""The eight scenarios as data: what each shows, whose conversation it uses, what it says and
which faults it arms. ``core.scenarios.driver`` runs them; ``core.scenarios.insights`` reads
their spans back.

Each scenario acts as its own demo customer (``customer``, an index into the seeded customers
by id, or into the agents for document analysis), so runs of different scenarios never share a
conversation. Dates and order numbers are read from that customer's own data at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ScenarioKey(StrEnum):
    """The scenario's name, stamped as ``observatory.scenario`` on every span of its runs."""

    ORDER_STATUS = "order-status"
    DOCUMENT = "document-analysis"
    FALLBACK = "fallback"
    AB_TEST = "ab-test"
    FUNCTION_CALLING = "function-calling"
    ERROR_RECOVERY = "error-recovery"
    CONTEXT_WINDOW = "context-window"
    PII = "pii-redaction"


@dataclass(frozen=True)
class Scenario:
    key: ScenarioKey
    title: str
    shows: str
    """One or two sentences for the scenario's card: what a run demonstrates."""
    customer: int
    """Which seeded customer (by id order) the scenario speaks as."""
    turns: tuple[str, ...] = ()
    """What the customer writes; ``{order}`` is filled with the customer's own late order."""
    settings_note: str | None = None
    """A setting the scenario changes for its own run, said on the page."""


AB_EXPERIMENT = "scenario: gpt-4o-mini vs gpt-4o"
AB_CONTROL, AB_CANDIDATE = "gpt-4o-mini", "gpt-4o"
AB_CONVERSATIONS = 16
"""Simulated conversations per run; every run adds them to the experiment's sample."""
AB_FIRST_CUSTOMER = 20
CONTEXT_BUDGET_TOKENS = 1_500
"""The context budget of the context-window scenario's own runs (the app's is 60 % of the
model's window: some 60,000 tokens, which no demo conversation reaches)."""
DOCUMENT_SCOPE = "scenario:document-analysis"
DOCUMENT_FILENAME = "complaint-ORD-10136.pdf"

SCENARIOS: dict[ScenarioKey, Scenario] = {
    scenario.key: scenario
    for scenario in (
        Scenario(
            ScenarioKey.ORDER_STATUS,
            "Order status with RAG",
            "Retrieval, the order tool and a cited answer in one turn; where the tokens and "
            "the money went: system prompt, sources, history, question, tools and answer.",
            customer=2,
            turns=("Where is my order {order}? And what is your late-delivery policy?",),
        ),
        Scenario(
            ScenarioKey.DOCUMENT,
            "Document analysis",
            "An agent uploads a multi-page PDF complaint: it is chunked, embedded and summarised "
            "into parties, dates, amounts and what is asked; embedding against generation, and "
            "what the embedding cache saves when it runs again.",
            customer=0,
        ),
        Scenario(
            ScenarioKey.FALLBACK,
            "Multi-model fallback",
            "The primary model answers 429, then 500: the router backs off, falls back to the "
            "other provider and answers; each attempt's latency and cost, and the breaker.",
            customer=4,
            turns=("Do you price match if I find a tent cheaper somewhere else?",),
        ),
        Scenario(
            ScenarioKey.AB_TEST,
            "A/B test",
            f"{AB_CONTROL} against {AB_CANDIDATE} over {AB_CONVERSATIONS} simulated "
            "conversations with simulated thumbs: cost per conversation and satisfaction per "
            "variant, with significance.",
            customer=AB_FIRST_CUSTOMER,
            turns=(
                "How long do refunds take after I send something back?",
                "Which sleeping bag would you recommend for winter camping?",
                "Can I return boots I have already worn outside?",
                "What does the warranty cover on a rain jacket?",
            ),
        ),
        Scenario(
            ScenarioKey.FUNCTION_CALLING,
            "Function calling",
            "“Can I move my appointment to next Tuesday?”: availability is checked, the "
            "customer picks a time and confirms, the booking is moved; round trips, tokens "
            "per step and total latency.",
            customer=6,
            turns=(
                "Which {service} times are free next Tuesday?",
                "Can I move my {service} appointment to next Tuesday?",
            ),
        ),
        Scenario(
            ScenarioKey.ERROR_RECOVERY,
            "Error recovery",
            "The model returns malformed JSON for the agent's structured draft; validation "
            "fails and the retry with the schema succeeds; what the retry cost and how long "
            "it took.",
            customer=8,
            turns=("My order {order} is late and I need it for a trip on Friday. What now?",),
        ),
        Scenario(
            ScenarioKey.CONTEXT_WINDOW,
            "Context window",
            "A long conversation crosses its context budget: the oldest turns are summarised; "
            "tokens and money saved on every following message, and the break-even point.",
            customer=10,
            turns=(
                "Thanks. One more thing: how do I wash the down jacket from that order?",
                "And can I still return the tent if I only pitched it once in the garden?",
                "Last question: do you ship to Canada?",
            ),
            settings_note=(
                f"Runs with a context budget of {CONTEXT_BUDGET_TOKENS:,} tokens instead of the "
                "app's 60 % of the model's window, so a demo-length conversation crosses it."
            ),
        ),
        Scenario(
            ScenarioKey.PII,
            "PII redaction",
            "A customer types a card number, an e-mail address and a phone number; none of "
            "them reaches the provider or the trace: what was found, the audit event, proof.",
            customer=12,
            turns=(
                "Please charge my card 4539 1488 0343 6467 for the new boots and send the "
                "receipt to dana.whitfield@example.com or text me on +1 415 555 0132.",
            ),
        ),
    )
}

SECRETS: dict[str, str] = {
    "card": "4539 1488 0343 6467",
    "e-mail": "dana.whitfield@example.com",
    "phone": "415 555 0132",
}
"""What the PII scenario checks for in every provider request and span (digits compared
without spaces too)."""
