// Sends GenAI chat spans to an Observatory with the official OpenTelemetry JS SDK.
// Usage: node send.mjs <base-url> <json|proto> <count>; the token comes from OBSERVATORY_TOKEN.
// Prints the trace ids it sent, one a line.
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

const [baseUrl, encoding, count] = process.argv.slice(2);
const options = {
  url: `${baseUrl}/v1/traces`,
  headers: { Authorization: `Bearer ${process.env.OBSERVATORY_TOKEN}` },
};
const exporter = encoding === "proto" ? new ProtoExporter(options) : new JsonExporter(options);
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ "service.name": `node-checkout-${encoding}` }),
  spanProcessors: [new BatchSpanProcessor(exporter)],
});
const tracer = provider.getTracer("interop");

for (let i = 0; i < Number(count); i++) {
  const span = tracer.startSpan("chat claude-haiku-4-5", {
    kind: 2, // CLIENT
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "anthropic",
      "gen_ai.request.model": "claude-haiku-4-5",
      "gen_ai.response.model": "claude-haiku-4-5",
      "gen_ai.usage.input_tokens": 2000,
      "gen_ai.usage.output_tokens": 500,
    },
  });
  span.end();
  console.log(span.spanContext().traceId);
}
await provider.forceFlush();
await provider.shutdown();
