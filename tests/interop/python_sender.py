"""A separate Python service sending GenAI chat spans with the OpenTelemetry SDK's own OTLP/HTTP
(protobuf) exporter. Usage: python python_sender.py BASE_URL COUNT (token in OBSERVATORY_TOKEN);
prints the trace ids it sent, one a line."""

from __future__ import annotations

import os
import sys

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

base_url, count = sys.argv[1], int(sys.argv[2])
exporter = OTLPSpanExporter(
    endpoint=f"{base_url}/v1/traces",
    headers={"Authorization": f"Bearer {os.environ['OBSERVATORY_TOKEN']}"},
)
provider = TracerProvider(resource=Resource.create({"service.name": "python-refunds"}))
provider.add_span_processor(BatchSpanProcessor(exporter))
tracer = provider.get_tracer("interop")
for _ in range(count):
    with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT) as span:
        span.set_attributes(
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 1000,
                "gen_ai.usage.output_tokens": 100,
            }
        )
        print(format(span.get_span_context().trace_id, "032x"))
provider.shutdown()
