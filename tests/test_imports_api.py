"""POST /api/imports and the import records over real HTTP, on the module's own PostGIS.

Every refusal is a 4xx naming the field (and the rows) with the database fingerprint
unchanged; uploads are bounded while received (413 before they are read, chunked too,
memory flat) and anonymous ones are never read; the role matrix, a technician outside
their comuni, asynchronous imports with progress, the list and its visibility, and the
CSV of rejected rows. Files are built here; expected numbers come from PostGIS.
"""

from __future__ import annotations

import io
import itertools
import json
import threading
import time
import zipfile
from collections.abc import Iterator

import httpx
import psycopg2
import pytest

from conftest import LiveServer, basic, query
from test_limits import Feeder, rss

MIB = 1024 * 1024
SOURCE = "test-api"


_PLACES = itertools.count()


def sites(n: int, tag: str, *, bad: dict[int, dict[str, object]] | None = None) -> bytes:
    """n site points in Milano, a grid of ~8-11 m steps in a cell of its own for each call
    (sites at the same place within 1 m are the same site); `bad` overrides properties."""
    k = next(_PLACES)
    lon, lat = 9.10 + (k % 10) * 0.012, 45.44 + (k // 10 % 8) * 0.008
    features = []
    for i in range(n):
        props = {"name": f"Area {tag} {i}", "state": "abandoned", "former_use": "industrial",
                 "source": SOURCE, "source_id": f"{tag}-{i}", **(bad or {}).get(i, {})}
        features.append({"type": "Feature", "properties": props, "geometry": {
            "type": "Point", "coordinates": [lon + (i % 100) * 1e-4, lat + (i // 100) * 1e-4]}})
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def post(api: httpx.Client, user: str | None, content: bytes, name: str = "siti.geojson",
         headers: dict[str, str] | None = None, **fields: str) -> httpx.Response:
    data = {"collection": "sites", **fields}
    auth = basic(user) if user else {}
    return api.post("/api/imports", files={"file": (name, content, "application/octet-stream")},
                    data=data, headers={**auth, **(headers or {})}, timeout=120)


def stored(db: str, tag: str) -> int:
    return query(db, "SELECT count(*) FROM rigenera.sites WHERE source = %s AND source_id"
                     " LIKE %s", (SOURCE, f"{tag}-%"))[0][0]


def record(db: str, import_id: int) -> dict[str, object]:
    row = query(db, "SELECT status, actor, dry_run, counts, rows_done, rows_total, file_name,"
                    " sha256 FROM rigenera.imports WHERE id = %s", (import_id,))[0]
    return dict(zip(("status", "actor", "dry_run", "counts", "rows_done", "rows_total",
                     "file_name", "sha256"), row, strict=True))


def assert_refused(r: httpx.Response, status: int, field: str = "file") -> dict:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert " / " in doc["description"], doc  # Italian / English
    assert doc["errors"] and doc["errors"][0]["field"] == field, doc
    return doc


# ------------------------------------------------------------------ the happy paths
def test_dry_run_then_import_then_reimport(api, db, fingerprint):
    content = sites(30, "happy")
    before = fingerprint()
    r = post(api, "admin", content, dry_run="true")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["status"] == "dry_run" and doc["dry_run"] is True and doc["user"] == "admin"
    assert doc["counts"]["read"] == 30 and doc["counts"]["created"] == 30, json.dumps(doc)
    assert doc["counts"]["written"] == 0 and doc["file"]["name"] == "siti.geojson"
    import hashlib

    assert doc["file"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert fingerprint() == before and stored(db, "happy") == 0
    assert record(db, doc["id"])["status"] == "dry_run"

    r = post(api, "admin", content)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert r.headers["location"] == f"/api/imports/{doc['id']}"
    assert doc["status"] == "succeeded" and doc["counts"]["created"] == 30
    assert stored(db, "happy") == 30
    assert query(db, "SELECT count(*) FROM rigenera.history WHERE import_id = %s",
                 (doc["id"],))[0][0] == 30
    got = api.get(r.headers["location"], headers=basic("admin")).json()
    assert got["id"] == doc["id"] and got["counts"] == doc["counts"]
    assert got["progress"] == {"done": 30, "total": 30}

    after = fingerprint()
    r = post(api, "coord", content)  # the same file again: nothing changes, not even version
    assert r.status_code == 201, r.text
    assert r.json()["counts"]["unchanged"] == 30 and r.json()["counts"]["written"] == 0
    assert fingerprint() == after


def test_cp1252_csv_is_imported_with_a_note(api, db):
    text = "nome,state,former_use,lon,lat,source,source_id\n" + "".join(
        f"Area Città {i},abandoned,industrial,{9.17 + i * 1e-4},45.47,{SOURCE},csv-{i}\n"
        for i in range(5))
    mapping = ("fields:\n  name: nome\n" + "".join(
        f"  {f}: {f}\n" for f in ("state", "former_use", "source", "source_id"))).encode()
    r = api.post("/api/imports", files={"file": ("comune.csv", text.encode("cp1252")),
                                        "mapping": ("mappa.yml", mapping)},
                 data={"collection": "sites"}, headers=basic("admin"))
    assert r.status_code == 201, r.text
    doc = r.json()
    assert "encoding" in [n["code"] for n in doc["notes"]], doc["notes"]
    assert doc["file"]["mapping"] == "mappa.yml" and doc["counts"]["created"] == 5
    names = {n for (n,) in query(db, "SELECT name FROM rigenera.sites WHERE source_id LIKE"
                                     " 'csv-%%'")}
    assert names == {f"Area Città {i}" for i in range(5)}


# ------------------------------------------------------------------ roles and reach
@pytest.mark.parametrize(("user", "status"), [(None, 401), ("volontario", 403), ("admin", 200),
                                              ("coord", 200), ("tecnico", 200)])
def test_role_matrix(api, fingerprint, user, status):
    before = fingerprint()
    r = post(api, user, sites(3, f"role-{user}"), dry_run="true")
    assert r.status_code == status, r.text
    if status != 200:
        assert r.json()["code"] in ("Unauthorized", "Forbidden") and " / " in r.json()[
            "description"]
    assert fingerprint() == before


def test_technician_outside_their_comuni_is_refused_naming_rows(api, db, fingerprint):
    """tecnico.sesto edits Sesto San Giovanni only; the file lies in Milano."""
    before = fingerprint()
    r = post(api, "tecnico.sesto", sites(4, "reach"))
    doc = assert_refused(r, 403, r.json()["errors"][0]["field"])
    assert sorted({e["row"] for e in doc["errors"]}) == [1, 2, 3, 4], doc["errors"]
    assert record(db, doc["import"])["status"] == "refused"
    assert fingerprint() == before and stored(db, "reach") == 0
    r = post(api, "tecnico", sites(4, "reach"))  # Milano's technician may
    assert r.status_code == 201, r.text
    assert stored(db, "reach") == 4


def test_all_or_nothing_and_rejected_csv(api, db, fingerprint):
    bad = {6: {"state": "boh"}}
    before = fingerprint()
    r = post(api, "tecnico", sites(10, "rej", bad=bad))
    doc = assert_refused(r, 422, "state")
    assert doc["errors"][0]["row"] == 7  # the 7th feature: rows count from 1
    assert fingerprint() == before and stored(db, "rej") == 0
    refused_id = doc["import"]
    assert record(db, refused_id)["status"] == "refused"

    r = post(api, "tecnico", sites(10, "rej", bad=bad), skip_invalid="true")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["counts"]["written"] == 9 and doc["counts"]["invalid"] == 1
    assert stored(db, "rej") == 9
    link = next(li["href"] for li in doc["links"] if li["rel"] == "rejected")
    csv = api.get(link, headers=basic("tecnico"))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith(b"\xef\xbb\xbf")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("row,field,reason,value") and len(lines) == 2, lines
    assert lines[1].startswith("7,state,") and "boh" in lines[1]
    assert api.get(f"/api/imports/{refused_id}/rejected.csv",
                   headers=basic("tecnico")).status_code == 200
    assert api.get(link, headers=basic("tecnico.sesto")).status_code == 404  # not theirs
    assert api.get(link, headers=basic("volontario")).status_code == 403
    assert api.get(link).status_code == 401
    assert api.get(link, headers=basic("coord")).status_code == 200


# ------------------------------------------------------------------ unsafe files
def _zip(members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            z.writestr(info, data)
    return out.getvalue()


def _symlink_zip() -> bytes:
    link = zipfile.ZipInfo("s.dbf")
    link.external_attr = 0o120777 << 16
    return _zip([("s.shp", b"x"), ("s.shx", b"x"), (link, b"/etc/passwd")])


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("s.shp", b"x")
        z.writestr("s.shx", b"x")
        info = zipfile.ZipInfo("s.dbf")
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as member:
            for _ in range(256):
                member.write(bytes(MIB))
    return out.getvalue()


def _gpkg(tmp_path_factory) -> bytes:
    import geopandas as gpd
    import shapely

    path = tmp_path_factory.mktemp("gpkg") / "s.gpkg"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(9.18, 45.46)], crs=4326).to_file(
        path, driver="GPKG")
    return path.read_bytes()


UNSAFE = {  # name: (file name, content builder, status, words of the reason)
    "zip-slip": ("a.zip", lambda g: _zip([("s.shp", b"x"), ("../../x.dbf", b"x")]), 422,
                 "zip-slip"),
    "absolute": ("a.zip", lambda g: _zip([("/etc/x.shp", b"x")]), 422, "zip-slip"),
    "symlink": ("a.zip", lambda g: _symlink_zip(), 422, "symlink"),
    "nested": ("a.zip", lambda g: _zip([("s.shp", b"x"), ("in.zip", b"PK\x03\x04")]), 422,
               "nested"),
    "bomb": ("a.zip", lambda g: _bomb(), 422, "zip bomb"),
    "truncated-gpkg": ("s.gpkg", lambda g: g[: len(g) // 2], 422, "truncated"),
    "corrupt-xlsx": ("s.xlsx", lambda g: b"PK\x03\x04" + bytes(2000), 422, "corrupt zip"),
    "exe": ("setup.exe", lambda g: b"MZ\x90\x00", 415, "not accepted"),
    "gpkg-as-csv": ("s.csv", lambda g: g, 415, "content is not csv"),
    "zip-as-gpkg": ("s.gpkg", lambda g: _zip([("a", b"x")]), 415, "content is not gpkg"),
    "not-utf8-geojson": ("s.geojson", lambda g: b'{"type": "FeatureCollection", "features":'
                         b' [], "name": "Citt\xe0"}', 422, "invalid utf-8"),
    "truncated-geojson": ("s.geojson", lambda g: sites(3, "t")[:-40], 422, ""),
    "utf16-csv": ("s.csv", lambda g: "lon,lat\n9,45\n".encode("utf-16"), 422, "utf-16"),
    "empty": ("s.csv", lambda g: b"", 422, "empty"),
}


@pytest.fixture(scope="module")
def gpkg_bytes(tmp_path_factory) -> bytes:
    return _gpkg(tmp_path_factory)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_files_are_refused_and_nothing_is_written(api, fingerprint, gpkg_bytes, case,
                                                         mode):
    name, build, status, reason = UNSAFE[case]
    before = fingerprint()
    headers = {"Prefer": "respond-async"} if mode == "async" else {}
    r = post(api, "admin", build(gpkg_bytes), name=name, headers=headers)
    doc = assert_refused(r, status)
    assert reason.lower() in doc["errors"][0]["reason"].lower(), doc
    assert "/tmp" not in r.text and "rigenera-upload" not in r.text  # our paths stay ours
    assert fingerprint() == before


# ------------------------------------------------------------------ form problems
def test_form_problems_name_the_field(api, fingerprint):
    before = fingerprint()
    admin = basic("admin")
    r = api.post("/api/imports", data={"collection": "sites"}, headers=admin)
    assert_refused(r, 415, "Content-Type")  # no file: not even multipart
    r = api.post("/api/imports", files={"x": ("a.txt", b"")}, data={"collection": "sites"},
                 headers=admin)
    assert_refused(r, 400, "x")
    r = api.post("/api/imports", files={"mapping": ("m.yml", b"")}, data={"collection": "sites"},
                 headers=admin)
    assert_refused(r, 400, "file")
    r = post(api, "admin", sites(1, "f"), collection="piazze")
    assert_refused(r, 400, "collection")
    r = post(api, "admin", sites(1, "f"), dry_run="forse")
    assert_refused(r, 400, "dry_run")
    r = post(api, "tecnico", sites(1, "f"), external="true")
    assert_refused(r, 403, "external")
    r = api.post("/api/imports", content=b"--x\r\nnot a part\r\n", headers={
        **admin, "Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400, r.text
    r = api.post("/api/imports", json={"file": "a"}, headers=admin)
    assert_refused(r, 415, "Content-Type")
    assert fingerprint() == before


@pytest.mark.parametrize(("disposition", "shown"), [
    ('filename="Città è.geojson"'.encode(), "Città è.geojson"),  # browsers: raw UTF-8
    (b"filename*=UTF-8''Citt%C3%A0.geojson", "Città.geojson"),  # RFC 5987
    (b"filename*=nonexistent-charset''Citt%C3%A0.geojson", "Città.geojson"),
    (b'filename="C:\\Users\\anna\\siti.geojson"', "siti.geojson"),  # folders dropped
])
def test_file_names_as_clients_send_them(api, disposition, shown):
    body = (b'--B\r\nContent-Disposition: form-data; name="collection"\r\n\r\nsites\r\n'
            b'--B\r\nContent-Disposition: form-data; name="dry_run"\r\n\r\ntrue\r\n'
            b'--B\r\nContent-Disposition: form-data; name="file"; ' + disposition +
            b"\r\n\r\n" + sites(2, "names") + b"\r\n--B--\r\n")
    r = api.post("/api/imports", content=body, headers={**MP, **basic("admin")})
    assert r.status_code == 200, r.text
    assert r.json()["file"]["name"] == shown


# ------------------------------------------------------------------ bounded uploads
@pytest.fixture(scope="module")
def small(db: str, tmp_path_factory) -> Iterator[tuple[LiveServer, httpx.Client]]:
    """The app with a 2 MiB import limit (the body limit is that plus a 2 MiB envelope)."""
    live = LiveServer(db, tmp_path_factory.mktemp("small"), import_max_bytes=2 * MIB).start()
    with httpx.Client(base_url=live.url, timeout=120) as client:
        yield live, client
    live.stop()


class Multipart(Feeder):
    """A multipart body whose file part goes on for `total` bytes of GeoJSON whitespace."""

    def __init__(self, total: int) -> None:
        super().__init__(total, start=b'--B\r\nContent-Disposition: form-data; name="file"; '
                         b'filename="big.geojson"\r\n\r\n{')


MP = {"Content-Type": "multipart/form-data; boundary=B"}


@pytest.mark.parametrize("mode", ["chunked", "length"])
def test_oversized_upload_is_413_before_it_is_read(small, fingerprint, mode):
    _, client = small
    before = fingerprint()
    body = Multipart(500 * MIB)
    headers = {**MP, **basic("admin")}
    if mode == "length":
        headers["Content-Length"] = str(500 * MIB)
    r = client.post("/api/imports", content=body, headers=headers)
    assert r.status_code == 413, r.text[:300]
    doc = r.json()
    assert doc["code"] == "PayloadTooLarge" and " / " in doc["description"]
    assert body.sent <= 4 * MIB + 16 * MIB, body.sent  # of 500 MiB offered
    assert fingerprint() == before


def test_file_part_over_its_limit_is_413_naming_the_file(small, fingerprint):
    _, client = small
    before = fingerprint()
    r = client.post("/api/imports", files={"file": ("big.geojson", b"{" + b" " * (3 * MIB))},
                    data={"collection": "sites"}, headers=basic("admin"))
    doc = assert_refused(r, 413)
    assert doc["limit"] == 2 * MIB and "big.geojson" in doc["description"]
    assert fingerprint() == before


def test_anonymous_uploads_are_never_read(small):
    _, client = small
    body = Multipart(500 * MIB)
    r = client.post("/api/imports", content=body, headers=MP)
    assert r.status_code == 401 and r.headers["connection"] == "close"
    assert body.sent <= 16 * MIB, body.sent
    body = Multipart(500 * MIB)
    r = client.post("/api/imports", content=body, headers={**MP, **basic("volontario")})
    assert r.status_code == 403 and body.sent <= 16 * MIB, body.sent


def test_memory_stays_flat_under_oversized_uploads(small, fingerprint):
    _, client = small
    before, memory = fingerprint(), rss()
    for _ in range(5):
        body = Multipart(500 * MIB)
        r = client.post("/api/imports", content=body, headers={**MP, **basic("admin")})
        assert r.status_code == 413
    assert rss() - memory < 50 * MIB, rss() - memory
    assert fingerprint() == before


def test_uploads_are_spooled_to_disk_not_memory(api, fingerprint):
    """A 128 MiB upload, sent streaming (the client holds 1 MiB at a time), received whole,
    spooled and checked (a GeoJSON that never ends: refused by the file check, before GDAL):
    the server's memory grows far less than the file."""

    def body() -> Iterator[bytes]:
        yield (b'--B\r\nContent-Disposition: form-data; name="collection"\r\n\r\nsites\r\n'
               b'--B\r\nContent-Disposition: form-data; name="file"; filename="lungo.geojson"'
               b'\r\n\r\n{')
        chunk = b" " * MIB
        for _ in range(128):
            yield chunk
        yield b'"\r\n--B--\r\n'

    before, memory = fingerprint(), rss()
    r = api.post("/api/imports", content=body(), headers={**MP, **basic("admin")})
    assert_refused(r, 422)
    assert rss() - memory < 32 * MIB, rss() - memory
    assert fingerprint() == before


# ------------------------------------------------------------------ asynchronous imports
def test_async_import_reports_running_then_the_report(api, db, fingerprint):
    """Prefer: respond-async: 202 + Location at once; while the sites table is locked by
    another transaction (SHARE: reads go on, writes wait) the import waits before writing,
    and GET says running; then its report."""
    n = 3000
    lock = psycopg2.connect(db)
    try:
        with lock.cursor() as cur:
            cur.execute("BEGIN; LOCK TABLE rigenera.sites IN SHARE MODE")
        started = time.monotonic()
        r = post(api, "coord", sites(n, "async"), headers={"Prefer": "respond-async"})
        assert r.status_code == 202, r.text
        assert time.monotonic() - started < 20
        assert r.headers["preference-applied"] == "respond-async"
        location = r.headers["location"]
        doc = r.json()
        assert doc["status"] == "running" and location == f"/api/imports/{doc['id']}"
        deadline = time.monotonic() + 30
        while True:  # staged and checked, it waits to write: progress says so meanwhile
            running = api.get(location, headers=basic("coord")).json()
            assert running["status"] == "running" and running["finished_at"] is None
            if running["progress"] == {"done": n, "total": n} or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert running["progress"] == {"done": n, "total": n}, running["progress"]
        assert record(db, doc["id"])["status"] == "running"
        assert stored(db, "async") == 0
    finally:
        lock.rollback()
        lock.close()
    deadline = time.monotonic() + 120
    while True:
        final = api.get(location, headers=basic("coord")).json()
        if final["status"] != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert final["status"] == "succeeded", final
    assert final["counts"]["created"] == n and final["progress"] == {"done": n, "total": n}
    assert stored(db, "async") == n
    assert query(db, "SELECT count(*) FROM rigenera.history WHERE import_id = %s",
                 (doc["id"],))[0][0] == n


def test_async_refusal_is_recorded(api, db, fingerprint):
    before = fingerprint()
    r = post(api, "tecnico.sesto", sites(5, "async-reach"), headers={"Prefer": "respond-async"})
    assert r.status_code == 202, r.text
    location = r.headers["location"]
    for _ in range(300):
        doc = api.get(location, headers=basic("tecnico.sesto")).json()
        if doc["status"] != "running":
            break
        time.sleep(0.1)
    assert doc["status"] == "refused" and doc["message"], doc
    assert {e["row"] for e in doc["rejected"]} == {1, 2, 3, 4, 5}
    assert fingerprint() == before


ASYNC = {"Prefer": "respond-async"}


def wait_for(api: httpx.Client, location: str, user: str = "admin", seconds: float = 120
             ) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        doc = api.get(location, headers=basic(user)).json()
        if doc["status"] != "running" or time.monotonic() > deadline:
            return doc
        time.sleep(0.2)


def locked_sites(db: str) -> psycopg2.extensions.connection:
    """A transaction holding SHARE on rigenera.sites: imports read, then wait to write."""
    conn = psycopg2.connect(db)
    with conn.cursor() as cur:
        cur.execute("LOCK TABLE rigenera.sites IN SHARE MODE")
    return conn


def test_imports_beyond_the_workers_and_their_queue_are_503(api, db):
    """2 import threads and 4 waiting (the defaults): the 7th import is 503 + Retry-After,
    synchronous or not, and leaves no record; the six others then complete."""
    records = query(db, "SELECT count(*) FROM rigenera.imports")[0][0]
    lock = locked_sites(db)
    try:
        locations = []
        for i in range(6):
            r = post(api, "admin", sites(3, f"busy{i}"), headers=ASYNC)
            assert r.status_code == 202, r.text
            locations.append(r.headers["location"])
        for headers in (ASYNC, {}):
            r = post(api, "admin", sites(3, "busy-x"), headers=headers)
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"] and r.json()["code"] == "ServiceUnavailable"
        assert query(db, "SELECT count(*) FROM rigenera.imports")[0][0] == records + 6
    finally:
        lock.rollback()
        lock.close()
    for i, location in enumerate(locations):
        assert wait_for(api, location)["status"] == "succeeded"
        assert stored(db, f"busy{i}") == 3
    assert stored(db, "busy-x") == 0


def test_shutdown_fails_the_queued_imports_and_waits_for_the_running_one(db, tmp_path):
    live = LiveServer(db, tmp_path, import_workers=1).start()
    lock = locked_sites(db)
    stopping = threading.Thread(target=live.stop)
    try:
        with httpx.Client(base_url=live.url, timeout=60) as client:
            ids = []
            for i in range(3):  # one runs (and waits for the lock), two wait for the thread
                r = post(client, "admin", sites(3, f"stop{i}"), headers=ASYNC)
                assert r.status_code == 202, r.text
                ids.append(r.json()["id"])
        stopping.start()
        deadline = time.monotonic() + 30
        while [record(db, i)["status"] for i in ids[1:]] != ["failed", "failed"]:
            assert time.monotonic() < deadline, [record(db, i) for i in ids]
            time.sleep(0.2)
        assert record(db, ids[0])["status"] == "running"
    finally:
        lock.rollback()
        lock.close()
    stopping.join(60)
    assert not stopping.is_alive()
    assert record(db, ids[0])["status"] == "succeeded" and stored(db, "stop0") == 3
    assert stored(db, "stop1") == stored(db, "stop2") == 0
    (message,) = query(db, "SELECT report->>'message' FROM rigenera.imports WHERE id = %s",
                       (ids[1],))[0]
    assert "server stopped" in message


# ------------------------------------------------------------------ the records
def test_list_newest_first_paged_and_visible_to_whom(api, db):
    for user in ("tecnico", "coord"):
        assert post(api, user, sites(2, f"list-{user}"), dry_run="true").status_code == 200
    everyone = api.get("/api/imports", headers=basic("admin")).json()["items"]
    ids = [i["id"] for i in everyone]
    assert ids == sorted(ids, reverse=True)
    expected = [r[0] for r in query(db, "SELECT id FROM rigenera.imports ORDER BY id DESC"
                                        " LIMIT 50")]
    assert ids == expected
    own = api.get("/api/imports", headers=basic("tecnico")).json()["items"]
    assert own and {i["user"] for i in own} == {"tecnico"}
    assert [i["id"] for i in own] == [r[0] for r in query(
        db, "SELECT id FROM rigenera.imports WHERE actor = 'tecnico' ORDER BY id DESC LIMIT 50")]
    coords = next(i for i in everyone if i["user"] == "coord")
    assert api.get(f"/api/imports/{coords['id']}", headers=basic("tecnico")).status_code == 404
    assert api.get(f"/api/imports/{coords['id']}", headers=basic("admin")).status_code == 200
    assert api.get("/api/imports", headers=basic("volontario")).status_code == 403
    assert api.get("/api/imports").status_code == 401
    # paging: limit=2 and the next links walk the same ids
    walked, url = [], "/api/imports?limit=2"
    while url and len(walked) < 6:
        page = api.get(url, headers=basic("admin")).json()
        walked += [i["id"] for i in page["items"]]
        url = next((li["href"] for li in page["links"] if li["rel"] == "next"), None)
    assert walked == ids[: len(walked)] and len(walked) == min(6, len(ids))
    for bad in ("/api/imports/abc", "/api/imports/0", f"/api/imports/{2**70}",
                "/api/imports/999999999"):
        assert api.get(bad, headers=basic("admin")).status_code == 404
    assert api.get("/api/imports?limit=0", headers=basic("admin")).status_code == 400


def test_openapi_documents_the_import_routes(api):
    doc = api.get("/api/openapi.json").json()
    post_op = doc["paths"]["/api/imports"]["post"]
    body = post_op["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    form = doc["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert form["required"] == ["file", "collection"]
    assert form["properties"]["file"]["format"] == "binary"
    assert {"200", "201", "202", "400", "401", "403", "413", "415", "422"} <= set(
        post_op["responses"])
    assert "Location" in post_op["responses"]["201"]["headers"]
    assert post_op["security"] == [{"basic": []}, {"bearer": []}]
    for path in ("/api/imports", "/api/imports/{import_id}",
                 "/api/imports/{import_id}/rejected.csv"):
        assert doc["paths"][path]["get"]["security"] == [{"basic": []}, {"bearer": []}]
    csv = doc["paths"]["/api/imports/{import_id}/rejected.csv"]["get"]["responses"]["200"]
    assert "text/csv" in csv["content"]
