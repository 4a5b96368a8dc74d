"""The production proxy (nginx, deploy/nginx/templates) against the API served directly.

    .venv/bin/python bench/proxy.py [--duration 10] [--connections 8]

One throwaway PostGIS cluster with the demo data, one Rigenera server (one uvicorn worker
on 127.0.0.1, as bench/run.py starts it), and nginx with the production template
(rendered as the nginx image renders it, a self-signed certificate, 127.0.0.1 ports).
wrk at the same concurrency against:

* `tile_api`: a z12 tile of Milan from the API (plain HTTP);
* `tile_proxy`: the same through the proxy over HTTPS: stored there, revalidated with the
  API on every read (If-None-Match, 304), the body sent from the proxy;
* `tile_proxy_304`: the same with the client's own If-None-Match (no body at all);
* `static_proxy`: the website's CSS through the proxy (a static file, the reference);
* `items_api` / `items_proxy`: 100 sites as GeoJSON, plain and gzip through the proxy.

Prints requests/s, p50/p99, bytes on the wire; writes bench/results/proxy-*.json. Needs
nginx, openssl (scripts/bootstrap-ops.sh) and wrk (scripts/bench-setup.sh).
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))

from run import run_wrk, start_rigenera, write_results  # noqa: E402

from rigenera.cluster import LocalCluster, free_port  # noqa: E402
from rigenera.loaders.demo import load_demo  # noqa: E402
from rigenera.migrate import migrate  # noqa: E402

TEMPLATE = ROOT / "deploy" / "nginx" / "templates" / "rigenera.conf.template"


def render(template: str, env: dict[str, str]) -> str:
    """The nginx image's envsubst: the given names only, nginx's $variables untouched."""
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                  lambda m: env.get(m.group(1), m.group(0)), template)


def start_nginx(work: Path, upstream: str) -> tuple[subprocess.Popen[bytes], int]:
    prefix = work / "nginx"
    (prefix / "logs").mkdir(parents=True)
    cert, key = prefix / "cert.pem", prefix / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    http_port, https_port = free_port(), free_port()
    site = render(TEMPLATE.read_text(encoding="utf-8"), {
        "RIGENERA_API_UPSTREAM": upstream, "NGINX_RESOLVER": "127.0.0.1",
        "NGINX_LISTEN_HTTP": f"127.0.0.1:{http_port}",
        "NGINX_LISTEN_HTTPS": f"127.0.0.1:{https_port}", "NGINX_REDIRECT_PORT": f":{https_port}",
        "NGINX_TLS_CERT": str(cert), "NGINX_TLS_KEY": str(key),
        "NGINX_CACHE_DIR": str(prefix / "tiles"), "NGINX_TILE_CACHE_SIZE": "256m",
        "NGINX_CLIENT_MAX_BODY": "203m"})
    (prefix / "rigenera.conf").write_text(site, encoding="utf-8")
    temp = "\n".join(f"  {d}_temp_path {prefix / d};"
                     for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(f"""{user}
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "logs" / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
{temp}
  include {prefix / "rigenera.conf"};
}}
""", encoding="utf-8")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                             "-g", "daemon off;"])
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
            return proc, https_port
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("nginx did not start") from None
            time.sleep(0.05)


def milan_tile(z: int) -> str:
    lon, lat = 9.19, 45.464
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/ogc/collections/sites/tiles/WebMercatorQuad/{z}/{y}/{x}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    args = ap.parse_args()
    for tool in ("wrk", "openssl"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: run scripts/bench-setup.sh and scripts/bootstrap-ops.sh")

    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-proxy-"))
    work.chmod(0o755)
    cluster = LocalCluster(work / "pg", free_port(), "rigenera", fsync=False)
    api = nginx = None
    try:
        dsn = cluster.ensure()
        migrate(dsn)
        load_demo(dsn)
        api = start_rigenera(dsn, work)
        nginx, https_port = start_nginx(work, api.base.removeprefix("http://"))
        proxy = f"https://127.0.0.1:{https_port}"
        tile, items = milan_tile(12), "/ogc/collections/sites/items?limit=100"
        css = "/static/css/rigenera.css"
        with httpx.Client(verify=False, timeout=30) as client:  # our self-signed certificate
            etag = client.get(proxy + tile).headers["etag"]
            sizes = {name: len(client.get(url, headers={"Accept-Encoding": enc}).content)
                     for name, url, enc in (("tile", proxy + tile, "identity"),
                                            ("items", proxy + items, "identity"))}
            wire = {"tile_gzip": len(gzip.compress(client.get(api.base + tile).content, 5)),
                    "items_gzip": len(gzip.compress(client.get(api.base + items).content, 5))}
            for url in (proxy + tile, proxy + items, proxy + css, api.base + tile):
                assert client.get(url).status_code == 200, url
        gz = {"Accept-Encoding": "gzip"}
        cases = {
            "tile_api": (api.base + tile, {}),
            "tile_proxy": (proxy + tile, {}),
            "tile_proxy_304": (proxy + tile, {"If-None-Match": etag}),
            "static_proxy": (proxy + css, gz),
            "items_api": (api.base + items, {}),
            "items_proxy": (proxy + items, gz),
        }
        results: dict[str, Any] = {"sizes": sizes, "gzip": wire, "cases": {}}
        print(f"tile {sizes['tile']} B (gzip {wire['tile_gzip']} B), 100 items "
              f"{sizes['items']} B (gzip {wire['items_gzip']} B)")
        print(f"\n| case | req/s | p50 ms | p99 ms | non-2xx/3xx |  ({args.connections} "
              f"connections, {args.duration} s)")
        print("|---|---|---|---|---|")
        for name, (url, headers) in cases.items():
            r = run_wrk(url, args.duration, args.connections, headers=headers)
            results["cases"][name] = r
            print(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |"
                  f" {r['errors']:.0f} |")
        c = results["cases"]
        print(f"\ntile through the proxy / from the API: "
              f"{c['tile_proxy']['rps'] / c['tile_api']['rps']:.2f}x; "
              "tile through the proxy / static file through the proxy: "
              f"{c['tile_proxy']['rps'] / c['static_proxy']['rps']:.2f}x")
        print(f"results: {write_results('proxy', results)}")
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(timeout=10)
        if api is not None:
            api.stop()
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
