"""The API's own counts for ``GET /metrics`` in the Prometheus text format: requests and their
latency by route, spans taken and refused by the OTLP receiver, websocket clients dropped, and
the gauges the app serving the API adds (``add_gauge``: messages held for the app database)."""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable

from observability.store import ExportStats

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    """Counters kept in memory (one process); ``render`` writes them out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str, int]] = Counter()
        self._latency: dict[str, list[int]] = {}
        self._latency_sum: dict[str, float] = {}
        self._spans: Counter[str] = Counter()
        self._ws_dropped = 0
        self._gauges: dict[str, tuple[str, Callable[[], float]]] = {}

    def add_gauge(self, name: str, kind: str, read: Callable[[], float]) -> None:
        """Export ``read()`` as ``name`` (``kind``: ``gauge`` or ``counter``) at every scrape;
        a reading that fails is left out of that scrape."""
        with self._lock:
            self._gauges[name] = (kind, read)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        with self._lock:
            self._requests[(route, method, status)] += 1
            counts = self._latency.setdefault(route, [0] * (len(LATENCY_BUCKETS_S) + 1))
            counts[bisect_left(LATENCY_BUCKETS_S, seconds)] += 1
            self._latency_sum[route] = self._latency_sum.get(route, 0.0) + seconds

    def count_spans(self, outcome: str, count: int) -> None:
        """Spans the OTLP receiver ``accepted``, ``rejected`` (partial success) or ``refused``
        (buffer full: the sender retries)."""
        with self._lock:
            self._spans[outcome] += count

    def count_ws_dropped(self) -> None:
        """A websocket client was dropped for falling behind."""
        with self._lock:
            self._ws_dropped += 1

    def render(self, store: Callable[[], ExportStats | None]) -> str:
        """Every count, in the Prometheus text exposition format."""
        lines = [
            "# TYPE observatory_api_requests_total counter",
            "# TYPE observatory_api_request_seconds histogram",
            "# TYPE observatory_otlp_spans_total counter",
            "# TYPE observatory_ws_clients_dropped_total counter",
            "# TYPE observatory_trace_store_spans gauge",
            "# TYPE observatory_trace_store_queue_depth gauge",
        ]
        with self._lock:
            for (route, method, status), n in sorted(self._requests.items()):
                lines.append(
                    f'observatory_api_requests_total{{route="{route}",method="{method}",'
                    f'status="{status}"}} {n}'
                )
            for route, counts in sorted(self._latency.items()):
                running = 0
                for bound, n in zip((*LATENCY_BUCKETS_S, "+Inf"), counts, strict=True):
                    running += n
                    lines.append(
                        f'observatory_api_request_seconds_bucket{{route="{route}",le="{bound}"}} '
                        f"{running}"
                    )
                lines.append(f'observatory_api_request_seconds_count{{route="{route}"}} {running}')
                lines.append(
                    f'observatory_api_request_seconds_sum{{route="{route}"}} '
                    f"{self._latency_sum[route]:.6f}"
                )
            for outcome in ("accepted", "rejected", "refused"):
                lines.append(
                    f'observatory_otlp_spans_total{{outcome="{outcome}"}} {self._spans[outcome]}'
                )
            lines.append(f"observatory_ws_clients_dropped_total {self._ws_dropped}")
            gauges = dict(self._gauges)
        for name, (kind, read) in sorted(gauges.items()):
            try:
                value = read()
            except Exception:  # a gauge that cannot be read must not break the scrape
                continue
            lines += [f"# TYPE {name} {kind}", f"{name} {value:g}"]
        stats = store()
        if stats is not None:
            lines.append(stats.metrics())
            lines.append(f"observatory_trace_store_queue_depth {stats.pending}")
        return "\n".join(lines) + "\n"
