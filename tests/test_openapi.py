"""The OpenAPI documents: self-contained (offline clients resolve every $ref) and valid
OpenAPI 3; the OGC one describes the Part 4 writes and the security schemes."""

import pytest
from openapi_spec_validator import validate

from rigenera.ogc.openapi import external_refs

EDITABLE = ("sites", "projects", "mobility_links", "transit_stops")


@pytest.fixture(scope="module")
def ogc_doc(http):
    r = http.get("/ogc/openapi", params={"f": "json"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    return r.json()


@pytest.fixture(scope="module")
def api_doc(http):
    r = http.get("/api/openapi.json")
    assert r.status_code == 200
    return r.json()


def refs(node):
    """Every $ref in a document (walked without recursion limits)."""
    found, stack = [], [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("$ref"), str):
                found.append(item["$ref"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


@pytest.mark.parametrize("which", ["ogc_doc", "api_doc"])
def test_every_ref_is_local_and_resolves(request, which):
    doc = request.getfixturevalue(which)
    all_refs = refs(doc)
    assert all_refs
    assert [r for r in all_refs if not r.startswith("#/")] == []
    assert external_refs(doc) == []
    for ref in set(all_refs):  # each points at something that exists
        node = doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]


@pytest.mark.parametrize("which", ["ogc_doc", "api_doc"])
def test_valid_openapi_3(request, which):
    validate(request.getfixturevalue(which))


def test_ogc_document_describes_the_part4_writes(ogc_doc):
    schemes = ogc_doc["components"]["securitySchemes"]
    assert schemes["basic"] == {"type": "http", "scheme": "basic",
                                "description": schemes["basic"]["description"]}
    assert schemes["bearer"]["scheme"] == "bearer"
    assert "security" not in ogc_doc  # reads stay anonymous
    for cid in EDITABLE:
        item = ogc_doc["paths"][f"/collections/{cid}/items/{{featureId}}"]
        assert "security" not in item["get"]
        for method in ("put", "patch", "delete"):
            op = item[method]
            assert op["security"] == [{"basic": []}, {"bearer": []}]
            assert {"401", "403", "404", "412"} <= set(op["responses"])
            names = {p["$ref"].rsplit("/", 1)[1] for p in op["parameters"]}
            assert "If-Match" in names
        assert set(item["patch"]["requestBody"]["content"]) >= {
            "application/merge-patch+json"}
        assert {"400", "409", "413", "415", "422"} <= set(item["put"]["responses"])
        post = ogc_doc["paths"][f"/collections/{cid}/items"]["post"]
        assert set(post["requestBody"]["content"]) == {"application/geo+json",
                                                       "application/query-cql-json"}
        assert {"200", "201"} <= set(post["responses"])
        created = ogc_doc["components"]["responses"]["Created"]
        assert {"Location", "ETag"} <= set(created["headers"])
        # the write body comes from the editing model: the collection's own properties
        body = ogc_doc["components"]["schemas"][f"{cid}Feature"]
        assert body["properties"]["properties"]["properties"]
    comuni = ogc_doc["paths"]["/collections/comuni/items/{featureId}"]
    assert set(comuni) == {"get", "options"}  # comuni are not editable


def test_site_write_body_lists_the_model(ogc_doc, dsn):
    from conftest import query

    body = ogc_doc["components"]["schemas"]["sitesFeature"]["properties"]["properties"]
    columns = {r[0] for r in query(dsn, "SELECT column_name FROM information_schema.columns"
                                        " WHERE table_schema = 'rigenera' AND table_name = 'sites'")}
    assert set(body["properties"]) <= columns
    assert {"name", "state", "former_use"} <= set(body["properties"])
    assert "version" not in body["properties"] and "id" not in body["properties"]
    assert "abandoned" in body["properties"]["state"]["enum"]


API_OPERATIONS = {
    ("get", "/api/me"), ("get", "/api/collections/{cid}/model"), ("get", "/api/changes"),
    ("post", "/api/changesets"), ("get", "/api/collections/{cid}/items/{fid}/history"),
    ("post", "/api/collections/{cid}/items/{fid}/revert"), ("get", "/api/review/queue"),
    ("post", "/api/review/{collection}/{fid}"), ("get", "/api/review/rejections"),
}


def test_api_document_describes_bodies_answers_and_errors(api_doc):
    ops = {(m, p): op for p, item in api_doc["paths"].items() for m, op in item.items()}
    assert set(ops) >= API_OPERATIONS
    exception = {"$ref": "#/components/schemas/ExceptionDocument"}
    for key in API_OPERATIONS:
        op = ops[key]
        ok = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok["$ref"].startswith("#/components/schemas/"), key
        assert api_doc["components"]["schemas"][ok["$ref"].rsplit("/", 1)[1]]["properties"]
        errors = {s: r for s, r in op["responses"].items() if s.startswith(("4", "5"))}
        assert {"500", "503"} <= set(errors), key
        assert "422" not in errors or key[0] == "post"  # no FastAPI validation model
        for answer in errors.values():
            assert answer["content"]["application/json"]["schema"] == exception, key
        if key[0] == "post":  # the body each route reads itself
            body = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert api_doc["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]
        if key != ("get", "/api/collections/{cid}/model"):  # public
            assert op["security"] == [{"basic": []}, {"bearer": []}], key
            assert "401" in errors, key
    assert set(api_doc["components"]["securitySchemes"]) == {"basic", "bearer"}
    assert "HTTPValidationError" not in api_doc["components"]["schemas"]
