"""Export jobs: run in the background, report progress and rows, download, cancel."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from bench._spans import generate_spans
from tests.api.conftest import ApiHarness, build_harness, load_spans

START = datetime(2026, 10, 1, tzinfo=UTC)
SPANS = list(generate_spans(1_200, seed=9, start=START, days=1))
WINDOW = {"start": START.isoformat(), "end": (START + timedelta(days=1)).isoformat()}


@pytest.fixture
def loaded(tmp_path: Path) -> Iterator[ApiHarness]:
    for harness in build_harness(f"sqlite:///{tmp_path / 'e.db'}", tmp_path):
        load_spans(harness, SPANS)
        yield harness


def _finished(h: ApiHarness, headers: dict[str, str], job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = h.http.get(f"/api/v1/exports/{job_id}", headers=headers).json()
        if job["status"] not in ("queued", "running"):
            return dict(job)
        time.sleep(0.1)
    raise TimeoutError(job)


def _matching(provider: str) -> int:
    return sum(1 for s in SPANS if (s.attributes or {}).get("gen_ai.provider.name") == provider)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_runs_in_the_background_and_downloads_the_filtered_rows(
    loaded: ApiHarness, fmt: str
) -> None:
    headers = loaded.auth(("exports:write",))
    body = {"format": fmt, **WINDOW, "filters": {"provider": "anthropic"}}
    started = loaded.http.post("/api/v1/exports", json=body, headers=headers)
    assert started.status_code == 202
    job = _finished(loaded, headers, started.json()["id"])
    assert job["status"] == "done" and job["progress"] == 1.0
    expected = _matching("anthropic")
    assert job["rows_total"] == job["rows_written"] == expected
    file = loaded.http.get(job["download_url"], headers=headers)
    assert file.status_code == 200
    assert int(file.headers["content-length"]) == job["size_bytes"]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(file.text)))
    elif fmt == "jsonl":
        rows = [orjson.loads(line) for line in file.content.splitlines()]
    else:
        rows = pq.read_table(io.BytesIO(file.content)).to_pylist()
    assert len(rows) == expected
    assert {row["provider"] for row in rows} == {"anthropic"}
    listed = loaded.http.get("/api/v1/exports", headers=headers).json()["data"]
    assert [j["id"] for j in listed] == [job["id"]]


def test_jobs_are_their_clients_own_and_delete_removes_them(loaded: ApiHarness) -> None:
    mine = loaded.auth(("exports:write",))
    job_id = loaded.http.post("/api/v1/exports", json=WINDOW, headers=mine).json()["id"]
    _finished(loaded, mine, job_id)
    other = loaded.auth(("exports:write",))
    assert loaded.http.get(f"/api/v1/exports/{job_id}", headers=other).status_code == 404
    [job] = [j for j in loaded.services.exports._jobs.values() if j.id == job_id]
    file = loaded.services.exports.path(job)
    assert file.exists()
    assert loaded.http.delete(f"/api/v1/exports/{job_id}", headers=mine).status_code == 200
    assert not file.exists()
    assert loaded.http.get(f"/api/v1/exports/{job_id}", headers=mine).status_code == 404


def test_exports_need_their_scope(loaded: ApiHarness) -> None:
    reader = loaded.auth(("traces:read",))
    assert loaded.http.post("/api/v1/exports", json=WINDOW, headers=reader).status_code == 403
