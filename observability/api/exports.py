"""Export jobs: the filtered spans of a time range written in the background, as CSV, JSON lines
or Parquet (``observability.export``), with progress and a row count; downloaded when done,
cancelled (and their file removed) by ``DELETE``. Jobs live in this process (a restart forgets
them and their files are removed when the job is deleted)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Engine

from observability.export import CHUNK_ROWS, ExportFormat, count_spans, iter_export
from observability.queries import AnalyticsFilters, TraceStoreUnavailable, Window

MAX_JOBS_PER_CLIENT = 20
"""Jobs a client keeps at once (finished ones count until deleted)."""


class JobStatus(StrEnum):
    """Where an export job is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ExportJob:
    """One export, as its owner sees it."""

    id: str
    owner: str
    format: ExportFormat
    window: Window
    filters: AnalyticsFilters
    status: JobStatus = JobStatus.QUEUED
    rows_total: int | None = None
    rows_written: int = 0
    size_bytes: int = 0
    error: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None

    @property
    def progress(self) -> float:
        """Share of the rows written (1.0 once done)."""
        if self.status is JobStatus.DONE:
            return 1.0
        if not self.rows_total:
            return 0.0
        return min(1.0, self.rows_written / self.rows_total)

    @property
    def file_name(self) -> str:
        """The download's file name."""
        return f"spans-{self.id}.{self.format.value}"


class TooManyJobs(Exception):
    """The client already keeps ``MAX_JOBS_PER_CLIENT`` jobs."""


class ExportJobs:
    """Runs export jobs on a small thread pool and keeps their state and files."""

    def __init__(self, engine: Engine, folder: Path, *, workers: int = 2) -> None:
        self._engine = engine
        self._folder = folder
        self._jobs: dict[str, ExportJob] = {}
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="api-export")

    def start(
        self, owner: str, fmt: ExportFormat, window: Window, filters: AnalyticsFilters
    ) -> ExportJob:
        """Queue an export for ``owner``."""
        job = ExportJob(uuid.uuid4().hex, owner, fmt, window, filters)
        with self._lock:
            if sum(1 for j in self._jobs.values() if j.owner == owner) >= MAX_JOBS_PER_CLIENT:
                raise TooManyJobs
            self._jobs[job.id] = job
        self._pool.submit(self._run, job.id)
        return job

    def get(self, owner: str, job_id: str) -> ExportJob | None:
        """The owner's job with this id, or ``None``."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def list(self, owner: str) -> list[ExportJob]:
        """The owner's jobs, newest first."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.owner == owner]
        return sorted(jobs, key=lambda j: j.created_at, reverse=True)

    def path(self, job: ExportJob) -> Path:
        """Where the job's file is written."""
        return self._folder / job.file_name

    def cancel(self, owner: str, job_id: str) -> ExportJob | None:
        """Stop the job if it runs, remove its file and forget it; the job as it ended."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.owner != owner:
                return None
            self._cancelled.add(job_id)
            del self._jobs[job_id]
        self.path(job).unlink(missing_ok=True)
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            return replace(job, status=JobStatus.CANCELLED, finished_at=datetime.now(UTC))
        return job

    def close(self) -> None:
        """Stop taking jobs; running ones see themselves cancelled at their next chunk."""
        with self._lock:
            self._cancelled.update(self._jobs)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _update(self, job_id: str, **changes: object) -> bool:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job_id in self._cancelled:
                return False
            self._jobs[job_id] = replace(job, **changes)  # type: ignore[arg-type]
            return True

    def _run(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job_id in self._cancelled:
            return
        path = self.path(job)
        try:
            total = count_spans(self._engine, job.window, job.filters)
            if not self._update(job_id, status=JobStatus.RUNNING, rows_total=total):
                return
            self._folder.mkdir(parents=True, exist_ok=True)
            written = size = 0
            with path.open("wb") as out:
                for piece in iter_export(self._engine, job.window, job.filters, job.format):
                    out.write(piece)
                    size += len(piece)
                    written = min(total, written + CHUNK_ROWS)
                    if not self._update(job_id, rows_written=written, size_bytes=size):
                        break
                else:
                    self._update(job_id, status=JobStatus.DONE, rows_written=total,
                                 size_bytes=size, finished_at=datetime.now(UTC))  # fmt: skip
                    return
            path.unlink(missing_ok=True)
        except (TraceStoreUnavailable, OSError) as exc:
            path.unlink(missing_ok=True)
            self._update(job_id, status=JobStatus.FAILED, error=str(exc),
                         finished_at=datetime.now(UTC))  # fmt: skip
