"""The QGIS plugin's benchmark: load the layers and draw the metro area, sync 1,000 edits.

Runs under the system Python of PyQGIS (``make bench-plugin``, venv
``.venv-qgis``) against a Rigenera server with its own PostGIS, the demo data,
the real open data when ``../shared/data`` is there, and 100,000 synthetic
sites (bench/synthetic_sites.sql, the same as bench/run.py):

1. *load*: ``core.layers.load_layers`` (an OAPIF layer per collection and geometry kind,
   styled), wall time;
2. *render*: the whole metro area (the comuni layer's extent) drawn at
   1600x1200 by QGIS's parallel renderer, cold (first draw: downloads) and warm;
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1200)
    args = parser.parse_args()

    from qgis.core import QgsApplication, QgsMapRendererParallelJob, QgsMapSettings, QgsProject
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
        authcfg = store_basic_credentials("bench", "admin", PASSWORD)
        connection = Connection(server.url, authcfg)
        project = QgsProject.instance()

        t0 = time.monotonic()
        group = load_layers(connection, project)
        results["load_s"] = round(time.monotonic() - t0, 3)
        layers = [node.layer() for node in group.findLayers()]
        comuni = next(lyr for lyr in layers if "comuni" in lyr.source())

        def render(only: Any = None) -> float:
            settings = QgsMapSettings()
            settings.setLayers(only or layers)
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
