"""``AnalyticsClient``: the API's endpoints as methods; the token is fetched and renewed by
itself, and every error answer becomes ``AnalyticsApiError``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx2
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

RENEW_BEFORE_S = 30.0
"""A token this close to expiring is renewed before the next request."""


class AnalyticsApiError(Exception):
    """An error answer: its HTTP status, the API's code and sentence, and the request id."""

    def __init__(
        self, status: int, code: str, message: str, request_id: str, retry_after_s: float | None
    ) -> None:
        super().__init__(f"{status} {code}: {message} (request {request_id})")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.retry_after_s = retry_after_s


class AnalyticsClient:
    """The Analytics API at ``base_url`` as an API client (id and secret from an admin)."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout_s: float = 30.0,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._credentials = {"client_id": client_id, "client_secret": client_secret}
        self._http = httpx2.Client(base_url=self._base_url, timeout=timeout_s, transport=transport)
        self._token: str | None = None
        self._expires_at = 0.0
        self.traces = _Traces(self)
        self.metrics = _Metrics(self)
        self.costs = _Costs(self)
        self.exports = _Exports(self)
        self.models = _Models(self)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> AnalyticsClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def token(self) -> str:
        """A valid bearer token (renewed when it nears its end)."""
        if self._token is None or time.monotonic() > self._expires_at - RENEW_BEFORE_S:
            answer = self._http.post("/api/v1/auth/token", json=self._credentials)
            body = _checked(answer)
            self._token = str(body["access_token"])
            self._expires_at = time.monotonic() + float(body["expires_in"])
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        """An authenticated request; raises ``AnalyticsApiError`` for an error answer."""
        headers = {"Authorization": f"Bearer {self.token()}"}
        answer = self._http.request(method, path, headers=headers, **kwargs)
        if answer.status_code == 401:  # revoked key rotation or clock skew: one fresh token
            self._token = None
            headers = {"Authorization": f"Bearer {self.token()}"}
            answer = self._http.request(method, path, headers=headers, **kwargs)
        _checked(answer, parse=False)
        return answer

    def get_json(self, path: str, **params: Any) -> Any:
        """``GET path`` with the given query parameters (``None`` ones left out)."""
        given = {k: _param(v) for k, v in params.items() if v is not None}
        return self.request("GET", path, params=given).json()

    def events(
        self, events: list[str], *, cost_threshold_usd: float | None = None, timeout_s: float = 60
    ) -> Iterator[dict[str, Any]]:
        """Events from ``/ws`` as they happen, until ``timeout_s`` passes without one."""
        url = self._base_url.replace("http", "ws", 1) + "/ws"
        with connect(url, open_timeout=timeout_s) as socket:
            socket.send(json.dumps({"type": "auth", "token": self.token()}))
            _expect(socket.recv(timeout_s), "authenticated")
            subscribe: dict[str, Any] = {"type": "subscribe", "events": events}
            if cost_threshold_usd is not None:
                subscribe["cost_threshold_usd"] = cost_threshold_usd
            socket.send(json.dumps(subscribe))
            _expect(socket.recv(timeout_s), "subscribed")
            try:
                while True:
                    yield json.loads(socket.recv(timeout_s))
            except (TimeoutError, ConnectionClosed):
                return


class _Section:
    def __init__(self, client: AnalyticsClient) -> None:
        self._client = client


class _Traces(_Section):
    def list(self, **filters: Any) -> dict[str, Any]:
        """``GET /api/v1/traces``: filters (start, end, provider, model, status, customer,
        conversation, min_cost_usd, text), offset, limit, cursor, fields."""
        return dict(self._client.get_json("/api/v1/traces", **filters))

    def get(self, trace_id: str) -> dict[str, Any]:
        """``GET /api/v1/traces/{id}``: the trace and its spans."""
        return dict(self._client.get_json(f"/api/v1/traces/{trace_id}"))

    def search(
        self, filters: Sequence[Mapping[str, Any]], *, operator: str = "and", **paging: Any
    ) -> dict[str, Any]:
        """``POST /api/v1/traces/search``: groups of filters combined with and/or."""
        body = {"operator": operator, "filters": [dict(f) for f in filters], **paging}
        return dict(self._client.request("POST", "/api/v1/traces/search", json=body).json())


class _Metrics(_Section):
    def performance(self, **params: Any) -> dict[str, Any]:
        """``GET /api/v1/metrics/performance`` (start, end, granularity, group_by, fields)."""
        return dict(self._client.get_json("/api/v1/metrics/performance", **params))

    def quality(self, **params: Any) -> dict[str, Any]:
        """``GET /api/v1/metrics/quality`` (start, end, granularity, fields)."""
        return dict(self._client.get_json("/api/v1/metrics/quality", **params))


class _Costs(_Section):
    def analytics(self, **params: Any) -> dict[str, Any]:
        """``GET /api/v1/costs/analytics`` (start, end, granularity, group_by, fields)."""
        return dict(self._client.get_json("/api/v1/costs/analytics", **params))

    def breakdown(self, **params: Any) -> dict[str, Any]:
        """``GET /api/v1/costs/breakdown`` (start, end, by, limit, fields)."""
        return dict(self._client.get_json("/api/v1/costs/breakdown", **params))


class _Models(_Section):
    def compare(self, **params: Any) -> dict[str, Any]:
        """``GET /api/v1/models/compare`` (start, end, fields)."""
        return dict(self._client.get_json("/api/v1/models/compare", **params))


class _Exports(_Section):
    def create(self, *, format: str = "csv", **request: Any) -> dict[str, Any]:
        """``POST /api/v1/exports``: format, start, end, filters; returns the queued job."""
        body = {"format": format, **{k: _param(v) for k, v in request.items()}}
        return dict(self._client.request("POST", "/api/v1/exports", json=body).json())

    def get(self, job_id: str) -> dict[str, Any]:
        """``GET /api/v1/exports/{id}``: status, progress, row count."""
        return dict(self._client.get_json(f"/api/v1/exports/{job_id}"))

    def list(self) -> list[dict[str, Any]]:
        """``GET /api/v1/exports``: this client's jobs."""
        return list(self._client.get_json("/api/v1/exports")["data"])

    def wait(self, job_id: str, *, timeout_s: float = 600, poll_s: float = 0.5) -> dict[str, Any]:
        """The job once it is no longer queued or running."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.get(job_id)
            if job["status"] not in ("queued", "running"):
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"export {job_id} is still {job['status']}")
            time.sleep(poll_s)

    def download(self, job_id: str, path: str | Path) -> Path:
        """Write the finished export's file to ``path``."""
        target = Path(path)
        answer = self._client.request("GET", f"/api/v1/exports/{job_id}/download")
        target.write_bytes(answer.content)
        return target

    def delete(self, job_id: str) -> dict[str, Any]:
        """``DELETE /api/v1/exports/{id}``: cancel and remove."""
        return dict(self._client.request("DELETE", f"/api/v1/exports/{job_id}").json())


def _param(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _checked(answer: httpx2.Response, *, parse: bool = True) -> Any:
    if answer.status_code >= 400:
        try:
            error = answer.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = {"code": "http_error", "message": answer.text[:200], "request_id": ""}
        retry = answer.headers.get("retry-after")
        raise AnalyticsApiError(answer.status_code, str(error.get("code")),
                                str(error.get("message")), str(error.get("request_id")),
                                float(retry) if retry else None)  # fmt: skip
    return answer.json() if parse else None


def _expect(message: str | bytes, kind: str) -> None:
    body = json.loads(message)
    if body.get("type") != kind:
        raise AnalyticsApiError(401 if kind == "authenticated" else 400, body.get("type", ""),
                                str(body.get("message", body)), "", None)  # fmt: skip
