"""schemathesis over the live app: the /ogc document and our /api document, anonymously
and as each role, a bounded number of examples per operation.

Checks: no 5xx, every status code and content type documented, every body and
header conforming to its schema. Reproducible: Hypothesis runs derandomized (the
examples follow from the operation), with no example database. Writes happen
in this module's own database (`db`), never in the shared session one.

Generated values include NUL bytes and unpaired surrogates in paths, query strings and
headers: RequestTextGuard (inputs.py) and the Authorization checks (auth.py) answer them
with a documented 400/401. Unknown tile matrix sets are 404s of their own
(tests/test_ogc_bad_input.py): the documents list only WebMercatorQuad.
"""

from __future__ import annotations

import os

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
# RIGENERA_SCHEMATHESIS_SCALE=10 explores ten times deeper (minutes, not for every run).
SCALE = int(os.environ.get("RIGENERA_SCHEMATHESIS_SCALE", "1"))
READ_EXAMPLES = 4 * SCALE
ITEMS_EXAMPLES = 12 * SCALE  # the richest operation: bbox, CRS, CQL2, sorting, paging
AUTH_EXAMPLES = 3 * SCALE
MILANO_TILE = {"tileMatrix": "10", "tileRow": 366, "tileCol": 538}
EDITABLE = ("sites", "projects", "mobility_links", "transit_stops")


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
    reads = [op for op in operations(ogc_schema) if _is_read(op)]
    items = [op for op in reads if op.path.endswith("/items")]
    failures = run(ogc_schema, [op for op in reads if op not in items], None, READ_EXAMPLES)
    failures += run(ogc_schema, items, None, ITEMS_EXAMPLES)
    assert not failures, "\n\n".join(failures)


def test_ogc_reads_of_existing_features_and_tiles(ogc_schema, db):
    """Generated ids and tiles mostly miss (404): the same reads on a feature that exists
    and on a tile with features, so the 200 answers are checked too."""
    failures = []
    for cid, key in (*((c, "id") for c in EDITABLE), ("comuni", "istat_code")):
        (fid,) = query(db, f"SELECT min({key})::text FROM rigenera.{cid}")[0]
        ops = [op for op in operations(ogc_schema)
               if op.path == f"/collections/{cid}/items/{{featureId}}" and _is_read(op)]
        failures += run(ogc_schema, ops, None, READ_EXAMPLES, path_parameters={"featureId": fid})
    tiles = [op for op in operations(ogc_schema) if op.path.endswith("{tileCol}")]
    failures += run(ogc_schema, tiles, None, READ_EXAMPLES, path_parameters=MILANO_TILE)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_ogc_writes_and_options(ogc_schema, role):
    """Everything but the reads anonymously; as a role, what looks at the credentials."""
    ops = [op for op in operations(ogc_schema) if not _is_read(op)
           and (role is None or op.definition.raw.get("security"))]
    headers = basic(role) if role else None
    failures = run(ogc_schema, ops, headers, AUTH_EXAMPLES)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_ogc_writes_on_existing_features(ogc_schema, db, role):
    """The same writes on features that exist, so they reach the database."""
    headers = basic(role) if role else None
    failures = []
    for cid in EDITABLE:
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
