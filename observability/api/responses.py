"""JSON answers for GETs with ETag and Last-Modified (304 when the caller has them), and field
selection (``fields=a,b``) over lists of records."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import orjson
import pandas as pd
from fastapi import Request, Response

from observability.api.errors import ApiError, ErrorCode


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as JSON-ready dicts: times in ISO 8601 UTC, NaN and NaT as ``None``."""
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({str(k): _plain(v) for k, v in row.items()})
    return out


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        if pd.isna(value):
            return None
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Decimal):  # PostgreSQL sums bigint as numeric
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


def parse_fields(fields: str | None, allowed: Iterable[str]) -> list[str] | None:
    """The field names of ``fields=a,b`` (``None`` = all); a name not in ``allowed`` is a 400."""
    if fields is None or not fields.strip():
        return None
    known = list(allowed)
    chosen = [f.strip() for f in fields.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in known]
    if unknown:
        raise ApiError(
            400,
            ErrorCode.INVALID_REQUEST,
            f"fields names {', '.join(unknown)}, which these records do not have.",
            details={"unknown_fields": unknown, "fields": known},
        )
    return chosen


def select_fields(items: list[dict[str, Any]], fields: list[str] | None) -> list[dict[str, Any]]:
    """Each item with only ``fields`` (all when ``None``)."""
    if fields is None:
        return items
    return [{f: item.get(f) for f in fields} for item in items]


def cached_json(
    request: Request, payload: Mapping[str, Any], last_modified: datetime | None
) -> Response:
    """``payload`` as JSON with a strong ETag (and Last-Modified when known); 304 with no body
    when ``If-None-Match`` holds the ETag, or, without it, when ``If-Modified-Since`` is not
    older than ``last_modified``."""
    body = orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified.astimezone(UTC), usegmt=True)
    if _not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return etag in tags or "*" in tags
    since = request.headers.get("if-modified-since")
    if since is None or last_modified is None:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= moment
