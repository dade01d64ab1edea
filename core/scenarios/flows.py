"""Which flow runs each scenario."""

from __future__ import annotations

from core.scenarios.call_flows import ab_test, document_analysis, error_recovery, fallback
from core.scenarios.chat_flows import context_window, function_calling, order_status, pii_redaction
from core.scenarios.definitions import ScenarioKey
from core.scenarios.driver import Flow

FLOWS: dict[ScenarioKey, Flow] = {
    ScenarioKey.ORDER_STATUS: order_status,
    ScenarioKey.DOCUMENT: document_analysis,
    ScenarioKey.FALLBACK: fallback,
    ScenarioKey.AB_TEST: ab_test,
    ScenarioKey.FUNCTION_CALLING: function_calling,
    ScenarioKey.ERROR_RECOVERY: error_recovery,
    ScenarioKey.CONTEXT_WINDOW: context_window,
    ScenarioKey.PII: pii_redaction,
}
