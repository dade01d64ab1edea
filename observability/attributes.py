"""Span attribute names: the GenAI semantic conventions plus our own under ``observatory.``.

Every span in the app uses these names, whoever made it, so the trace store and the price
calculator can read any span the same way.
"""

from __future__ import annotations

from typing import Final

# GenAI semantic conventions (Development status).
OPERATION_NAME: Final = "gen_ai.operation.name"
PROVIDER_NAME: Final = "gen_ai.provider.name"
REQUEST_MODEL: Final = "gen_ai.request.model"
REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
REQUEST_TOP_P: Final = "gen_ai.request.top_p"
REQUEST_STREAM: Final = "gen_ai.request.stream"
OUTPUT_TYPE: Final = "gen_ai.output.type"
RESPONSE_ID: Final = "gen_ai.response.id"
RESPONSE_MODEL: Final = "gen_ai.response.model"
RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
"""The Anthropic SDK's own spans use this name for cache writes; pricing reads both."""
USAGE_CACHE_CREATION_1H_INPUT_TOKENS: Final = "observatory.usage.cache_creation_1h.input_tokens"
"""The part of the cache writes written for an hour (Anthropic bills them at 2× input, 5-minute
writes at 1.25×); no GenAI convention names it yet."""
USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
TOOL_NAME: Final = "gen_ai.tool.name"
INPUT_MESSAGES: Final = "gen_ai.input.messages"
OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
ERROR_TYPE: Final = "error.type"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"

# Provider names (values of ``gen_ai.provider.name``).
PROVIDER_OPENAI: Final = "openai"
PROVIDER_ANTHROPIC: Final = "anthropic"
PROVIDER_AZURE_OPENAI: Final = "azure.ai.openai"

# Ours.
COST_USD: Final = "observatory.cost.usd"
COST_STATUS: Final = "observatory.cost.status"
COST_SOURCE: Final = "observatory.cost.source"
CONVERSATION_ID: Final = "observatory.conversation.id"
USER_ID: Final = "observatory.user.id"
EXPERIMENT_NAME: Final = "observatory.experiment.name"
EXPERIMENT_VARIANT: Final = "observatory.experiment.variant"
SCENARIO: Final = "observatory.scenario"
ATTEMPT: Final = "observatory.attempt"
FALLBACK_REASON: Final = "observatory.fallback.reason"
CACHE_HIT: Final = "observatory.cache.hit"
RETRIEVAL_QUERY_HASH: Final = "observatory.retrieval.query.hash"
"""A hash of a search's (redacted) question, its words in lower case: repeated questions can be
counted without capturing any text."""
SIMULATED: Final = "observatory.simulated"
ROUTE: Final = "observatory.route"
TOOL_CALL_NAMES: Final = "observatory.tool_call.names"
TOOL_CALL_IDS: Final = "observatory.tool_call.ids"
STREAM_CLOSED_EARLY: Final = "observatory.stream.closed_early"

QUALITY_SCORE: Final = "observatory.quality.score"
"""On a ``turn`` span: the answer's quality score in [0, 1]."""
TURN_STATUS: Final = "observatory.turn.status"
"""On a ``turn`` span: ``answered``, ``failed``, ``rate_limited`` or ``handed_to_agent``."""
ANNOTATION_VALUE: Final = "observatory.annotation.value"
"""On an ``annotation {name}`` span: the value (a vote is +1 or -1)."""

# Resource attributes.
SERVICE_NAME: Final = "service.name"
DEPLOYMENT_ENVIRONMENT: Final = "deployment.environment.name"
