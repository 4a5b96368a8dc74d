"""Project documents over real HTTP: upload and download round trip with the SHA-256, a
file that is not what its name says refused naming `file` with the database and the
storage folder unchanged, oversized uploads 413 leaving nothing behind, roles and reach,
If-Match on DELETE, and a storage that fails leaving no row."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from conftest import MILANO, SESTO, LiveServer, basic, query
from monitoring_data import JPEG, PDF, PNG, execute, project
from rigenera.monitoring import models

LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def live_docs(db, tmp_path_factory):
    """The app with a small document limit (64 KiB) and its own documents folder."""
    state = tmp_path_factory.mktemp("docs-state")
    server = LiveServer(db, state, documents_max_bytes=LIMIT).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(live_docs):
    with httpx.Client(base_url=live_docs.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def folder(live_docs) -> Path:
    return live_docs.settings.state_dir / "documents"


@pytest.fixture(scope="module")
def milano(db):
    return project(db, "Documenti a Milano", [MILANO])


def stored_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def state(db, folder):
    """The documents' rows, the history of documents, the files: a refusal leaves all three."""
    rows = query(db, "SELECT count(*), coalesce(max(id), 0) FROM rigenera.documents")[0]
    hist = query(db, "SELECT count(*) FROM rigenera.history WHERE collection = 'documents'")[0]
    return rows, hist, stored_files(folder) if folder.exists() else []


def upload(client, pid, content, name, user="coord", **fields):
    data = {"kind": "dnsh_checklist", **fields}
    return client.post(f"/api/projects/{pid}/documents", data=data,
                       files={"file": (name, content, "application/octet-stream")},
                       headers=basic(user) if user else {})


def test_round_trip_with_checksum(client, db, folder, milano):
    r = upload(client, milano, PDF, "Check-list DNSH ex ante.pdf", phase="design",
               reference_date="2024-03-31", title="DNSH ex ante")
    assert r.status_code == 201, r.text
    doc = r.json()
    models.Document.model_validate(doc)
    assert r.headers["location"] == f"/api/documents/{doc['id']}"
    assert doc["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (doc["media_type"], doc["size_bytes"], doc["phase"], doc["kind"]) == (
        "application/pdf", len(PDF), "design", "dnsh_checklist")
    assert doc["created_by"] == "coord" and doc["reference_date"] == "2024-03-31"
    meta = client.get(f"/api/documents/{doc['id']}", headers=basic("volontario"))
    assert meta.status_code == 200 and meta.json()["title"] == "DNSH ex ante"
    f = client.get(f"/api/documents/{doc['id']}/file", headers=basic("volontario"))
    assert f.status_code == 200
    assert f.content == PDF and hashlib.sha256(f.content).hexdigest() == doc["sha256"]
    assert f.headers["content-type"] == "application/pdf"
    assert f.headers["etag"] == f'"{doc["sha256"]}"'
    assert "Check-list DNSH ex ante.pdf" in httpx.QueryParams(
        "n=" + f.headers["content-disposition"].split("filename*=UTF-8''")[1])["n"]
    again = client.get(f"/api/documents/{doc['id']}/file",
                       headers={**basic("coord"), "If-None-Match": f.headers["etag"]})
    assert again.status_code == 304
    # the row's history names the acting user; the bytes are under the row's key
    actor, = query(db, "SELECT actor FROM rigenera.history WHERE collection = 'documents'"
                       " AND feature_id = %s AND operation = 'create'", (str(doc["id"]),))[0]
    assert actor == "coord"
    key, = query(db, "SELECT storage_key FROM rigenera.documents WHERE id = %s", (doc["id"],))[0]
    assert (folder / key).read_bytes() == PDF
    listed = client.get(f"/api/projects/{milano}/documents", headers=basic("tecnico.sesto"))
    assert [d["id"] for d in listed.json()["items"]] == [doc["id"]]
    models.DocumentList.model_validate(listed.json())
    photos = client.get(f"/api/projects/{milano}/documents", params={"kind": "photo"},
                        headers=basic("coord"))
    assert photos.json()["items"] == []
    bad = client.get(f"/api/projects/{milano}/documents", params={"kind": "selfie"},
                     headers=basic("coord"))
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "kind"
    changeset, = query(db, "SELECT changeset FROM rigenera.history WHERE collection ="
                           " 'documents' AND feature_id = %s", (str(doc["id"]),))[0]
    assert changeset is not None


def test_images_and_default_phase(client, db, milano):
    for content, name, media in ((PNG, "foto.PNG", "image/png"), (JPEG, "foto.jpeg", "image/jpeg"),
                                 (JPEG, "cantiere.jpg", "image/jpeg")):
        r = upload(client, milano, content, name, kind="photo")
        assert r.status_code == 201, r.text
        assert (r.json()["media_type"], r.json()["phase"], r.json()["title"]) == (
            media, "design", name)  # no progress record: the project is in design


@pytest.mark.parametrize(("content", "name", "status"), [
    (PNG, "relazione.pdf", 422),        # a PNG called .pdf
    (PDF, "foto.png", 422),             # a PDF called .png
    (JPEG, "foto.png", 422),
    (b"hello, not a pdf at all", "relazione.pdf", 415),
    (b"PK\x03\x04 a zip", "relazione.pdf", 415),
    (PDF, "relazione.docx", 415),       # an extension we do not keep
    (PDF, "relazione", 415),
    (b"", "vuoto.pdf", 422),
])
def test_file_not_what_its_name_says_is_refused_naming_file(client, db, folder, milano, content,
                                                            name, status):
    before = state(db, folder)
    r = upload(client, milano, content, name)
    assert r.status_code == status, r.text
    assert r.json()["errors"][0]["field"] == "file"
    assert state(db, folder) == before


@pytest.mark.parametrize(("fields", "field"), [
    ({"kind": "selfie"}, "kind"), ({"phase": "later"}, "phase"),
    ({"reference_date": "31/03/2024"}, "reference_date"), ({"title": "x" * 301}, "title"),
    ({"color": "red"}, "color")])
def test_bad_fields_are_400_naming_them(client, db, folder, milano, fields, field):
    before = state(db, folder)
    r = upload(client, milano, PDF, "a.pdf", **fields)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == field
    assert state(db, folder) == before


@pytest.mark.parametrize("size", [LIMIT + 1, 10 * LIMIT, 200 * LIMIT])
def test_oversized_is_413_and_nothing_is_left_behind(client, db, folder, milano, size):
    before = state(db, folder)
    r = upload(client, milano, PDF + b"0" * (size - len(PDF)), "grande.pdf")
    assert r.status_code == 413, r.text
    assert r.json()["errors"][0]["field"] in ("file", "body")
    assert state(db, folder) == before


def test_roles_and_reach(client, db, folder, milano):
    sesto = project(db, "Documenti a Sesto", [SESTO])
    both = project(db, "Milano e Sesto", [MILANO, SESTO])
    before = state(db, folder)
    out = upload(client, sesto, PDF, "a.pdf", user="tecnico")
    assert out.status_code == 403 and out.json()["errors"][0]["field"] == "project_id"
    assert upload(client, both, PDF, "a.pdf", user="tecnico").status_code == 403
    assert upload(client, milano, PDF, "a.pdf", user="volontario").status_code == 403
    assert upload(client, milano, PDF, "a.pdf", user=None).status_code == 401
    assert upload(client, 2**62, PDF, "a.pdf").status_code == 404
    assert state(db, folder) == before
    assert upload(client, milano, PDF, "a.pdf", user="tecnico").status_code == 201
    assert upload(client, sesto, PDF, "a.pdf", user="tecnico.sesto").status_code == 201
    assert upload(client, both, PDF, "a.pdf", user="admin").status_code == 201
    some = query(db, "SELECT id FROM rigenera.documents ORDER BY id LIMIT 1")[0][0]
    for path in (f"/api/projects/{milano}/documents", f"/api/documents/{some}",
                 f"/api/documents/{some}/file"):
        assert client.get(path).status_code == 401, path


def test_delete_with_if_match(client, db, folder, milano):
    doc = upload(client, milano, PNG, "da-togliere.png", kind="photo").json()
    key, = query(db, "SELECT storage_key FROM rigenera.documents WHERE id = %s", (doc["id"],))[0]
    url = f"/api/documents/{doc['id']}"
    stale = client.delete(url, headers={**basic("coord"), "If-Match": '"7"'})
    assert stale.status_code == 412 and stale.json()["currentVersion"] == 1
    assert (folder / key).exists()
    assert client.delete(url, headers={**basic("tecnico.sesto"), "If-Match": '"1"'}
                         ).status_code == 403
    assert client.delete(url, headers={**basic("volontario")}).status_code == 403
    ok = client.delete(url, headers={**basic("tecnico"), "If-Match": '"1"'})
    assert ok.status_code == 204, ok.text
    assert not (folder / key).exists()
    assert client.get(url, headers=basic("coord")).status_code == 404
    op, actor = query(db, "SELECT operation, actor FROM rigenera.history WHERE collection ="
                          " 'documents' AND feature_id = %s ORDER BY id DESC LIMIT 1",
                      (str(doc["id"]),))[0]
    assert (op, actor) == ("delete", "tecnico")


def test_failing_storage_leaves_no_row(client, db, folder, milano, live_docs, tmp_path):
    """A storage whose folder cannot be created (its place is taken by a file): 500, no row."""
    from rigenera.monitoring.storage import FolderStorage

    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"")
    original = live_docs.app.state.documents
    live_docs.app.state.documents = FolderStorage(blocked)
    try:
        before = state(db, folder)
        r = upload(client, milano, PDF, "a.pdf")
        assert r.status_code == 500
        assert state(db, folder) == before
    finally:
        live_docs.app.state.documents = original


def test_database_failing_at_commit_removes_the_stored_file(client, db, folder, milano):
    """A refusal at COMMIT (a deferred trigger of this test), after the bytes were stored:
    the stored file is removed, no row remains."""
    execute(db, "CREATE FUNCTION public.fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$")
    execute(db, "CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON rigenera.documents"
                " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.title = 'fallisce')"
                " EXECUTE FUNCTION public.fail_at_commit()")
    try:
        before = state(db, folder)
        r = upload(client, milano, PDF, "a.pdf", title="fallisce")
        assert r.status_code == 500, r.text
        assert state(db, folder) == before
        assert upload(client, milano, PDF, "a.pdf", title="riesce").status_code == 201
    finally:
        execute(db, "DROP TRIGGER fail_at_commit ON rigenera.documents;"
                    " DROP FUNCTION public.fail_at_commit()")
