"""schemathesis over the live app: the /ogc document and our /api document, anonymously
and as each role, a bounded number of examples per operation.

Checks: no 5xx, every status code and content type documented, every body and
header conforming to its schema. Reproducible: Hypothesis runs derandomized (the
examples follow from the operation), with no example database. Writes happen
in this module's own database (`db`), never in the shared session one.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import ROLES, basic, query

# CQL2-JSON queries are JSON under their own media type (no +json suffix).
schemathesis.serializer.alias("application/query-cql-json", "application/json")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# Examples per operation: reads are role-blind, so they run anonymously only; every
# operation that looks at credentials runs anonymously and as each role of conftest.ROLES.
READ_EXAMPLES = 6
AUTH_EXAMPLES = 4


def _is_read(op) -> bool:
    return op.method.upper() == "GET" and not op.definition.raw.get("security")


def run(schema, operations, headers, examples, *, path_parameters=None):
    """Run the checks on each operation; every failure of every operation, reported at once."""
    failures: list[str] = []
    for op in operations:
        strategy = op.as_strategy(path_parameters=path_parameters)

        @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate, Phase.shrink],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def check(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # reported together below
            failures.append(f"{op.label} ({headers and 'auth'}): {str(exc)[:3000]}")
    return failures


@pytest.fixture(scope="module")
def ogc_schema(live):
    return schemathesis.openapi.from_url(f"{live.url}/ogc/openapi?f=json")


@pytest.fixture(scope="module")
def api_schema(live):
    return schemathesis.openapi.from_url(f"{live.url}/api/openapi.json")


def operations(schema):
    return [r.ok() for r in schema.get_all_operations()]


def test_ogc_reads_anonymous(ogc_schema):
    failures = run(ogc_schema, [op for op in operations(ogc_schema) if _is_read(op)], None,
                   READ_EXAMPLES)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_ogc_writes_and_options(ogc_schema, role):
    ops = [op for op in operations(ogc_schema) if not _is_read(op)]
    headers = basic(role) if role else None
    failures = run(ogc_schema, ops, headers, AUTH_EXAMPLES)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_ogc_writes_on_existing_features(ogc_schema, db, role):
    """The same writes on features that exist, so they reach the database."""
    headers = basic(role) if role else None
    failures = []
    for cid in ("sites", "projects", "mobility_links", "transit_stops"):
        (fid,) = query(db, f"SELECT max(id)::text FROM rigenera.{cid}")[0]
        ops = [op for op in operations(ogc_schema)
               if op.path == f"/collections/{cid}/items/{{featureId}}"
               and op.method.upper() in ("PUT", "PATCH")]
        failures += run(ogc_schema, ops, headers, AUTH_EXAMPLES,
                        path_parameters={"featureId": fid})
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_api(api_schema, role):
    headers = basic(role) if role else None
    failures = run(api_schema, operations(api_schema), headers, AUTH_EXAMPLES)
    assert not failures, "\n\n".join(failures)
