"""Load and faults (issue 13): a minute of readers, editors and an import against
`rigenera serve` on a primary and a streaming replica, while the replica is stopped and
started again and the primary is restarted once; then the proof and the figures.

    .venv/bin/python bench/loadfault.py [--duration 60] [--readers 4] [--editors 10]

Everything on 127.0.0.1 (tests/test_load_faults.py runs it in the suite):
- a primary and a hot-standby replica (tests/replication.py `Replicated`, demo data);
- the server as a real subprocess, `rigenera serve` (with `--workers 2` once the command
  has the flag), DATABASE_URL = primary, DATABASE_READ_URLS = replica (a server that
  does not know replicas yet reads everything from the primary);
- readers (anonymous): item pages, single items and vector tiles (some revalidated with
  If-None-Match), in tight loops;
- editors: technicians of Milano, each with a bearer token, sending changesets
  (POST /api/changesets) that patch their own site and a site shared with one other
  editor; every fourth changeset carries a deliberately stale base_version for the
  shared site, and the two editors of a pair race each other anyway. A 409 is answered
  by re-reading the versions (GET item, ETag) and going on;
- one import through the API (POST /api/imports, a small GeoJSON) at a third of the run;
- faults: the replica stopped at 1/4 of the run and started at 1/2, the primary stopped
  at 2/3, left down RESTART_PAUSE seconds, then started.

Afterwards, against the primary's tables (and the replica once it has replayed):
- no lost update: every acknowledged patch is in history with its version and value, was
  made on the version it was based on (version = base + 1), and the final row holds the
  last one; versions are contiguous, none twice; a refused changeset wrote nothing; an
  accepted one wrote all its operations in one changeset; only writes whose answer was
  lost (5xx, dropped connection) may have landed unacknowledged;
- history complete: one history row per acknowledged change, by its editor;
- reads of one's own feature never older than one's last acknowledged write;
- error rate 0 outside the primary's restart window (from its stop to RECOVERY_BOUND s
  after it is back): reads 200/204/304, writes 200/409, the import 201;
- recovery within RECOVERY_BOUND s: the first success of a request started after the
  primary is back;
- p50/p99 of reads and writes, requests per status, per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg2

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT / "server", ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from replication import Replicated  # noqa: E402
from rigenera.auth import hash_password, new_token  # noqa: E402
from rigenera.cluster import free_port  # noqa: E402

MILANO = "015146"
PASSWORD = "una-password-lunga-di-prova"
RECOVERY_BOUND = 5.0  # s after the primary is back: first success, and end of the window
RESTART_PAUSE = 2.5  # s the primary stays down
IMPORT_SITES = 40
# Answers that are not errors, by kind of request.
OK = {"read": {200, 204, 304}, "reread": {200}, "write": {200, 409}, "import": {201}}
CENTRE = (9.1900, 45.4640)  # Piazza del Duomo: the editors' sites are around it


@dataclass
class Config:
    duration: float = 60.0
    readers: int = 4
    editors: int = 10  # even: editors 2k and 2k+1 share a site
    editor_pause: float = 0.25  # s between an editor's changesets
    restart_pause: float = RESTART_PAUSE
    recovery_bound: float = RECOVERY_BOUND
    workers: int = 2  # when `rigenera serve` has --workers
    timeout: float = 15.0  # per request
    # The anonymous readers share the editors' httpx client by default, so they carry the
    # editors' `rigenera_lsn` cookie: every read waits (up to replica_wait_ms) for the
    # replica to replay the latest write, as the editors' own browser would. False: readers
    # of their own (map viewers), routed by rotation alone.
    # Readers are the anonymous public: a client of their own. Sharing the editors' cookie
    # jar would make every read follow the editors' read-your-writes mark (a wait for the
    # replica to replay the latest write) and measure that instead of replica reads.
    readers_share_cookies: bool = False


@dataclass
class Sample:
    kind: str  # read | reread | write | import
    start: float  # s since the load started
    end: float
    status: int  # HTTP status; 0: no answer (connection refused, reset, timeout)
    what: str
    cache: str = ""  # a tile's X-Tile-Cache (hit, miss, stale): is the cache working?

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


@dataclass
class Attempt:
    """One changeset an editor sent: (site id, base version, owner value) per operation."""
    editor: str
    ops: list[tuple[str, int, str]]
    status: int = -1
    versions: dict[str, int] = field(default_factory=dict)  # acknowledged: id -> version


@dataclass
class Result:
    config: Config
    workers: int  # 1 when `rigenera serve` has no --workers yet
    events: dict[str, float] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def fail(self, message: str) -> None:
        self.violations.append(message)


# ----------------------------------------------------------------------- the server
def serve_has_workers() -> bool:
    """Does `rigenera serve` take --workers (the "workers" task of issue 13)?"""
    out = subprocess.run([sys.executable, "-m", "rigenera.cli", "serve", "--help"],
                         capture_output=True, text=True, env=_env(), timeout=60, check=False)
    return "--workers" in out.stdout


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "server"), env.get("PYTHONPATH", "")])
    return env


class Server:
    """`rigenera serve` in a process group of its own (its workers die with it)."""

    def __init__(self, primary: str, replica: str, state: Path, workers: int) -> None:
        self.port = free_port()
        self.log = state / "server.log"
        state.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "rigenera.cli", "serve"]
        if workers > 1:
            args += ["--workers", str(workers)]
        env = _env(DATABASE_URL=primary, DATABASE_READ_URLS=replica,
                   RIGENERA_HOST="127.0.0.1", RIGENERA_PORT=str(self.port),
                   RIGENERA_STATE_DIR=str(state), RIGENERA_LOG_LEVEL="warning")
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env,
                                         cwd=state, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rigenera serve exited {self.proc.returncode}:\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"rigenera serve not ready in {timeout} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        # workers that outlived their parent (same group, started by us)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)


# ----------------------------------------------------------------------- set-up
def seed(dsn: str, editors: int) -> tuple[dict[str, str], str]:
    """Technicians of Milano lf.tecnico.N and an admin lf.admin, each with a bearer token
    (what `rigenera user add` and `rigenera token issue` write)."""
    hashed = hash_password(PASSWORD)
    tokens: dict[str, str] = {}
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            for name, role in [(f"lf.tecnico.{i}", "technician") for i in range(editors)] + [
                    ("lf.admin", "admin")]:
                cur.execute("INSERT INTO rigenera.accounts (username, role, password_hash)"
                            " VALUES (%s, %s, %s)", (name, role, hashed))
                if role == "technician":
                    cur.execute("INSERT INTO rigenera.account_comuni VALUES (%s, %s)",
                                (name, MILANO))
                token, digest = new_token()
                cur.execute("INSERT INTO rigenera.tokens (username, token_hash, label, expires_at)"
                            " VALUES (%s, %s, 'loadfault', now() + interval '1 day')",
                            (name, digest))
                tokens[name] = token
    finally:
        conn.close()
    admin = tokens.pop("lf.admin")
    return tokens, admin


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create_sites(url: str, admin: str, n: int) -> dict[str, int]:
    """The editors' sites, created by the admin in one changeset: id -> version."""
    ops = []
    for k in range(n):
        lon, lat = CENTRE[0] + (k % 5 - 2) * 0.0015, CENTRE[1] + (k // 5 - 1) * 0.0012
        ops.append({"action": "create", "collection": "sites", "ref": f"s{k}", "feature": {
            "type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": f"Area di prova carico {k}", "state": "abandoned",
                           "istat_code": MILANO, "owner": "iniziale"}}})
    r = httpx.post(f"{url}/api/changesets", json={"operations": ops, "comment": "loadfault set-up"},
                   headers=bearer(admin), timeout=60)
    if r.status_code != 200:
        raise RuntimeError(f"set-up changeset: {r.status_code} {r.text[:500]}")
    return {str(a["id"]): int(a["version"]) for a in r.json()["applied"]}


def import_file(n: int) -> bytes:
    """n site points in the north of Milano, ~10 m apart, far from the editors' sites."""
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [
        9.1600 + (i % 10) * 1.3e-4, 45.4950 + (i // 10) * 1.0e-4]}, "properties": {
        "name": f"Area importata {i}", "state": "abandoned", "former_use": "industrial",
        "source": "loadfault", "source_id": f"lf-{i}"}} for i in range(n)]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def tile_urls() -> list[str]:
    """The tiles over the centre of Milano and a neighbour, zoom 8 to 15."""
    urls = []
    lon, lat = CENTRE
    for z in range(8, 16):
        n = 2 ** z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        for cid in ("sites", "projects"):
            urls.append(f"/ogc/collections/{cid}/tiles/WebMercatorQuad/{z}/{y}/{x}")
        urls.append(f"/ogc/collections/sites/tiles/WebMercatorQuad/{z}/{y}/{x + 1}")
    return urls


# ----------------------------------------------------------------------- the load
class Load:
    def __init__(self, cfg: Config, url: str, rep: Replicated, tokens: dict[str, str],
                 admin: str, sites: dict[str, int], result: Result) -> None:
        self.cfg, self.url, self.rep, self.tokens = cfg, url, rep, tokens
        self.admin, self.sites, self.result = admin, sites, result
        self.t0 = 0.0
        self.stop_at = 0.0
        ids = list(sites)
        self.own = {f"lf.tecnico.{i}": ids[i] for i in range(cfg.editors)}
        self.shared = {f"lf.tecnico.{i}": ids[cfg.editors + i // 2] for i in range(cfg.editors)}
        self.import_doc: dict[str, Any] | None = None

    def now(self) -> float:
        return time.monotonic() - self.t0

    def event(self, name: str) -> None:
        self.result.events[name] = round(self.now(), 3)

    async def request(self, client: httpx.AsyncClient, kind: str, what: str, method: str,
                      path: str, **kw: Any) -> httpx.Response | None:
        start = self.now()
        try:
            r = await client.request(method, path, timeout=self.cfg.timeout, **kw)
            status = r.status_code
        except httpx.HTTPError:
            r, status = None, 0
        self.result.samples.append(Sample(kind, start, self.now(), status, what,
                                          r.headers.get("x-tile-cache", "") if r else ""))
        return r

    async def reader(self, k: int, client: httpx.AsyncClient) -> None:
        site_ids = list(self.sites)
        urls = ["/ogc/collections/sites/items?limit=100",
                "/ogc/collections/sites/items?bbox=9.15,45.44,9.23,45.50&limit=50",
                "/ogc/collections/projects/items?limit=20",
                "/ogc/collections/transit_stops/items",
                *tile_urls()]
        etags: dict[str, str] = {}
        i = k * 7
        while self.now() < self.cfg.duration:
            i += 1
            path = urls[i % len(urls)] if i % 5 else \
                f"/ogc/collections/sites/items/{site_ids[i % len(site_ids)]}"
            headers = {"If-None-Match": etags[path]} if path in etags and i % 2 else {}
            what = "tile" if "/tiles/" in path else "item" if "/items/" in path else "items"
            r = await self.request(client, "read", what, "GET", path, headers=headers)
            if r is not None and r.status_code == 200:
                if "/tiles/" in path and "etag" in r.headers:
                    etags[path] = r.headers["etag"]
                elif what != "tile":
                    try:
                        doc = r.json()
                        assert doc.get("type") in ("Feature", "FeatureCollection")
                    except (ValueError, AssertionError):
                        self.result.samples[-1].status = -1  # a 200 that is not GeoJSON

    async def reread(self, client: httpx.AsyncClient, who: str, fid: str,
                     known: dict[str, int], acked: dict[str, int]) -> None:
        r = await self.request(client, "reread", "item", "GET", f"/ogc/collections/sites/items/{fid}",
                               headers=bearer(self.tokens[who]))
        if r is None or r.status_code != 200:
            return
        version = int(r.headers["etag"].strip('"'))
        if fid == self.own[who] and version < acked.get(fid, 0):
            self.result.fail(f"read-your-writes: {who} read version {version} of its own site "
                             f"{fid} after its write of version {acked[fid]} was acknowledged "
                             f"(at {self.now():.1f} s)")
        known[fid] = version

    async def editor(self, who: str, client: httpx.AsyncClient) -> None:
        own, shared = self.own[who], self.shared[who]
        known = {own: self.sites[own], shared: self.sites[shared]}
        acked: dict[str, int] = {}
        n = 0
        while self.now() < self.cfg.duration:
            n += 1
            stale = n % 4 == 0
            plan = [(own, known[own], f"{who}#{n}")]
            if n % 2 == 0 or stale:
                base = known[shared] - 1 if stale else known[shared]
                plan.append((shared, base, f"{who}#{n}s"))
            attempt = Attempt(who, plan)
            self.result.attempts.append(attempt)
            body = {"comment": f"loadfault {who} #{n}", "operations": [
                {"action": "patch", "collection": "sites", "id": fid, "base_version": base,
                 "ref": fid, "feature": {"properties": {"owner": value}}}
                for fid, base, value in plan]}
            r = await self.request(client, "write", "changeset", "POST", "/api/changesets",
                                   json=body, headers=bearer(self.tokens[who]))
            attempt.status = r.status_code if r is not None else 0
            if r is not None and r.status_code == 200:
                for a in r.json()["applied"]:
                    fid, version = str(a["id"]), int(a["version"])
                    attempt.versions[fid] = version
                    known[fid] = acked[fid] = version
            else:  # refused (409) or unknown: read the versions again, then go on
                if attempt.status not in OK["write"]:
                    await asyncio.sleep(0.2)
                for fid, _base, _value in plan:
                    await self.reread(client, who, fid, known, acked)
            await asyncio.sleep(self.cfg.editor_pause)

    async def importer(self, client: httpx.AsyncClient) -> None:
        await asyncio.sleep(max(0.0, self.cfg.duration / 3 - self.now()))
        self.event("import_start")
        r = await self.request(
            client, "import", "import", "POST", "/api/imports",
            files={"file": ("siti-carico.geojson", import_file(IMPORT_SITES),
                            "application/geo+json")},
            data={"collection": "sites"}, headers=bearer(self.admin))
        self.event("import_end")
        if r is not None and r.status_code == 201:
            self.import_doc = r.json()
        else:
            self.result.fail(f"import: {r.status_code if r is not None else 'no answer'} "
                             f"{r.text[:300] if r is not None else ''}")

    async def faults(self) -> None:
        d = self.cfg.duration

        async def at(t: float) -> None:
            await asyncio.sleep(max(0.0, t - self.now()))

        await at(d * 0.25)
        self.event("replica_stop")
        await asyncio.to_thread(self.rep.stop_replica)
        self.event("replica_stopped")
        await at(d * 0.50)
        self.event("replica_start")
        await asyncio.to_thread(self.rep.start_replica)
        self.event("replica_started")
        await at(d * 2 / 3)
        self.event("primary_stop")
        await asyncio.to_thread(self.rep.primary.stop)
        self.event("primary_stopped")
        await asyncio.sleep(self.cfg.restart_pause)
        self.event("primary_start")
        await asyncio.to_thread(self.rep.primary.start)
        self.event("primary_back")

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with (httpx.AsyncClient(base_url=self.url, limits=limits) as client,
                    httpx.AsyncClient(base_url=self.url, limits=limits) as own):
            self.t0 = time.monotonic()
            readers = client if self.cfg.readers_share_cookies else own
            tasks = [self.reader(k, readers) for k in range(self.cfg.readers)]
            tasks += [self.editor(who, client) for who in self.tokens]
            tasks += [self.importer(client), self.faults()]
            # bounded: nothing may hang the suite
            await asyncio.wait_for(asyncio.gather(*tasks),
                                   timeout=self.cfg.duration + 4 * self.cfg.timeout + 30)
            self.event("end")


# ----------------------------------------------------------------------- the proof
def check_writes(result: Result, dsn: str, sites: dict[str, int]) -> None:
    """No lost update, history complete, changesets all or nothing (see the docstring)."""
    acked: dict[str, dict[int, tuple[str, str, int]]] = defaultdict(dict)  # fid -> version -> ..
    refused: dict[str, set[str]] = defaultdict(set)
    unknown: dict[str, set[str]] = defaultdict(set)
    for a in result.attempts:
        for fid, base, value in a.ops:
            if a.status == 200:
                v = a.versions.get(fid)
                if v is None:
                    result.fail(f"changeset of {a.editor} answered 200 without {fid}")
                    continue
                if v != base + 1:
                    result.fail(f"{fid}: {a.editor}'s patch on version {base} acknowledged as "
                                f"version {v}: a write in between was overwritten")
                if v in acked[fid]:
                    result.fail(f"{fid}: version {v} acknowledged twice ({acked[fid][v][1]}, "
                                f"{a.editor})")
                acked[fid][v] = (value, a.editor, base)
            elif a.status == 409:
                refused[fid].add(value)
            else:
                unknown[fid].add(value)
    landed_unacknowledged = 0
    changesets: dict[tuple[str, ...], set[Any]] = {}
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        for fid, v0 in sites.items():
            cur.execute("SELECT version, operation, actor, after->>'owner', changeset::text"
                        " FROM rigenera.history WHERE collection = 'sites' AND feature_id = %s"
                        " AND version > %s ORDER BY id", (fid, v0))
            rows = cur.fetchall()
            cur.execute("SELECT version, owner FROM rigenera.sites WHERE id = %s", (int(fid),))
            final = cur.fetchone()
            versions = [r[0] for r in rows]
            if versions != list(range(v0 + 1, v0 + 1 + len(rows))):
                result.fail(f"{fid}: history versions not one per change: {versions[:20]}")
            by_version = {r[0]: r for r in rows}
            for v, (value, editor, _base) in acked[fid].items():
                row = by_version.get(v)
                if row is None:
                    result.fail(f"{fid}: acknowledged version {v} ({value}) missing in history")
                elif row[3] != value or row[2] != editor or row[1] != "update":
                    result.fail(f"{fid}: version {v} is {row[1:4]} in history, acknowledged "
                                f"as {value} by {editor}")
                else:
                    changesets[(fid, value)] = {row[4]}
            for v, _op, _actor, value, _cs in rows:
                if v in acked[fid]:
                    continue
                if value in refused[fid]:
                    result.fail(f"{fid}: version {v} holds {value}, of a changeset answered 409")
                elif value in unknown[fid]:
                    landed_unacknowledged += 1
                else:
                    result.fail(f"{fid}: version {v} holds {value!r}, which nobody sent")
            last = max(versions, default=v0)
            expect = by_version[last][3] if rows else "iniziale"
            if final is None or final[0] != last or final[1] != expect:
                result.fail(f"{fid}: final row {final}, history ends at version {last} {expect!r}")
    # an accepted changeset is one transaction: its operations share one changeset id
    for a in result.attempts:
        if a.status == 200 and len(a.ops) > 1:
            ids = set().union(*(changesets.get((fid, value), {None}) for fid, _b, value in a.ops))
            if len(ids) != 1 or None in ids:
                result.fail(f"changeset of {a.editor} {a.ops}: history changeset ids {ids}")
    result.figures["writes"] = {
        "changesets_sent": len(result.attempts),
        "acknowledged": sum(a.status == 200 for a in result.attempts),
        "conflicts_409": sum(a.status == 409 for a in result.attempts),
        "unknown_outcome": sum(a.status not in (200, 409) for a in result.attempts),
        "patches_acknowledged": sum(len(v) for v in acked.values()),
        "landed_unacknowledged": landed_unacknowledged}


def check_import(result: Result, dsn: str, doc: dict[str, Any] | None) -> None:
    if doc is None:
        return
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM rigenera.sites WHERE source = 'loadfault'")
        (stored,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM rigenera.history WHERE import_id = %s", (doc["id"],))
        (history,) = cur.fetchone()
    created = doc.get("counts", {}).get("created")
    if not (created == stored == history == IMPORT_SITES):
        result.fail(f"import {doc['id']}: report created {created}, stored {stored}, history "
                    f"{history}, sent {IMPORT_SITES}")
    result.figures["import"] = {"id": doc["id"], "created": created, "history_rows": history,
                                "seconds": doc.get("seconds")}


def check_replica(result: Result, rep: Replicated) -> None:
    """Once it has replayed, the replica holds what the primary holds."""
    sql = ("SELECT md5(string_agg(id || ':' || version || ':' || coalesce(owner, ''), ','"
           " ORDER BY id)) FROM rigenera.sites")
    try:
        rep.wait_replayed(timeout=30)
    except TimeoutError as exc:
        result.fail(f"replica: {exc}")
        return
    sums = []
    for dsn in (rep.primary_dsn, rep.replica_dsn):
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute(sql)
            sums.append(cur.fetchone()[0])
        conn.close()
    if sums[0] != sums[1]:
        result.fail("replica: sites differ from the primary's after replay")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def check_answers(result: Result) -> None:
    """Error rate 0 outside the restart window; recovery within the bound; figures."""
    ev, cfg = result.events, result.config
    if "primary_back" not in ev:
        result.fail("the primary was not restarted within the run")
        return
    w0, back = ev["primary_stop"], ev["primary_back"]
    w1 = back + cfg.recovery_bound

    def in_window(s: Sample) -> bool:
        return s.end >= w0 and s.start <= w1

    errors = [s for s in result.samples if s.status not in OK[s.kind]]
    outside = [s for s in errors if not in_window(s)]
    inside = [s for s in errors if in_window(s)]
    for s in outside[:10]:
        result.fail(f"error outside the restart window: {s.kind} {s.what} {s.status} "
                    f"at {s.start:.2f}-{s.end:.2f} s")
    if len(outside) > 10:
        result.fail(f"... {len(outside) - 10} more errors outside the restart window")
    # while the primary is away the server still answers, and says so: 503 + Retry-After
    not_503 = [s for s in inside if s.status != 503]
    for s in not_503[:10]:
        result.fail(f"during the restart: {s.kind} {s.what} answered {s.status or 'nothing'}, "
                    f"not 503, at {s.start:.2f}-{s.end:.2f} s")
    after = [s for s in result.samples if s.start >= back and s.status in OK[s.kind]]
    first = min((s.end for s in after), default=math.inf)
    recovery = first - back
    if recovery > cfg.recovery_bound:
        result.fail(f"recovery {recovery:.2f} s after the primary was back (bound "
                    f"{cfg.recovery_bound} s)")
    replica_down = [s for s in outside if s.end >= ev["replica_stop"]
                    and s.start <= ev["replica_started"] + cfg.recovery_bound]
    outside_n = sum(1 for s in result.samples if not in_window(s))
    phases = {"steady": (0.0, ev["replica_stop"]),
              "replica down": (ev["replica_stop"], ev["replica_started"]),
              "replica back": (ev["replica_started"], w0),
              "primary restart": (w0, w1), "after": (w1, math.inf)}
    by_phase = {}
    for name, (a, b) in phases.items():
        ss = [s for s in result.samples if (name == "primary restart") == in_window(s)
              and (name == "primary restart" or a <= s.start < b)]
        by_phase[name] = {
            "requests": len(ss), "errors": sum(s.status not in OK[s.kind] for s in ss),
            "read_p50_ms": round(pct([s.ms for s in ss if s.kind == "read"], 0.5), 1),
            "read_p99_ms": round(pct([s.ms for s in ss if s.kind == "read"], 0.99), 1),
            "write_p50_ms": round(pct([s.ms for s in ss if s.kind == "write"], 0.5), 1),
            "write_p99_ms": round(pct([s.ms for s in ss if s.kind == "write"], 0.99), 1),
            "tile_p50_ms": round(pct([s.ms for s in ss if s.what == "tile"], 0.5), 1),
            "tiles": dict(sorted(Counter(s.cache for s in ss if s.what == "tile"
                                         and s.cache).items()))}
    outside_ok = [s for s in result.samples if not in_window(s)]
    lat = {}
    for kind in ("read", "reread", "write"):
        ms = [s.ms for s in outside_ok if s.kind == kind and s.status in OK[kind]]
        lat[kind] = {"n": len(ms), "p50_ms": round(pct(ms, 0.5), 1),
                     "p99_ms": round(pct(ms, 0.99), 1),
                     "mean_ms": round(statistics.fmean(ms), 1) if ms else None}
    status: dict[str, dict[str, int]] = {}
    for kind in ("read", "reread", "write", "import"):
        c = Counter(str(s.status) for s in result.samples if s.kind == kind)
        status[kind] = dict(sorted(c.items()))
    reads = [s for s in result.samples if s.kind == "read"]
    result.figures.update({
        "requests": len(result.samples),
        "reads_per_second": round(len(reads) / cfg.duration, 1),
        "errors_outside_window": len(outside), "requests_outside_window": outside_n,
        "error_rate_outside_window": round(len(outside) / max(1, outside_n), 6),
        "errors_inside_window": len(inside), "not_503_inside_window": len(not_503),
        "errors_while_replica_down": len(replica_down),
        "restart_window_s": [round(w0, 2), round(w1, 2)],
        "primary_down_s": round(back - w0, 2),
        "recovery_s": round(recovery, 3) if math.isfinite(recovery) else None,
        "last_error_after_back_s": round(max((s.end for s in inside), default=back) - back, 3),
        "latency_outside_window": lat, "status": status, "phases": by_phase})


def report(result: Result) -> str:
    f, ev = result.figures, result.events
    lines = [f"load and faults: {result.config.duration:.0f} s, {result.config.readers} readers, "
             f"{result.config.editors} editors, 1 import, {result.workers} worker(s)"]
    lines.append(f"set-up {f.get('setup_s')} s; events (s): "
                 + ", ".join(f"{k} {v:.1f}" for k, v in ev.items()))
    if "latency_outside_window" in f:
        for kind, d in f["latency_outside_window"].items():
            lines.append(f"  {kind:7s} n={d['n']:6d}  p50 {d['p50_ms']:7.1f} ms  "
                         f"p99 {d['p99_ms']:7.1f} ms")
        lines.append(f"  reads/s {f['reads_per_second']}, requests {f['requests']}")
        for kind, c in f["status"].items():
            lines.append(f"  status {kind:7s} " + ", ".join(f"{k}: {v}" for k, v in c.items()))
        for name, d in f["phases"].items():
            lines.append(f"  phase {name:16s} {d['requests']:6d} requests, {d['errors']:4d} "
                         f"errors, read p50/p99 {d['read_p50_ms']}/{d['read_p99_ms']} ms, "
                         f"write p50/p99 {d['write_p50_ms']}/{d['write_p99_ms']} ms, "
                         f"tile p50 {d['tile_p50_ms']} ms "
                         + " ".join(f"{k} {v}" for k, v in d["tiles"].items()))
        lines.append(f"  errors outside the restart window: {f['errors_outside_window']} of "
                     f"{f['requests_outside_window']} (rate {f['error_rate_outside_window']}); "
                     f"while the replica was down: {f['errors_while_replica_down']}; inside "
                     f"the window: {f['errors_inside_window']}")
        lines.append(f"  primary down {f['primary_down_s']} s; recovery {f['recovery_s']} s "
                     f"after it was back (bound {result.config.recovery_bound} s); last error "
                     f"{f['last_error_after_back_s']} s after")
    if "writes" in f:
        w = f["writes"]
        lines.append(f"  changesets {w['changesets_sent']}: {w['acknowledged']} applied, "
                     f"{w['conflicts_409']} conflicts (409), {w['unknown_outcome']} without "
                     f"answer; {w['patches_acknowledged']} patches acknowledged, all in history; "
                     f"{w['landed_unacknowledged']} unanswered ones landed")
    if "import" in f:
        i = f["import"]
        lines.append(f"  import {i['id']}: {i['created']} sites created, {i['history_rows']} "
                     f"history rows, {i['seconds']} s")
    shown = result.violations[:30]
    more = len(result.violations) - len(shown)
    lines.append("violations: " + ("none" if not shown else "\n  " + "\n  ".join(shown))
                 + (f"\n  ... and {more} more" if more > 0 else ""))
    return "\n".join(lines)


# ----------------------------------------------------------------------- the whole run
def run(cfg: Config | None = None, base: Path | None = None,
        say: Callable[[str], None] = print) -> Result:
    """Set up, load, fault, check; every cluster and process started here is gone after."""
    cfg = cfg or Config()
    own_tmp = base is None
    root = Path(tempfile.mkdtemp(prefix="rigenera-loadfault-")) if base is None else base
    root.chmod(0o755)
    rep: Replicated | None = None
    server: Server | None = None
    result = Result(cfg, 1)
    try:
        t = time.monotonic()
        (root / "pg").mkdir(exist_ok=True)
        with ThreadPoolExecutor(1) as pool:  # asking `serve --help` takes a second or two
            has_workers = pool.submit(serve_has_workers)
            rep = Replicated(root / "pg", demo=True)
            workers = result.workers = cfg.workers if has_workers.result() else 1
        tokens, admin = seed(rep.primary_dsn, cfg.editors)
        server = Server(rep.primary_dsn, rep.replica_dsn, root / "state", workers)
        server.wait_ready()
        sites = create_sites(server.url, admin, cfg.editors + cfg.editors // 2)
        rep.wait_replayed()
        result.figures["setup_s"] = round(time.monotonic() - t, 1)
        say(f"set-up {result.figures['setup_s']} s: primary, replica, server ({workers} "
            f"worker(s)) on {server.url}")
        load = Load(cfg, server.url, rep, tokens, admin, sites, result)
        asyncio.run(load.run())
        if server.proc.poll() is not None:
            result.fail(f"the server exited during the run:\n{server.tail()}")
        check_answers(result)
        check_writes(result, rep.primary_dsn, sites)
        check_import(result, rep.primary_dsn, load.import_doc)
        check_replica(result, rep)
        if result.violations and server is not None:
            result.figures["server_log_tail"] = server.tail(30)
    finally:
        if server is not None:
            server.stop()
        if rep is not None:
            rep.close()
        if own_tmp:
            import shutil

            shutil.rmtree(root, ignore_errors=True)
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--readers", type=int, default=4)
    p.add_argument("--editors", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--readers-share-cookies", action="store_true",
                   help="readers on the editors' client (they follow the editors' marks)")
    args = p.parse_args()
    cfg = Config(duration=args.duration, readers=args.readers, editors=args.editors,
                 workers=args.workers, readers_share_cookies=args.readers_share_cookies)
    result = run(cfg)
    print(report(result))
    from run import write_results

    path = write_results("loadfault", {"config": asdict(cfg), "workers": result.workers,
                                       "events": result.events, "figures": result.figures,
                                       "violations": result.violations})
    print(f"results: {path}")
    return 1 if result.violations else 0


if __name__ == "__main__":
    sys.exit(main())
