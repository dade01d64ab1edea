"""Per-client tracing of the OpenAI and Anthropic SDKs (sync, async, Azure, streams)."""

from observability.instrumentation._common import ContentPolicy, Redactor
from observability.instrumentation.anthropic import instrument_anthropic
from observability.instrumentation.openai import instrument_openai

__all__ = ["ContentPolicy", "Redactor", "instrument_anthropic", "instrument_openai"]
