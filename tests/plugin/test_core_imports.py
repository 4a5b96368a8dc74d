"""core/imports.py without the dialog: the layer written for upload, the multipart on the wire.

* A layer (or its selection) is written to a GeoPackage in the layer's own CRS,
  row n of the file being the n-th feature id kept (rejected rows are selected
  back in the layer through that list).
* The multipart body QGIS sends is read back by a bare HTTP listener on
  127.0.0.1 and parsed with the standard library's MIME parser: the form fields,
  the file bytes unchanged, the mapping part, and the Basic authorization QGIS's
  authentication manager added from the authcfg.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import http.server
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, ClassVar, Dict, Iterator, List, Tuple

import pytest

from conftest import PASSWORD


def memory_layer(crs: str = "EPSG:32632") -> Any:
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    layer = QgsVectorLayer(f"Point?crs={crs}&field=fid:integer&field=name:string"
                           "&field=state:string", "Siti di prova è", "memory")
    features = []
    for i, (x, y) in enumerate([(514000, 5035000), (515000, 5036000), (516000, 5037000)]):
        f = QgsFeature(layer.fields())
        f.setAttributes([100 + i, f"Area {i}", "abandoned"])
        f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        features.append(f)
    assert layer.dataProvider().addFeatures(features)[0]
    return layer


def test_export_layer_keeps_crs_order_and_selection(qgis_app: Any, tmp_path: Path) -> None:
    from qgis.core import QgsVectorLayer

    from rigenera_qgis.core.imports import ImportSourceError, export_layer

    layer = memory_layer()
    ids = [f.id() for f in layer.getFeatures()]
    layer.selectByIds([ids[2], ids[0]])
    out = export_layer(layer, tmp_path, selected_only=True)
    assert out.crs == "EPSG:32632"
    assert out.path.name == "Siti_di_prova.gpkg"
    assert sorted(out.feature_ids) == [ids[0], ids[2]]  # in the order read, which may vary
    assert out.feature_of_row(3) is None and out.feature_of_row(0) is None
    written = QgsVectorLayer(f"{out.path}|layername={out.layer_name}", "w", "ogr")
    assert written.isValid() and written.crs().authid() == "EPSG:32632"
    rows = [(f["name"], round(f.geometry().asPoint().x())) for f in written.getFeatures()]
    # row n of the file is the feature feature_of_row(n) of the layer
    expected = [(layer.getFeature(out.feature_of_row(n))["name"],
                 round(layer.getFeature(out.feature_of_row(n)).geometry().asPoint().x()))
                for n in (1, 2)]
    assert rows == expected and sorted(rows) == [("Area 0", 514000), ("Area 2", 516000)]
    with sqlite3.connect(out.path) as db:  # the source's fid is not carried over as a field
        columns = [r[1] for r in db.execute(f'PRAGMA table_info("{out.layer_name}")')]
    assert "name" in columns and columns.count("fid") == 1

    layer.removeSelection()
    with pytest.raises(ImportSourceError, match="selezionato"):
        export_layer(layer, tmp_path, selected_only=True)


class _Capture(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[List[Tuple[Dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Capture.seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
        answer = json.dumps({"id": 7, "collection": "sites", "status": "dry_run",
                             "dry_run": True, "counts": {"read": 3, "created": 3}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[str]:
    _Capture.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_multipart_body_on_the_wire(qgis_app: Any, listener: str, auth_for: Any,
                                    tmp_path: Path) -> None:
    from rigenera_qgis.core.client import RigeneraClient
    from rigenera_qgis.core.imports import ImportRequest, export_layer, send_import

    out = export_layer(memory_layer(), tmp_path)
    mapping = tmp_path / "mappa siti.yml"
    mapping.write_text("fields:\n  nome: name\n", encoding="utf-8")
    request = ImportRequest(out.path, "sites", layer=out.layer_name, crs="EPSG:32632",
                            mapping=mapping, dry_run=True, file_name="Siti “prova”.gpkg")
    sent: List[Tuple[int, int]] = []
    client = RigeneraClient(listener, auth_for("tecnico"))
    report = send_import(client, request, upload=lambda s, t: sent.append((s, t)))
    assert report.status == "dry_run" and report.id == "7" and report.count("created") == 3

    headers, body = _Capture.seen[-1]
    expected = base64.b64encode(f"tecnico:{PASSWORD}".encode()).decode()
    assert headers["authorization"] == f"Basic {expected}"
    assert headers["content-type"].startswith("multipart/form-data; boundary=")
    assert (len(body), len(body)) in sent  # Qt ends with (0, 0) when done
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + headers["content-type"].encode() + b"\r\n\r\n" + body)
    parts = {p.get_param("name", header="content-disposition"): p
             for p in message.iter_parts()}
    assert sorted(parts) == ["collection", "crs", "dry_run", "file", "layer", "mapping",
                             "skip_invalid"]
    text = {k: parts[k].get_payload(decode=True).decode() for k in
            ("collection", "crs", "dry_run", "layer", "skip_invalid")}
    assert text == {"collection": "sites", "crs": "EPSG:32632", "dry_run": "true",
                    "layer": out.layer_name, "skip_invalid": "false"}
    assert parts["file"].get_payload(decode=True) == out.path.read_bytes()
    assert parts["file"].get_content_type() == "application/geopackage+sqlite3"
    assert parts["file"].get_filename() == "Siti “prova”.gpkg"
    assert parts["mapping"].get_payload(decode=True) == mapping.read_bytes()
    assert parts["mapping"].get_filename() == "mappa siti.yml"


def test_local_refusals_before_sending(qgis_app: Any, tmp_path: Path) -> None:
    from rigenera_qgis.core.imports import ImportRequest, ImportSourceError, build_multipart

    shp = tmp_path / "strade.shp"
    shp.write_bytes(b"x")
    with pytest.raises(ImportSourceError, match=r"strade\.shp"):
        build_multipart(ImportRequest(shp, "sites"))
    csv = tmp_path / "siti.csv"
    csv.write_text("name\nA\n")
    with pytest.raises(ImportSourceError, match="unknown collection"):
        build_multipart(ImportRequest(csv, "comuni"))
    with pytest.raises(ImportSourceError, match="YAML"):
        build_multipart(ImportRequest(csv, "sites", mapping=csv))


def test_unreachable_server_is_connection_failed(qgis_app: Any, tmp_path: Path) -> None:
    from conftest import free_port
    from rigenera_qgis.core.client import ConnectionFailed, RigeneraClient
    from rigenera_qgis.core.imports import ImportRequest, send_import

    csv = tmp_path / "siti.csv"
    csv.write_text("name,lon,lat\nA,9.19,45.46\n")
    client = RigeneraClient(f"http://127.0.0.1:{free_port()}", timeout_ms=5000)
    with pytest.raises(ConnectionFailed, match="unreachable"):
        send_import(client, ImportRequest(csv, "sites"))
