"""The `rigenera` command and the embedded cluster, as `make run` / `make stop` use them."""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg2
import pytest

from rigenera.cluster import free_port

RIGENERA = str(Path(sys.executable).parent / "rigenera")


@pytest.fixture
def embedded_env():
    state = Path(tempfile.mkdtemp(prefix="rigenera-cli-"))
    state.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RIGENERA_DATABASE_URL")}
    env.update(RIGENERA_STATE_DIR=str(state / "state"), RIGENERA_PG_PORT=str(free_port()),
               RIGENERA_PORT=str(free_port()), RIGENERA_LOG_LEVEL="warning")
    yield env
    subprocess.run([RIGENERA, "stop"], env=env, capture_output=True, timeout=60)
    shutil.rmtree(state, ignore_errors=True)


def cli(env, *args, check=True):
    out = subprocess.run([RIGENERA, *args], env=env, capture_output=True, text=True, timeout=180)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def test_embedded_cluster_lifecycle(embedded_env):
    env = embedded_env
    assert cli(env, "db", "status", check=False).returncode == 3
    cli(env, "db", "start")
    assert "running" in cli(env, "db", "status").stdout
    dsn = cli(env, "db", "url").stdout.strip()
    assert f"127.0.0.1:{env['RIGENERA_PG_PORT']}" in dsn
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_user, inet_server_addr()::text")
        user, addr = cur.fetchone()
    conn.close()
    assert user == "postgres" and addr.startswith("127.0.0.1")
    # a password is required, even on loopback
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host="127.0.0.1", port=env["RIGENERA_PG_PORT"], user="postgres",
                         dbname="rigenera", password="wrong")
    datadir = Path(env["RIGENERA_STATE_DIR"]) / "pg" / "data"
    if os.geteuid() == 0:  # PostgreSQL refuses root: the server runs as an unprivileged user
        owner = pwd.getpwuid(datadir.stat().st_uid).pw_name
        assert owner != "root"
    cli(env, "db", "start")  # idempotent: reuses the running cluster
    assert cli(env, "db", "url").stdout.strip() == dsn
    assert "stopped" in cli(env, "db", "stop").stdout
    assert cli(env, "db", "status", check=False).returncode == 3


def test_run_serves_demo_then_stop_stops_everything(embedded_env):
    env = embedded_env
    base = f"http://127.0.0.1:{env['RIGENERA_PORT']}"
    proc = subprocess.Popen([RIGENERA, "run"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                r = httpx.get(f"{base}/ogc/collections", timeout=5)
                if r.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.5)
        ids = {c["id"] for c in r.json()["collections"]}
        assert ids == {"comuni", "sites", "projects", "mobility_links", "transit_stops",
                       "calls", "needs"}
        hits = httpx.get(f"{base}/ogc/collections/comuni/items?resulttype=hits").json()
        assert hits["numberMatched"] == 133
        out = cli(env, "stop").stdout
        assert "server" in out and "stopped" in out
        proc.wait(timeout=30)
        assert cli(env, "db", "status", check=False).returncode == 3
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


def test_database_url_means_no_cluster(embedded_env, dsn):
    env = dict(embedded_env, DATABASE_URL=dsn)
    out = cli(env, "migrate")
    assert "up to date" in out.stdout
    assert "DATABASE_URL" in cli(env, "db", "status").stderr
    assert not (Path(env["RIGENERA_STATE_DIR"]) / "pg").exists()
