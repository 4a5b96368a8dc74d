"""`rigenera backup` / `rigenera restore` for real: the demo data and documents uploaded
through the API are backed up by the CLI (real pg_dump), restored by the CLI (real
pg_restore) into a brand-new embedded server whose database has no PostGIS yet, and the
restored tables and files have the backup's checksums (and the API serves the same
bytes). A backup of the restored database has equal contents. A changed byte anywhere
(the dump, a file, the manifest) is refused with nothing touched; a non-empty target is
refused without --force and left unchanged; a table that differs after a restore is named
with exit 3; an older backup is migrated. Run with -s for sizes and times.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg2
import pytest

from conftest import MILANO, ROLES, LiveServer, basic, checksum, query
from monitoring_data import JPEG, PDF, PNG, project
from rigenera.backup.checksums import sequence_values, table_checksums
from rigenera.cluster import LocalCluster, free_port
from rigenera.loaders.demo import load_demo
from rigenera.migrate import available, migrate
from rigenera.monitoring.storage import FolderStorage

RIGENERA = str(Path(sys.executable).parent / "rigenera")
VERSIONS = [m.version for m in available()]
NEWEST, PREVIOUS = VERSIONS[-1], VERSIONS[-2]  # numbers have gaps (reserved per task)


def cli(*args: str, dsn: str | None, state: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """The real command in a process of its own; DATABASE_URL only when `dsn` is given."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RIGENERA_DATABASE_URL")}
    env.update(RIGENERA_STATE_DIR=str(state), RIGENERA_LOG_LEVEL="warning", **extra)
    if dsn:
        env["DATABASE_URL"] = dsn
    return subprocess.run([RIGENERA, *args], env=env, capture_output=True, text=True,
                          timeout=300)


def sums(dsn: str) -> tuple[dict[str, Any], dict[str, Any]]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            return table_checksums(cur), sequence_values(cur)
    finally:
        conn.close()


def folder_sums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def manifest_of(path: Path) -> dict[str, Any]:
    with tarfile.open(path) as tar:
        f = tar.extractfile("manifest.json")
        assert f is not None
        return json.load(f)


def flip_byte(source: Path, target: Path, member: str) -> None:
    """A copy of the archive with one byte changed in the middle of `member`'s data."""
    shutil.copyfile(source, target)
    with tarfile.open(target) as tar:
        info = tar.getmember(member)
    with target.open("rb+") as f:
        f.seek(info.offset_data + info.size // 2)
        byte = f.read(1)
        f.seek(-1, io.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))


def rewrite(source: Path, target: Path, change: Any) -> None:
    """A copy whose manifest was edited by `change` and re-sealed (manifest.sha256)."""
    with tarfile.open(source) as src, tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as out:
        for info in src.getmembers():
            data = src.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                sealed = hashlib.sha256(data).hexdigest()
            if info.name == "manifest.sha256":
                data = f"{sealed}  manifest.json\n".encode()
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))


def objects(dsn: str) -> int:
    return int(query(dsn, "SELECT count(*) FROM pg_namespace WHERE nspname IN ('rigenera', 'pub')"
                     )[0][0])  # type: ignore[arg-type]


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def work() -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="rigenera-backup-"))
    tmp.chmod(0o755)  # the unprivileged server user must reach the embedded data dirs
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def source(db: str, work: Path) -> Iterator[dict[str, Any]]:
    """The demo database with documents uploaded through the real API."""
    state = work / "source-state"
    live = LiveServer(db, state).start()
    pid = project(db, "Progetto con documenti", [MILANO])
    uploaded = {}
    try:
        with httpx.Client(base_url=live.url, timeout=60) as client:
            for content, name, kind in ((PDF, "relazione.pdf", "dnsh_checklist"),
                                        (PNG, "foto.png", "photo"), (JPEG, "cantiere.jpg", "photo")):
                r = client.post(f"/api/projects/{pid}/documents", data={"kind": kind},
                                files={"file": (name, content, "application/octet-stream")},
                                headers=basic("coord"))
                assert r.status_code == 201, r.text
                uploaded[r.json()["id"]] = content
    finally:
        live.stop()
    yield {"dsn": db, "state": state, "documents": uploaded}


@pytest.fixture(scope="module")
def backup(source: dict[str, Any], work: Path) -> Path:
    out = cli("backup", "--output", str(work / "backups") + "/", dsn=source["dsn"],
              state=source["state"])
    assert out.returncode == 0, out.stderr
    print("\n" + out.stdout)
    path = Path(re.search(r"written: (\S+)", out.stdout).group(1))  # type: ignore[union-attr]
    assert path.parent == work / "backups" and path.suffix == ".tar"
    return path


@pytest.fixture(scope="module")
def fresh(work: Path) -> Iterator[dict[str, Any]]:
    """A brand-new embedded server (not even initialised): restore creates it."""
    state = work / "fresh-state"
    port = free_port()
    yield {"state": state, "port": port}
    LocalCluster(state, port, "rigenera").destroy()


@pytest.fixture(scope="module")
def restored(backup: Path, fresh: dict[str, Any]) -> str:
    out = cli("restore", str(backup), dsn=None, state=fresh["state"],
              RIGENERA_PG_PORT=str(fresh["port"]))
    assert out.returncode == 0, out.stdout + out.stderr
    print("\n" + out.stdout)
    assert "ripristinato / restored" in out.stdout and "checksums equal" in out.stdout
    return LocalCluster(fresh["state"], fresh["port"], "rigenera").dsn


@pytest.fixture(scope="module")
def second_backup(restored: str, fresh: dict[str, Any], work: Path) -> Path:
    """A backup of the restored database, taken before anything uses it (a login through
    the API writes rigenera.login_throttle)."""
    out = cli("backup", "-o", str(work / "second.tar"), dsn=restored, state=fresh["state"])
    assert out.returncode == 0, out.stderr
    return work / "second.tar"


# ----------------------------------------------------------------- tests
def test_the_archive_holds_dump_files_and_a_manifest(backup, source):
    manifest = manifest_of(backup)
    with tarfile.open(backup) as tar:
        names = tar.getnames()
    assert names[0] == "database.dump" and names[-2:] == ["manifest.json", "manifest.sha256"]
    assert manifest["format"] == "rigenera-backup" and manifest["app"]["name"] == "rigenera"
    assert manifest["schema_version"] == NEWEST
    assert manifest["postgresql"]["version_num"] >= 150000
    assert manifest["postgis"] and manifest["pg_dump"].startswith("pg_dump (PostgreSQL)")
    # the checksums are the database's (nothing was written since)
    tables, sequences = sums(source["dsn"])
    assert manifest["tables"] == tables and manifest["sequences"] == sequences
    assert manifest["tables"]["rigenera.sites"]["rows"] == query(
        source["dsn"], "SELECT count(*) FROM rigenera.sites")[0][0] > 0
    assert manifest["tables"]["rigenera.documents"]["rows"] == 3
    assert "public.spatial_ref_sys" not in manifest["tables"]  # PostGIS's own
    # every uploaded document is in, with its sha256; nothing is missing
    members = {m["path"]: m for m in manifest["members"]}
    files = {k: v for k, v in members.items() if k.startswith("files/")}
    keys = [k for (k,) in query(source["dsn"], "SELECT storage_key FROM rigenera.documents")]
    assert sorted(files) == sorted(f"files/documents/{k}" for k in keys)
    assert sorted(m["sha256"] for m in files.values()) == sorted(
        hashlib.sha256(c).hexdigest() for c in source["documents"].values())
    assert manifest["missing_files"] == []
    assert not [p for p in backup.parent.iterdir() if p != backup]  # no partial left
    print(f"archive {backup.stat().st_size} bytes, dump {members['database.dump']['bytes']} "
          f"bytes, {sum(t['rows'] for t in tables.values())} rows in {len(tables)} tables")


def test_restore_into_a_new_empty_server(restored, second_backup, backup, fresh, source):
    manifest = manifest_of(backup)
    tables, sequences = sums(restored)
    assert tables == manifest["tables"] and sequences == manifest["sequences"]
    assert tables == sums(source["dsn"])[0]
    assert query(restored, "SELECT extversion FROM pg_extension WHERE extname = 'postgis'"
                 )[0][0] == manifest["postgis"]
    assert folder_sums(fresh["state"] / "documents") == folder_sums(
        source["state"] / "documents")
    # the restored server serves the documents' bytes through the API
    live = LiveServer(restored, fresh["state"]).start()
    try:
        with httpx.Client(base_url=live.url, timeout=60) as client:
            for doc_id, content in source["documents"].items():
                r = client.get(f"/api/documents/{doc_id}/file", headers=basic("coord"))
                assert r.status_code == 200 and r.content == content
            r = client.get("/ogc/collections/sites/items", params={"limit": 1})
            assert r.status_code == 200
            assert r.json()["numberMatched"] == manifest["tables"]["rigenera.sites"]["rows"]
    finally:
        live.stop()


def test_a_backup_of_the_restored_database_is_equal(second_backup, backup):
    first, second = manifest_of(backup), manifest_of(second_backup)
    assert second["tables"] == first["tables"] and second["sequences"] == first["sequences"]
    files = [{m["path"]: m["sha256"] for m in x["members"] if m["path"].startswith("files/")}
             for x in (first, second)]
    assert files[0] == files[1] and len(files[0]) == 3


@pytest.mark.parametrize("member", ["database.dump", "files", "manifest.json"])
def test_a_changed_byte_is_refused_and_nothing_touched(member, backup, cluster, work):
    if member == "files":
        member = next(m["path"] for m in manifest_of(backup)["members"]
                      if m["path"].startswith("files/"))
    bad = work / f"bad-{member.replace('/', '_')}.tar"
    flip_byte(backup, bad, member)
    target = cluster.create_database()  # empty, no PostGIS
    state = work / f"untouched-{bad.stem}"
    (state / "documents").mkdir(parents=True)
    (state / "documents" / "keep.txt").write_text("mine")
    out = cli("restore", str(bad), dsn=target, state=state)
    assert out.returncode == 2, out.stdout + out.stderr
    shown = member if member != "manifest.json" else "manifesto"
    assert shown in out.stderr and "danneggiato" in out.stderr and "damaged" in out.stderr
    assert objects(target) == 0
    assert query(target, "SELECT count(*) FROM pg_extension WHERE extname = 'postgis'")[0][0] == 0
    assert sorted(p.name for p in state.rglob("*")) == ["documents", "keep.txt"]


def test_a_database_that_is_not_empty_is_refused_without_force(backup, make_database, work):
    target = make_database()
    load_demo(target)
    query(target, "UPDATE rigenera.sites SET name = name || ' (target)' WHERE id = "
                  "(SELECT min(id) FROM rigenera.sites) RETURNING id")
    before = checksum(target)
    state = work / "nonempty-state"
    old_key = f"7/{'ab' * 16}"
    (state / "documents" / "7").mkdir(parents=True)
    (state / "documents" / old_key).write_bytes(b"a file of the server being replaced")
    files_before = folder_sums(state)
    out = cli("restore", str(backup), dsn=target, state=state)
    assert out.returncode == 2
    assert "non è vuoto" in out.stderr and "not empty" in out.stderr and "--force" in out.stderr
    assert checksum(target) == before and folder_sums(state) == files_before
    assert sorted(p.name for p in (state / "documents").iterdir()) == ["7"]  # no staging left
    forced = cli("restore", str(backup), "--force", "-j", "2", dsn=target, state=state)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "--force" in forced.stdout and ".before-restore-" in forced.stdout
    assert sums(target)[0] == manifest_of(backup)["tables"]
    # the documents folder holds the backup's files; the old one is kept aside, not served
    members = {m["path"].removeprefix("files/documents/"): m["sha256"]
               for m in manifest_of(backup)["members"]
               if m["path"].startswith("files/documents/")}
    assert FolderStorage(state / "documents").keys() == sorted(members)
    aside, = (state / "documents").glob(".before-restore-*")
    assert (aside / old_key).read_bytes() == b"a file of the server being replaced"


def test_a_table_that_differs_after_restore_is_named(backup, cluster, work):
    def change(manifest: dict[str, Any]) -> None:
        manifest["tables"]["rigenera.projects"]["md5"] = "0" * 32

    wrong = work / "wrong-checksum.tar"
    rewrite(backup, wrong, change)
    state = work / "mismatch-state"
    out = cli("restore", str(wrong), dsn=cluster.create_database(), state=state)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "rigenera.projects" in out.stderr and "non corrisponde" in out.stderr
    assert "differs" in out.stderr and "rigenera.sites" not in out.stderr
    assert not (state / "documents").exists()  # the files are not swapped in, no staging left


def test_an_older_backup_is_migrated(cluster, work):
    dsn = cluster.create_database()
    migrate(dsn, target=PREVIOUS)
    state = work / "older-state"
    out = cli("backup", "-o", str(work / "older.tar"), dsn=dsn, state=state)
    assert out.returncode == 0, out.stderr
    assert manifest_of(work / "older.tar")["schema_version"] == PREVIOUS
    target = cluster.create_database()
    out = cli("restore", str(work / "older.tar"), dsn=target, state=state)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "migrations applied" in out.stdout
    assert query(target, "SELECT max(version) FROM rigenera.schema_migrations")[0][0] == NEWEST


def test_cli_refusals(backup, cluster, work):
    state = work / "cli-state"
    missing = cli("restore", str(work / "nope.tar"), dsn=cluster.create_database(), state=state)
    assert missing.returncode == 2 and "inesistente" in missing.stderr
    assert "no backup" in missing.stderr
    junk = work / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    out = cli("restore", str(junk), dsn=cluster.create_database(), state=state)
    assert out.returncode == 2 and "not a readable backup" in out.stderr
    exists = cli("backup", "-o", str(backup), dsn=cluster.create_database(), state=state)
    assert exists.returncode == 2
    assert "esiste già" in exists.stderr and "exists already" in exists.stderr
    newer = work / "newer.tar"
    rewrite(backup, newer, lambda m: m.update(schema_version=NEWEST + 1))
    out = cli("restore", str(newer), dsn=cluster.create_database(), state=state)
    assert out.returncode == 2 and "upgrade" in out.stderr and "aggiornare" in out.stderr


def test_a_backup_taken_while_editors_write_is_consistent(db, cluster, work):
    """Accounts are added all along the backup; the manifest's checksums come from pg_dump's
    own snapshot, so the restore of that dump matches them (else exit 3)."""
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        conn = psycopg2.connect(db)
        conn.autocommit = True
        with conn.cursor() as cur:
            n = 0
            while not stop.is_set():
                n += 1
                cur.execute("INSERT INTO rigenera.accounts (username, role, password_hash)"
                            " VALUES (%s, 'volunteer', 'x')", (f"scrittore{n}",))
                written.append(n)
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.3)
        before = len(written)
        out = cli("backup", "-o", str(work / "busy.tar"), dsn=db, state=work / "busy-state")
        during = len(written) - before
    finally:
        stop.set()
        thread.join()
    assert out.returncode == 0, out.stderr
    assert during > 10  # the accounts table changed many times while pg_dump ran
    manifest = manifest_of(work / "busy.tar")
    assert 0 < manifest["tables"]["rigenera.accounts"]["rows"] < len(ROLES) + len(written)
    target = cluster.create_database()
    restored = cli("restore", str(work / "busy.tar"), dsn=target, state=work / "busy-restore")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert sums(target)[0] == manifest["tables"]
    print(f"\n{during} accounts added while the backup ran")
