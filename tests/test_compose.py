"""The production layout: docker-compose.yml validated by compose itself, and the reverse
proxy's REAL nginx config run in front of a live API on 127.0.0.1.

No container engine is needed: `docker compose config` (or docker-compose 1.29's) parses,
interpolates and validates the file; the structural checks then read its output. The
nginx config is the very template the proxy container renders at start
(deploy/nginx/templates), rendered here the same way (envsubst of defined names only) with
127.0.0.1 ports, a self-signed certificate and the test API as upstream, and run as a
foreground nginx with its own prefix. Both tools come from scripts/bootstrap-ops.sh: when
they are missing the tests fail, they never skip.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg2
import pytest
import uvicorn
import yaml

from conftest import basic, query
from rigenera.cluster import free_port
from rigenera.factory import create_app
from rigenera.limits import UPLOAD_ENVELOPE
from rigenera.monitoring.storage import stored_folders
from rigenera.settings import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"
TEMPLATE = DEPLOY / "nginx" / "templates" / "rigenera.conf.template"
COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
SETUP = "scripts/bootstrap-ops.sh"
CLIENT = "127.0.0.2"  # the test client's own loopback address, not the proxy's 127.0.0.1


# ------------------------------------------------------------------ helpers

def compose_command() -> list[str]:
    """`docker compose` (v2) when the plugin is there, else docker-compose (v1.29)."""
    docker = shutil.which("docker")
    if docker is not None and subprocess.run([docker, "compose", "version"],
                                             capture_output=True, check=False).returncode == 0:
        return [docker, "compose"]
    v1 = shutil.which("docker-compose")
    if v1 is None:
        pytest.fail(f"no compose found (neither `docker compose` nor docker-compose): run {SETUP}")
    return [v1]


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if found is None:
        pytest.fail(f"nginx not found: run {SETUP}")
    return found


def render(template: str, env: dict[str, str]) -> str:
    """What the nginx image's entrypoint does: envsubst of the defined names only."""
    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return env[name] if name in env else m.group(0)
    out = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Z_][A-Z0-9_]*)\b", sub, template)
    left = re.findall(r"\$\{[A-Za-z_]+\}", out)
    assert not left, f"template names not given: {left}"
    return out


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, y, x


# ------------------------------------------------------------------ the live stack

class ProxiedApi:
    """The API served as `rigenera serve` serves it (proxy headers trusted from 127.0.0.1),
    and nginx with the production template in front of it."""

    def __init__(self, dsn: str, tmp: Path) -> None:
        self.api_port, self.http_port, self.https_port = free_port(), free_port(), free_port()
        settings = Settings(host="127.0.0.1", port=self.api_port, state_dir=tmp / "state",
                            database_url=dsn, log_level="warning",
                            public_url=f"https://127.0.0.1:{self.https_port}",
                            forwarded_allow_ips="127.0.0.1")
        self.settings = settings
        config = uvicorn.Config(create_app(settings, dsn=dsn), host="127.0.0.1",
                                port=self.api_port, log_level="warning", loop="asyncio",
                                lifespan="on", proxy_headers=True,
                                forwarded_allow_ips=settings.forwarded_allow_ips)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.prefix = tmp / "nginx"
        (self.prefix / "logs").mkdir(parents=True)
        cert, key = self_signed(tmp)
        self.cert = cert
        self.env = {
            "RIGENERA_API_UPSTREAM": f"127.0.0.1:{self.api_port}",
            "NGINX_RESOLVER": "127.0.0.1",  # an address: no name to resolve here
            "NGINX_LISTEN_HTTP": f"127.0.0.1:{self.http_port}",
            "NGINX_LISTEN_HTTPS": f"127.0.0.1:{self.https_port}",
            "NGINX_REDIRECT_PORT": f":{self.https_port}",
            "NGINX_TLS_CERT": str(cert), "NGINX_TLS_KEY": str(key),
            "NGINX_CACHE_DIR": str(self.prefix / "tiles"),
            "NGINX_TILE_CACHE_SIZE": "64m",
            "NGINX_CLIENT_MAX_BODY": compose_env()["NGINX_CLIENT_MAX_BODY"],
        }
        self.site = render(TEMPLATE.read_text(encoding="utf-8"), self.env)
        (self.prefix / "rigenera.conf").write_text(self.site, encoding="utf-8")
        temp = "\n".join(f"    {d}_temp_path {self.prefix / d};"
                         for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # The main file of the nginx image, with this prefix's paths; the site is the template.
        # as root (a CI container), the workers would be nobody, locked out of pytest's tmp
        user = "user root;" if os.geteuid() == 0 else ""
        (self.prefix / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
pid {self.prefix / "nginx.pid"};
error_log {self.prefix / "logs" / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {self.prefix / "logs" / "access.log"};
    sendfile on;
{temp}
    include {self.prefix / "rigenera.conf"};
}}
""", encoding="utf-8")
        self.nginx: subprocess.Popen[bytes] | None = None

    def start(self) -> ProxiedApi:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "API did not start"
            time.sleep(0.05)
        conf = str(self.prefix / "nginx.conf")
        check = subprocess.run([nginx_binary(), "-t", "-p", str(self.prefix), "-c", conf],
                               capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stderr
        self.nginx = subprocess.Popen([nginx_binary(), "-p", str(self.prefix), "-c", conf,
                                       "-g", "daemon off;"])
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and self.nginx.poll() is None, \
                    (self.prefix / "logs" / "error.log").read_text()
                time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def direct(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def client(self) -> httpx.Client:
        """An HTTPS client that trusts the test certificate and connects from CLIENT."""
        transport = httpx.HTTPTransport(verify=ssl.create_default_context(cafile=str(self.cert)),
                                        local_address=CLIENT)
        return httpx.Client(base_url=self.https, transport=transport, timeout=60)


@pytest.fixture(scope="module")
def stack(db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxiedApi]:
    nginx_binary()
    live = ProxiedApi(db, tmp_path_factory.mktemp("proxy")).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def web(stack: ProxiedApi) -> Iterator[httpx.Client]:
    with stack.client() as client:
        yield client


# ------------------------------------------------------------------ nginx, for real

def test_https_works_and_http_redirects(stack: ProxiedApi, web: httpx.Client) -> None:
    r = web.get("/ogc/collections", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.http_version in ("HTTP/1.1", "HTTP/2")
    assert any(c["id"] == "sites" for c in r.json()["collections"])
    with httpx.Client(transport=httpx.HTTPTransport(local_address=CLIENT)) as plain:
        r = plain.get(f"http://127.0.0.1:{stack.http_port}/ogc/collections?f=json")
        assert r.status_code == 308
        assert r.headers["location"] == \
            f"https://127.0.0.1:{stack.https_port}/ogc/collections?f=json"
        assert plain.get(f"http://127.0.0.1:{stack.http_port}/proxy-health").text == "ok\n"
    assert web.get("/metrics").status_code == 404  # scraped on the backend network only


def test_hsts_once_and_no_version(web: httpx.Client) -> None:
    for path in ("/", "/ogc/collections?f=json", "/ogc/collections/sites/tiles/WebMercatorQuad/0/0/0"):
        r = web.get(path)
        assert r.headers.get_list("strict-transport-security") == \
            ["max-age=31536000; includeSubDomains"], path
        assert r.headers["server"] == "nginx", path  # server_tokens off: no version


def test_gzip_on_json_geojson_html(web: httpx.Client) -> None:
    """Compressed by the proxy (the API sends them plain); figures with -s."""
    for path, media in (("/ogc/collections?f=json", "application/json"),
                        ("/ogc/collections/comuni/items?limit=50", "application/geo+json"),
                        ("/", "text/html")):
        r = web.get(path, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith(media), (path, r.headers["content-type"])
        assert r.headers.get("content-encoding") == "gzip", path
        raw = web.get(path, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in raw.headers
        assert _stable(raw.content) == _stable(r.content), path  # the same answer, decoded
        wire = len(gzip.compress(raw.content, 5))
        print(f"\n{path}: {len(raw.content)} B plain, ~{wire} B gzip "
              f"({wire / len(raw.content):.0%})")


def _stable(body: bytes) -> bytes:
    return re.sub(rb'"timeStamp":\s*"[^"]*"', b"", body)


def _polygon_site(db: str) -> tuple[int, float, float, str]:
    row = query(db, """SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)),
                              state FROM rigenera.sites
                        WHERE GeometryType(geom) LIKE '%%POLYGON'
                        ORDER BY id LIMIT 1""")[0]
    return int(row[0]), float(row[1]), float(row[2]), str(row[3])


def test_tiles_are_cached_revalidated_and_never_stale(stack: ProxiedApi, web: httpx.Client,
                                                      db: str) -> None:
    sid, lon, lat, state = _polygon_site(db)
    urls = ["/ogc/collections/sites/tiles/WebMercatorQuad/{}/{}/{}".format(*tile_of(lon, lat, z))
            for z in (8, 12, 16)]
    direct = httpx.Client(base_url=stack.direct, timeout=60)
    first = {}
    for url in urls:
        r = web.get(url, headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200 and r.headers["x-cache-status"] == "MISS", url
        assert r.headers["etag"].startswith('"')  # strong, as the API sent it
        assert "x-accel-expires" not in r.headers  # for the proxy only
        first[url] = r.content
        again = web.get(url, headers={"Accept-Encoding": "identity"})
        # stored, stale at once, asked again with If-None-Match: the API said 304
        assert again.headers["x-cache-status"] == "REVALIDATED", url
        assert again.content == r.content == direct.get(url).content
        # the client's own validator: 304 from the proxy
        assert web.get(url, headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    print("\n" + ", ".join(f"z{u.split('/')[-3]} tile {len(b)} B, gzip ~"
                           f"{len(gzip.compress(b, 5)) / max(len(b), 1):.0%}"
                           for u, b in first.items()))

    fid_url = f"/ogc/collections/sites/items/{sid}"
    etag = web.get(fid_url, headers={"Accept": "application/geo+json"}).headers["etag"]
    new_state = "regenerated" if state != "regenerated" else "abandoned"
    r = web.patch(fid_url, json={"properties": {"state": new_state}},
                  headers={"Content-Type": "application/merge-patch+json", **basic("admin"),
                           "If-Match": etag})
    assert r.status_code == 204, r.text
    for url in urls:  # the very next read through the proxy has the edit
        after = web.get(url, headers={"Accept-Encoding": "identity"})
        assert after.status_code == 200
        assert after.headers["x-cache-status"] == "EXPIRED", url  # refetched, not the old one
        assert after.content != first[url], url
        assert after.content == direct.get(url).content, url
        assert web.get(url).headers["x-cache-status"] == "REVALIDATED"
    direct.close()


def test_client_address_reaches_the_api(stack: ProxiedApi, web: httpx.Client, db: str) -> None:
    """The API sees the client (127.0.0.2), not the proxy (127.0.0.1), and a client cannot
    pick its own address with X-Forwarded-For (the proxy replaces it)."""
    r = web.get("/api/imports",
                headers={**basic("nessuno", "sbagliata"), "X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 401
    keys = {k for (k,) in query(db, "SELECT key FROM rigenera.login_throttle")}
    assert f"address:{CLIENT}" in keys
    assert not {k for k in keys if "203.0.113.9" in k or k == "address:127.0.0.1"}


def test_large_uploads_pass_and_the_proxy_limit_is_above_the_api_s(stack: ProxiedApi,
                                                                     web: httpx.Client) -> None:
    limit = _bytes(stack.env["NGINX_CLIENT_MAX_BODY"])
    api_largest = max(stack.settings.import_max_bytes, stack.settings.documents_max_bytes) \
        + UPLOAD_ENVELOPE
    assert limit >= api_largest, "the proxy would refuse uploads the API accepts"
    assert limit <= api_largest + 4 * 1024 * 1024, "the API's limit should answer, not nginx's"

    # 30 MiB (nginx's default limit is 1 MiB): the API receives all of it and answers itself.
    body = b"codice;nome\n" + b"x" * (30 * 1024 * 1024)
    r = web.post("/api/imports", headers=basic("admin"),
                 files={"file": ("grande.txt", body, "text/plain")},
                 data={"collection": "sites"})
    print(f"\n30 MiB upload through the proxy: {r.status_code} {r.text[:160]}")
    assert r.status_code in (400, 415, 422), (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/"), r.text[:200]  # the API's JSON
    assert "nginx" not in r.text

    # Above the proxy's limit: nginx refuses from Content-Length alone, before any byte.
    ctx = ssl.create_default_context(cafile=str(stack.cert))
    with socket.create_connection(("127.0.0.1", stack.https_port), timeout=10,
                                  source_address=(CLIENT, 0)) as raw, \
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(b"POST /api/imports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: text/plain\r\n"
                    + f"Content-Length: {limit + 1}\r\n\r\n".encode())
        assert tls.recv(200).startswith(b"HTTP/1.1 413")


def _bytes(size: str) -> int:
    units = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
    return int(size[:-1]) * units[size[-1].lower()] if size[-1].isalpha() else int(size)


# ------------------------------------------------------------------ docker-compose.yml

def compose_env() -> dict[str, str]:
    """The proxy service's environment, as written in docker-compose.yml."""
    doc = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    env: dict[str, str] = doc["services"]["proxy"]["environment"]
    return {k: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(v)) for k, v in env.items()}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`compose config` on the real file, with secret files and an .env as an operator
    would write them (README, "Production")."""
    tmp = tmp_path_factory.mktemp("compose")
    secrets = tmp / "secrets"
    secrets.mkdir()
    for name, value in (("postgres_password", "pw-primary"), ("replication_password", "pw-repl"),
                        ("tls_cert.pem", "cert"), ("tls_key.pem", "key")):
        (secrets / name).write_text(value + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RIGENERA_", "POSTGRES_"))}
    env.pop("DATABASE_URL", None)
    env.update({"RIGENERA_SECRETS_DIR": str(secrets), "RIGENERA_API_REPLICAS": "3",
                "RIGENERA_PUBLIC_URL": "https://gis.example.org"})
    done = subprocess.run([*compose_command(), "-f", str(COMPOSE_FILE),
                           "--project-directory", str(PROJECT_ROOT), "config"],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    parsed: dict[str, Any] = yaml.safe_load(done.stdout)
    parsed["_secrets_dir"] = str(secrets)
    return parsed


def test_the_proxy_template_renders_with_the_compose_environment() -> None:
    """Every name the template uses is set by the proxy service (nginx would not start)."""
    site = render(TEMPLATE.read_text(encoding="utf-8"), compose_env())
    assert "listen 443 ssl http2 default_server;" in site
    assert "ssl_certificate /run/secrets/tls_cert;" in site
    assert "server api:8000 resolve;" in site and "resolver 127.0.0.11 " in site
    # `resolve` in an upstream: nginx >= 1.27.3, the image's base
    base = re.search(r"^FROM nginx:(\d+)\.(\d+)", (DEPLOY / "nginx" / "Dockerfile").read_text(
        encoding="utf-8"), re.M)
    assert base is not None and (int(base[1]), int(base[2])) >= (1, 28)


def test_the_image_is_built_by_the_set_up_script() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "RIGENERA_PROFILE=image bash scripts/bootstrap.sh" in dockerfile
    assert 'ENTRYPOINT ["/app/deploy/entrypoint.sh"]' in dockerfile
    assert 'CMD ["rigenera", "serve"]' in dockerfile
    assert not re.search(r"(?i)(password|secret|token)\s*=", dockerfile)
    copied = set(re.findall(r"^COPY (.+) \S+$", dockerfile, re.M))
    for sources in copied:
        for source in sources.split():
            assert (PROJECT_ROOT / source).exists(), source


def test_compose_file_is_valid_and_complete(config: dict[str, Any]) -> None:
    services = config["services"]
    assert {"db", "db-replica", "migrate", "api", "proxy"} <= set(services)
    for name, svc in services.items():
        assert svc.get("healthcheck") or name == "migrate", f"{name}: no healthcheck"
        limits = svc.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("memory") and limits.get("cpus"), f"{name}: no resource limits"
        assert "restart" in svc, f"{name}: no restart policy"
        if name != "proxy":
            assert not svc.get("ports"), f"{name} publishes a port: only the proxy does"
        for value in (svc.get("environment") or {}).values():
            assert "pw-" not in str(value), f"{name}: a secret in its environment"
    assert sorted(int(p["target"]) for p in services["proxy"]["ports"]) == [80, 443]


def test_secrets_are_files_never_in_the_image(config: dict[str, Any]) -> None:
    secrets = config["secrets"]
    assert set(secrets) == {"postgres_password", "replication_password", "tls_cert", "tls_key"}
    for name, s in secrets.items():
        assert Path(s["file"]).parent == Path(config["_secrets_dir"]), name
    env = config["services"]["api"]["environment"]
    assert env["PGPASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert "@" in env["DATABASE_URL"] and ":" not in env["DATABASE_URL"].split("@")[0][13:]
    dockerignore = (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for pattern in ("secrets", "*.pem", "*.key", ".env"):
        assert pattern in dockerignore, pattern


def test_api_reads_from_the_replica_and_writes_to_the_primary(config: dict[str, Any]) -> None:
    api = config["services"]["api"]
    env = api["environment"]
    assert re.match(r"postgresql://[^@]+@db:5432/", env["DATABASE_URL"])
    assert re.match(r"postgresql://[^@]+@db-replica:5432/", env["DATABASE_READ_URLS"])
    assert api["deploy"]["replicas"] == 3  # RIGENERA_API_REPLICAS
    assert int(env["RIGENERA_WORKERS"]) >= 1
    assert env["RIGENERA_PUBLIC_URL"] == "https://gis.example.org"
    assert env["RIGENERA_FORWARDED_ALLOW_IPS"] == \
        config["services"]["proxy"]["networks"]["backend"]["ipv4_address"]
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # what every replica must see is on shared volumes: documents (and the tile cache)
    mounts = _targets(api["volumes"])
    assert env["RIGENERA_DOCUMENTS_DIR"] in mounts and env["RIGENERA_TILE_CACHE_DIR"] in mounts
    # every folder of stored files (documents, event materials: what `rigenera backup` saves)
    stored = stored_folders(Settings(documents_dir=env["RIGENERA_DOCUMENTS_DIR"],
                                     state_dir=env["RIGENERA_STATE_DIR"]))
    assert {str(folder) for folder in stored.values()} <= mounts
    assert env["RIGENERA_STATE_DIR"] not in mounts  # PID file, generated config: per container
    assert api["depends_on"]["db-replica"]["condition"] == "service_healthy"


def test_primary_archives_wal_and_replica_streams(config: dict[str, Any]) -> None:
    db, replica = config["services"]["db"], config["services"]["db-replica"]
    command = " ".join(db["command"]) if isinstance(db["command"], list) else db["command"]
    for setting in ("wal_level=replica", "archive_mode=on", "max_wal_senders",
                    "/var/lib/postgresql/wal-archive"):
        assert setting in command, setting
    assert "/var/lib/postgresql/wal-archive" in _targets(db["volumes"])
    assert "/var/lib/postgresql/data" in _targets(replica["volumes"])
    script = (DEPLOY / "postgres" / "replica-entrypoint.sh").read_text(encoding="utf-8")
    assert "pg_basebackup" in script and " -R" in script
    assert replica["environment"]["PRIMARY_HOST"] == "db"
    assert "replication_password" in {s["source"] for s in replica["secrets"]}


def _targets(volumes: list[Any]) -> set[str]:
    """Mount points, from compose v2's long syntax or docker-compose 1.29's short one."""
    return {v["target"] if isinstance(v, dict) else v.split(":")[1] for v in volumes}


# ------------------------------------------------------------------ the database scripts

def _shim(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(0o755)


def test_replica_entrypoint_makes_a_streaming_standby() -> None:
    """deploy/postgres's scripts, run for real with the embedded PostgreSQL binaries: the
    primary's init script makes the replication role from its secret file, the replica's
    entrypoint copies the primary with pg_basebackup -R through a slot and starts a hot
    standby that follows it. Only the image's own programs are stand-ins: gosu (runuser)
    and docker-entrypoint.sh (pg_ctl start on a free port)."""
    if os.geteuid() != 0:
        pytest.skip("the replica entrypoint chowns its data dir to postgres, as root does in "
                    "the container")
    from rigenera.cluster import LocalCluster

    tmp = Path(tempfile.mkdtemp(prefix="rigenera-compose-"))
    tmp.chmod(0o755)  # the postgres user must reach the data dirs (pytest's tmp is 0700)
    primary = LocalCluster(tmp / "primary", free_port(), "rigenera", fsync=False)
    replica_dir, replica_port = tmp / "replica" / "data", free_port()
    (tmp / "replica").mkdir()
    (tmp / "replica").chmod(0o755)
    shims = tmp / "bin"
    shims.mkdir()
    bindir = str(primary.bindir)
    _shim(shims, "gosu", 'u="$1"; shift; exec runuser -u "$u" -- "$@"')
    _shim(shims, "docker-entrypoint.sh",
          f'shift; exec runuser -u postgres -- {bindir}/pg_ctl start -w -t 60 -D "$PGDATA" '
          f'-l "$PGDATA/replica.log" -o "-p {replica_port} -k $PGDATA -c listen_addresses=127.0.0.1 '
          '$*"')
    secret = tmp / "replication_password"
    secret.write_text("una-password-di-replica\n", encoding="utf-8")
    env = {**os.environ, "PATH": f"{shims}:{bindir}:{os.environ['PATH']}",
           "POSTGRES_USER": "postgres", "POSTGRES_DB": "rigenera",
           "REPLICATION_USER": "replicator", "REPLICATION_PASSWORD_FILE": str(secret)}
    try:
        primary.ensure()
        init = subprocess.run(
            ["sh", str(DEPLOY / "postgres" / "initdb" / "10-replication.sh")],
            env={**env, "PGHOST": "127.0.0.1", "PGPORT": str(primary.port),
                 "PGPASSWORD": primary.password, "PGDATA": str(primary.datadir)},
            capture_output=True, text=True, check=False)
        assert init.returncode == 0, init.stderr
        assert "host replication replicator all scram-sha-256" in \
            (primary.datadir / "pg_hba.conf").read_text(encoding="utf-8")
        start = subprocess.run(
            ["sh", str(DEPLOY / "postgres" / "replica-entrypoint.sh"),
             "postgres", "-c", "hot_standby=on", "-c", "hot_standby_feedback=on"],
            env={**env, "PGDATA": str(replica_dir), "PRIMARY_HOST": "127.0.0.1",
                 "PRIMARY_PORT": str(primary.port), "REPLICA_SLOT": "rigenera_replica_1"},
            capture_output=True, text=True, check=False, timeout=180)
        assert start.returncode == 0, start.stdout + start.stderr
        assert (replica_dir / "standby.signal").exists()

        replica_dsn = primary.dsn.replace(f":{primary.port}/", f":{replica_port}/")
        assert query(replica_dsn, "SELECT pg_is_in_recovery()") == [(True,)]
        with psycopg2.connect(primary.dsn) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE prova AS SELECT 42 AS risposta")
        conn.close()
        deadline = time.monotonic() + 10
        while True:
            try:
                assert query(replica_dsn, "SELECT risposta FROM prova") == [(42,)]
                break
            except psycopg2.errors.UndefinedTable:
                assert time.monotonic() < deadline, "the replica does not follow the primary"
                time.sleep(0.1)
        assert query(primary.dsn, "SELECT active FROM pg_replication_slots "
                                  "WHERE slot_name = 'rigenera_replica_1'") == [(True,)]
        # a second start finds its data: no new copy, the standby just runs
        subprocess.run(["runuser", "-u", "postgres", "--", f"{bindir}/pg_ctl", "stop", "-w",
                        "-D", str(replica_dir)], check=True, capture_output=True)
        again = subprocess.run(
            ["sh", str(DEPLOY / "postgres" / "replica-entrypoint.sh"), "postgres"],
            env={**env, "PGDATA": str(replica_dir), "PRIMARY_HOST": "127.0.0.1",
                 "PRIMARY_PORT": str(primary.port), "REPLICA_SLOT": "rigenera_replica_1"},
            capture_output=True, text=True, check=False, timeout=60)
        assert again.returncode == 0 and "pg_basebackup" not in again.stdout, again.stdout
        assert query(replica_dsn, "SELECT pg_is_in_recovery()") == [(True,)]
    finally:
        if (replica_dir / "postmaster.pid").exists():
            subprocess.run(["runuser", "-u", "postgres", "--", f"{bindir}/pg_ctl", "stop",
                            "-w", "-m", "immediate", "-D", str(replica_dir)],
                           capture_output=True, check=False)
        primary.destroy()
        shutil.rmtree(tmp, ignore_errors=True)


def test_the_api_container_start_reads_its_secret_from_a_file(db: str, tmp_path: Path) -> None:
    """What the API container runs, without the container: deploy/entrypoint.sh turns
    PGPASSWORD_FILE into PGPASSWORD, `rigenera serve` connects with a password-less
    DATABASE_URL (asyncpg and libpq both read PGPASSWORD), deploy/healthcheck.py says
    healthy. Without its secret file the container refuses to start, saying which."""
    import sys
    from urllib.parse import urlparse

    u = urlparse(db)
    assert u.password
    secret = tmp_path / "postgres_password"
    secret.write_text(u.password + "\n", encoding="utf-8")
    bare = db.replace(f":{u.password}@", "@")
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RIGENERA_", "PG")) and k != "DATABASE_URL"}
    env.update({"DATABASE_URL": bare, "PGPASSWORD_FILE": str(secret),
                "RIGENERA_HOST": "127.0.0.1", "RIGENERA_PORT": str(port),
                "RIGENERA_STATE_DIR": str(tmp_path / "state"), "RIGENERA_LOG_LEVEL": "warning",
                "PYTHONPATH": str(PROJECT_ROOT / "server")})
    serve = [sys.executable, "-c", "from rigenera.cli import main; raise SystemExit(main())",
             "serve"]
    check = [sys.executable, str(DEPLOY / "healthcheck.py")]

    refused = subprocess.run(["sh", str(DEPLOY / "entrypoint.sh"), *serve],
                             env={**env, "PGPASSWORD_FILE": str(tmp_path / "missing")},
                             capture_output=True, text=True, timeout=30, check=False)
    assert refused.returncode == 1 and "PGPASSWORD_FILE" in refused.stderr

    assert subprocess.run(check, env=env, check=False).returncode == 1  # nothing listens yet
    proc = subprocess.Popen(["sh", str(DEPLOY / "entrypoint.sh"), *serve], env=env)
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(check, env=env, check=False).returncode != 0:
            assert proc.poll() is None, "the service ended"
            assert time.monotonic() < deadline, "not healthy within 60 s"
            time.sleep(0.5)
        r = httpx.get(f"http://127.0.0.1:{port}/ogc/collections/sites/items?limit=1", timeout=30)
        assert r.status_code == 200 and len(r.json()["features"]) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=20)
