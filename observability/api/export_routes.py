"""``POST/GET /api/v1/exports``, ``GET/DELETE /api/v1/exports/{id}`` and
``GET /api/v1/exports/{id}/download`` (scope ``exports:write``).

No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations, which
name the scope dependency built inside ``exports_router``.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from observability.api.auth import Principal
from observability.api.config import Scope
from observability.api.deps import authorized
from observability.api.errors import ApiError, ErrorCode
from observability.api.exports import ExportJob, ExportJobs, JobStatus, TooManyJobs
from observability.api.params import window_of
from observability.api.schemas import ERRORS
from observability.api.services import ApiServices
from observability.export import ExportFormat
from observability.queries import AnalyticsFilters

JOB_ID = r"^[0-9a-f]{32}$"


class ExportFilters(BaseModel):
    """The Analytics page's filters (``None`` means any)."""

    provider: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, max_length=128)
    experiment: str | None = Field(default=None, max_length=128)
    variant: str | None = Field(default=None, max_length=128)
    scenario: str | None = Field(default=None, max_length=128)
    customer: str | None = Field(default=None, max_length=128)
    environment: str | None = Field(default=None, max_length=128)


class ExportRequest(BaseModel):
    """What to export: a format, a time range (default: the last day) and filters."""

    format: ExportFormat = ExportFormat.CSV
    start: datetime | None = None
    end: datetime | None = None
    filters: ExportFilters = Field(default_factory=ExportFilters)


class ExportStatus(BaseModel):
    """An export job: where it is, how far, how many rows."""

    id: str
    status: JobStatus
    format: ExportFormat
    start: datetime
    end: datetime
    filters: dict[str, Any]
    progress: float
    rows_total: int | None
    rows_written: int
    size_bytes: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    download_url: str | None


class ExportList(BaseModel):
    """The caller's export jobs, newest first."""

    data: list[ExportStatus]


def exports_router(services: ApiServices, jobs: ExportJobs) -> APIRouter:
    """The export-job endpoints."""
    router = APIRouter(prefix="/api/v1/exports", tags=["exports"], responses=ERRORS)
    caller = Annotated[Principal, authorized(services, Scope.EXPORTS_WRITE)]
    job_id_path = Annotated[str, Path(pattern=JOB_ID)]

    def owned(principal: Principal, job_id: str) -> ExportJob:
        job = jobs.get(principal.client_id, job_id)
        if job is None:
            raise ApiError(404, ErrorCode.NOT_FOUND, f"This client has no export {job_id}.")
        return job

    @router.post("", status_code=202)
    def create_export(body: ExportRequest, principal: caller) -> ExportStatus:
        """Start an export in the background; poll its status, then download it."""
        window = window_of(body.start, body.end)
        filters = AnalyticsFilters(**body.filters.model_dump())
        try:
            job = jobs.start(principal.client_id, body.format, window, filters)
        except TooManyJobs:
            raise ApiError(
                409, ErrorCode.CONFLICT,
                "This client keeps 20 exports already; delete some first.",
            ) from None  # fmt: skip
        return _status(job)

    @router.get("")
    def list_exports(principal: caller) -> ExportList:
        """The caller's exports, newest first."""
        return ExportList(data=[_status(job) for job in jobs.list(principal.client_id)])

    @router.get("/{job_id}")
    def get_export(job_id: job_id_path, principal: caller) -> ExportStatus:
        """One export's status, progress and row count."""
        return _status(owned(principal, job_id))

    @router.get(
        "/{job_id}/download",
        response_class=FileResponse,
        responses={200: {"content": {f.mime: {} for f in ExportFormat}}},
    )
    def download_export(job_id: job_id_path, principal: caller) -> FileResponse:
        """The finished export's file."""
        job = owned(principal, job_id)
        if job.status is not JobStatus.DONE:
            raise ApiError(
                409, ErrorCode.CONFLICT,
                f"Export {job_id} is {job.status}, not done; poll it until it is.",
            )  # fmt: skip
        return FileResponse(jobs.path(job), media_type=job.format.mime, filename=job.file_name)

    @router.delete("/{job_id}")
    def delete_export(job_id: job_id_path, principal: caller) -> ExportStatus:
        """Cancel the export if it runs, and delete it and its file."""
        job = jobs.cancel(principal.client_id, job_id)
        if job is None:
            raise ApiError(404, ErrorCode.NOT_FOUND, f"This client has no export {job_id}.")
        return _status(job)

    return router


def _status(job: ExportJob) -> ExportStatus:
    done = job.status is JobStatus.DONE
    return ExportStatus(
        id=job.id,
        status=job.status,
        format=job.format,
        start=job.window.start,
        end=job.window.end,
        filters={k: v for k, v in vars(job.filters).items() if v is not None},
        progress=job.progress,
        rows_total=job.rows_total,
        rows_written=job.rows_written,
        size_bytes=job.size_bytes,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        download_url=f"/api/v1/exports/{job.id}/download" if done else None,
    )
