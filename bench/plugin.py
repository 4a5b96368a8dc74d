"""The QGIS plugin's benchmark: load the layers and draw the metro area, sync 1,000 edits.

Runs under the system Python of PyQGIS (``make bench-plugin``, venv
``.venv-qgis``) against a Rigenera server with its own PostGIS, the demo data,
the real open data when ``../shared/data`` is there, and 100,000 synthetic
sites (bench/synthetic_sites.sql, the same as bench/run.py):

1. *load*: ``core.layers.load_layers`` (an OAPIF layer per collection and geometry kind,
   styled), wall time;
2. *render*: the whole metro area (the comuni layer's extent) drawn at
   1600x1200 by QGIS's parallel renderer, cold (first draw: downloads) and warm;
   the server's tile cache has prewarmed the metro area's low zooms first (as it
   does after every start and import: ``/healthz`` says when; its time is printed),
   so the cold draw downloads cached tiles (ogc/tilecache.py); then ``--rounds``
   first mornings again, alternating the server's tile cache off and on (server
   restarted, QGIS's network cache emptied, layers loaded anew): medians of each;
3. *sync*: a working copy of 1,000+ sites, 1,000 attribute edits committed in
   QGIS, then one synchronisation (diff, changeset, refresh, pull).

    .venv-qgis/bin/python bench/plugin.py [--sites 100000] [--edits 1000]

Prints one line per measure and writes bench/results/plugin-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "qgis_plugin"))
sys.path.insert(0, str(ROOT / "tests" / "plugin"))
SHARED = Path(os.environ.get("RIGENERA_SHARED_DATA", ROOT.parent / "shared" / "data"))

from serverproc import PASSWORD, RigeneraServer  # noqa: E402


def _prepare(server: RigeneraServer, n_sites: int) -> None:
    import psycopg2

    server.setup()
    if (SHARED / "SOURCES.md").exists():
        server.cli("load-open-data", str(SHARED))
    sql = (ROOT / "bench" / "synthetic_sites.sql").read_text()
    with psycopg2.connect(server.dsn) as conn, conn.cursor() as cur:
        cur.execute(sql, {"n": n_sites})
    conn.close()


def _prewarmed(server: RigeneraServer, timeout: float = 600) -> Any:
    """Wait for the server's first prewarming pass of the metro area's tiles (/healthz)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = server.get_json("/healthz").get("tile_cache")
        if status is None:  # a server without a tile cache
            return "none"
        if isinstance(status.get("prewarm"), dict) or not status.get("enabled"):
            return status.get("prewarm", "off")
        time.sleep(0.5)
    raise RuntimeError("the tile cache did not finish prewarming")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1200)
    parser.add_argument("--rounds", type=int, default=3,
                        help="cold draws with the tile cache on and off, alternated")
    args = parser.parse_args()

    from qgis.core import (
        QgsApplication,
        QgsMapRendererParallelJob,
        QgsMapSettings,
        QgsNetworkAccessManager,
        QgsProject,
    )
    from qgis.PyQt.QtCore import QSize

    profile = Path(tempfile.mkdtemp(prefix="rigenera-bench-qgis-"))
    os.environ["QGIS_CUSTOM_CONFIG_PATH"] = str(profile)
    app = QgsApplication([], False)
    app.initQgis()
    QgsApplication.authManager().setMasterPassword("bench-master", True)

    from rigenera_qgis.core.auth import store_basic_credentials
    from rigenera_qgis.core.connection import Connection
    from rigenera_qgis.core.layers import load_layers
    from rigenera_qgis.core.sync import synchronise
    from rigenera_qgis.core.workingcopy import WorkingCopy

    state = Path(tempfile.mkdtemp(prefix="rigenera-bench-plugin-"))
    state.chmod(0o755)
    server = RigeneraServer(state)
    results: dict[str, Any] = {"sites": args.sites, "edits": args.edits,
                               "size": f"{args.width}x{args.height}"}
    try:
        t0 = time.monotonic()
        _prepare(server, args.sites)
        server.start()
        print(f"data ready in {time.monotonic() - t0:.1f} s "
              f"({server.sql('SELECT count(*) FROM rigenera.sites')[0][0]} sites)", flush=True)
        results["prewarm"] = _prewarmed(server)
        print(f"tile cache prewarmed: {results['prewarm']}", flush=True)
        authcfg = store_basic_credentials("bench", "admin", PASSWORD)
        connection = Connection(server.url, authcfg)
        project = QgsProject.instance()

        t0 = time.monotonic()
        group = load_layers(connection, project)
        results["load_s"] = round(time.monotonic() - t0, 3)
        layers = [node.layer() for node in group.findLayers()]

        def render(only: Any = None) -> float:
            chosen = only or layers
            comuni = next(lyr for lyr in chosen + layers if "comuni" in lyr.source())
            settings = QgsMapSettings()
            settings.setLayers(chosen)
            settings.setDestinationCrs(comuni.crs())
            settings.setOutputSize(QSize(args.width, args.height))
            settings.setExtent(comuni.extent())
            job = QgsMapRendererParallelJob(settings)
            start = time.monotonic()
            job.start()
            job.waitForFinished()
            return time.monotonic() - start

        results["render_cold_s"] = round(render(), 3)
        results["render_warm_s"] = round(render(), 3)
        results["load_and_render_s"] = round(results["load_s"] + results["render_cold_s"], 3)
        results["render_by_layer_s"] = {lyr.name(): round(render([lyr]), 3) for lyr in layers}
        print(f"draw each layer alone (warm): {results['render_by_layer_s']}", flush=True)
        print(f"load five layers: {results['load_s']} s; draw metro area: cold "
              f"{results['render_cold_s']} s, warm {results['render_warm_s']} s", flush=True)

        def cold_round(tile_cache: bool) -> tuple[float, float]:
            """A first morning again: the server restarted with its tile cache on (the
            tiles prewarmed on disk) or off, QGIS's network cache emptied, the layers
            loaded anew, the metro area drawn once. Returns (load, draw) seconds."""
            nonlocal layers
            server.stop()
            server.env["RIGENERA_TILE_CACHE"] = "true" if tile_cache else "false"
            server.start()
            if tile_cache:
                _prewarmed(server)
            project.removeAllMapLayers()
            project.layerTreeRoot().removeAllChildren()
            cache = QgsNetworkAccessManager.instance().cache()
            if cache is not None:
                cache.clear()
            t0 = time.monotonic()
            group = load_layers(connection, project)
            load = time.monotonic() - t0
            layers = [node.layer() for node in group.findLayers()]
            return round(load, 3), round(render(), 3)

        # The same cold first drawing with and without the server's tile cache, in
        # alternation on the same data (the machine's load drifts between rounds).
        rounds: dict[str, list[tuple[float, float]]] = {"cached": [], "uncached": []}
        for _ in range(args.rounds):
            rounds["uncached"].append(cold_round(False))
            rounds["cached"].append(cold_round(True))
        results["cold_rounds"] = rounds
        for kind, runs in rounds.items():
            draws = sorted(d for _, d in runs)
            loads = sorted(ld for ld, _ in runs)
            results[f"render_cold_{kind}_median_s"] = draws[len(draws) // 2]
            results[f"load_and_render_{kind}_median_s"] = round(
                loads[len(loads) // 2] + draws[len(draws) // 2], 3)
        print(f"cold draw of the metro area, {args.rounds} rounds (load s, draw s): "
              f"tile cache on {rounds['cached']}, off {rounds['uncached']}; median draw "
              f"{results['render_cold_cached_median_s']} s vs "
              f"{results['render_cold_uncached_median_s']} s", flush=True)

        client = connection.client(timeout_ms=600_000)
        t0 = time.monotonic()
        wc = WorkingCopy.checkout(client, "sites", state / "wc.gpkg", istat_codes=["015146"])
        results["checkout_s"] = round(time.monotonic() - t0, 3)
        results["checkout_features"] = sum(lyr.featureCount() for lyr in wc.layers())
        edited = 0
        for layer in wc.layers():
            idx = layer.fields().indexFromName("condition_notes")
            layer.startEditing()
            for f in layer.getFeatures():
                if edited >= args.edits:
                    break
                layer.changeAttributeValue(f.id(), idx, f"Sopralluogo benchmark {edited}")
                edited += 1
            layer.commitChanges()
        results["edited"] = edited
        t0 = time.monotonic()
        result = synchronise(wc, client, "benchmark")
        results["sync_s"] = round(time.monotonic() - t0, 3)
        results["sync_status"] = result.status
        print(f"checkout {results['checkout_features']} sites: {results['checkout_s']} s; "
              f"sync {edited} edits: {results['sync_s']} s ({result.status}: {result.message})",
              flush=True)
    finally:
        server.close()
        app.exitQgis()
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"plugin-{stamp}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results))
    return 0 if results.get("sync_status") == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
