"""A small Python client for the Analytics API, on httpx2.

client = AnalyticsClient("http://127.0.0.1:8501", client_id, client_secret)
client.traces.list(provider="openai", limit=20)
client.costs.breakdown(by="model")
job = client.exports.create(format="parquet"); client.exports.wait(job["id"])
for event in client.events(["trace_created"], timeout_s=30): ...
"""

from observability.client.client import AnalyticsApiError, AnalyticsClient

__all__ = ["AnalyticsApiError", "AnalyticsClient"]
