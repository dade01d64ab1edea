"""Offline answer scores and the optional LLM judge's request and reply."""

from __future__ import annotations

import json

import pytest

from core.providers.errors import MalformedResponse
from core.quality import build_judge_request, parse_judge_reply, score_answer

REFUNDS = "Refunds are issued 5–7 business days after the returned item reaches our warehouse."
RETURNS = "Items can be returned within 30 days; Trail Club members get 60 days."


def test_grounded_direct_answer_scores_high() -> None:
    score = score_answer(
        "How long do refunds take?",
        "Refunds are issued 5–7 business days after the item reaches our warehouse [1].",
        [REFUNDS],
    )

    assert score.score >= 0.9
    assert score.groundedness == 1.0
    assert "1 of 1 sentences supported" in score.reasons[0]


def test_unsupported_sentence_lowers_groundedness() -> None:
    score = score_answer(
        "What is your return window?",
        "You can return items within 30 days [1]. Trail Club members get 60 days [1]. "
        "We also refund shipping costs on every order worldwide.",
        [RETURNS],
    )

    assert score.groundedness == pytest.approx(2 / 3, abs=0.01)
    assert score.score < 0.9


def test_i_dont_know_answer_scores_below_the_flag_threshold() -> None:
    score = score_answer("How long do refunds take?", "I'm sorry, I don't know that.", [REFUNDS])

    assert score.score < 0.5
    assert any("does not know" in reason for reason in score.reasons)


def test_answer_grounded_in_a_tool_result_counts_as_grounded() -> None:
    tool = json.dumps({"order": "ORD-10042", "status": "in_transit", "carrier": "UPS"})

    score = score_answer(
        "Where is my order ORD-10042?",
        "Your order ORD-10042 is in transit with UPS.",
        [],
        tool_results=[tool],
    )

    assert score.groundedness == 1.0
    assert score.score >= 0.9


def test_answer_without_any_cited_source_is_ungrounded() -> None:
    score = score_answer(
        "How long do refunds take?", "Refunds usually take about two weeks to arrive.", []
    )

    assert score.groundedness == 0.0
    assert "nothing cited" in score.reasons[0]


def test_question_asking_when_without_a_time_in_the_answer_loses_points() -> None:
    with_time = score_answer("When are live agents available?", "Live agents work Mon–Fri.", [])
    without = score_answer("When are live agents available?", "Live agents are available.", [])

    assert without.answered < with_time.answered
    assert any("time or duration" in reason for reason in without.reasons)


def test_escalation_is_reported_and_lowers_the_score() -> None:
    args = ("How long do refunds take?", "Refunds are issued 5–7 business days after.", [REFUNDS])

    plain = score_answer(*args)
    escalated = score_answer(*args, escalated=True)

    assert escalated.escalated and escalated.score == pytest.approx(plain.score - 0.2)
    assert any("escalated" in reason for reason in escalated.reasons)


def test_judge_request_carries_sources_and_asks_for_json() -> None:
    request = build_judge_request(
        "How long do refunds take?", "5–7 days [1].", [REFUNDS], model="gpt-4o-mini"
    )

    assert request.model == "gpt-4o-mini"
    assert request.response_format is not None
    assert "[1] Refunds are issued" in request.messages[-1].content
    assert request.messages[0].role == "system"


def test_judge_reply_becomes_a_score_with_reasons() -> None:
    reply = json.dumps({"grounded": 1, "answered": 0.6, "reasons": ["cites the policy"]})

    score = parse_judge_reply(reply)

    assert score.score == pytest.approx(0.8)
    assert score.reasons == ("judge: cites the policy",)


@pytest.mark.parametrize(
    "reply",
    ["not json", '{"grounded": 2, "answered": 1, "reasons": []}', '{"grounded": 1}', "[]"],
)
def test_unreadable_judge_reply_is_a_malformed_response(reply: str) -> None:
    with pytest.raises(MalformedResponse, match="offline score stands"):
        parse_judge_reply(reply)
