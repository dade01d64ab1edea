"""schemathesis over the API's own OpenAPI document: no answer is a 5xx, and every answer
matches the document (status codes, content types, bodies)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from bench._spans import generate_spans
from observability.api import Tier
from tests.api.conftest import ApiHarness, build_harness, load_spans

SPANS = list(generate_spans(300, seed=3))
LIMITS = {Tier.FREE: 10**6, Tier.STANDARD: 10**6, Tier.ENTERPRISE: 10**6}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiHarness]:
    tmp_path: Path = tmp_path_factory.mktemp("fuzz")
    for harness in build_harness(f"sqlite:///{tmp_path / 'f.db'}", tmp_path, tier_limits=LIMITS):
        load_spans(harness, SPANS)
        yield harness


def test_no_5xx_and_answers_match_the_document(fuzzed: ApiHarness) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", fuzzed.api)
    headers = {"Authorization": f"Bearer {fuzzed.token(tier=Tier.ENTERPRISE)}"}
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]  # fmt: skip
    operations = [result.ok() for result in schema.get_all_operations()]
    fuzzed_paths = set()
    for operation in operations:
        if operation.path == "/v1/traces":
            continue  # binary OTLP bodies: tests/api/test_ingest.py

        @given(operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)  # fmt: skip
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=checks)

        call()
        fuzzed_paths.add(operation.path)
    assert "/api/v1/traces/search" in fuzzed_paths and len(fuzzed_paths) >= 12
