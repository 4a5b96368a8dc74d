"""Importing a file into the catalogue through ``POST /api/imports`` (no GUI here).

The server's import engine reads the file, checks every row and answers with a
report; a dry run (``dry_run=true``) writes nothing but the import record, so
the plugin always sends the file twice: first to show what would happen, then,
once the user confirms, for real (all or nothing, or ``skip_invalid``).

* A file (GeoPackage with the layer chosen, zipped Shapefile, GeoJSON, CSV,
  XLSX) is sent as it is; a layer of the project is first written to a
  temporary GeoPackage (:func:`export_layer`, in the layer's own CRS, which the
  GeoPackage declares), keeping which feature became which row so the rows the
  server rejects can be selected in the layer.
* The upload is ``multipart/form-data`` built as a ``QHttpMultiPart`` whose file
  parts stream from disk (:func:`build_multipart`), posted through
  QgsNetworkAccessManager with the connection's authcfg
  (:meth:`RigeneraClient.post_multipart`).
* Answers become :class:`ImportReport`: the engine's report (counts, rejected
  rows with row/field/reason, notes) or, for a refusal (4xx with ``errors``),
  the rows and fields the server named.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from qgis.core import (
    QgsDataProvider,
    QgsFeatureRequest,
    QgsFields,
    QgsProject,
    QgsVectorFileWriter,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QByteArray, QEventLoop, QFile, QIODevice, QTimer
from qgis.PyQt.QtNetwork import QHttpMultiPart, QHttpPart, QNetworkRequest

from .client import ApiError, RigeneraClient

COLLECTIONS: Tuple[str, ...] = ("sites", "projects", "mobility_links", "transit_stops")
# What the server accepts, by file name ending (the server checks the content again).
FORMATS: Dict[str, str] = {".gpkg": "gpkg", ".zip": "shapefile", ".geojson": "geojson",
                           ".json": "geojson", ".csv": "csv", ".xlsx": "xlsx"}
MIME_TYPES = {"gpkg": "application/geopackage+sqlite3", "shapefile": "application/zip",
              "geojson": "application/geo+json", "csv": "text/csv",
              "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
MAPPING_SUFFIXES = (".yml", ".yaml")
COUNT_KEYS = ("read", "created", "updated", "unchanged", "duplicates", "invalid", "written")
IMPORT_TIMEOUT_MS = 30 * 60 * 1000  # a big real import may take minutes
POLL_MS = 500
Progress = Optional[Callable[[int, Optional[int]], None]]


class ImportSourceError(Exception):
    """What the user picked cannot be sent (unknown format, empty layer, unwritable file)."""


# --------------------------------------------------------------------------- sources
def file_format(path: Path) -> str:
    """The format name of a file by its ending, or ImportSourceError."""
    name = path.name.lower()
    for suffix, fmt in FORMATS.items():
        if name.endswith(suffix):
            return fmt
    raise ImportSourceError(
        f"Formato non gestito / unsupported format: {path.name} "
        f"({', '.join(sorted(set(FORMATS)))})")


def file_layers(path: Path) -> List[str]:
    """The layers (GeoPackage tables, XLSX sheets) a file holds, in file order."""
    layer = QgsVectorLayer(str(path), "layers", "ogr")
    provider = layer.dataProvider() if layer.isValid() else None
    if provider is None:
        return []
    names = []
    for sub in provider.subLayers():
        parts = sub.split(QgsDataProvider.SUBLAYER_SEPARATOR)
        if len(parts) > 1 and parts[1] and parts[1] not in names:
            names.append(parts[1])
    return names


@dataclass
class ExportedLayer:
    """A project layer written to a GeoPackage for upload."""

    path: Path
    layer_name: str
    crs: str                     # the layer's CRS (authid, or WKT when it has none)
    feature_ids: List[int]       # row n of the file (1-based) -> feature id in the layer

    def feature_of_row(self, row: Optional[int]) -> Optional[int]:
        if row is None or not 1 <= int(row) <= len(self.feature_ids):
            return None
        return self.feature_ids[int(row) - 1]


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^0-9A-Za-z_-]+", "_", name).strip("_")
    return cleaned[:60] or "layer"


def export_layer(layer: QgsVectorLayer, folder: Optional[Path] = None,
                 selected_only: bool = False) -> ExportedLayer:
    """Write ``layer`` (or its selection) to ``<folder>/<name>.gpkg``, in the layer's CRS.

    Features are written one by one in the order read, so row n of the file is the
    n-th feature of :attr:`ExportedLayer.feature_ids`. A ``fid`` field is left out
    (the GeoPackage numbers its rows itself).
    """
    if not isinstance(layer, QgsVectorLayer) or not layer.isValid():
        raise ImportSourceError("Layer non valido / invalid layer")
    if selected_only and layer.selectedFeatureCount() == 0:
        raise ImportSourceError("Nessun elemento selezionato / no feature selected")
    folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="rigenera-import-"))
    name = _safe_name(layer.name())
    path = folder / f"{name}.gpkg"
    fields = QgsFields()
    kept: List[int] = []
    for index, fld in enumerate(layer.fields()):
        if fld.name().lower() == "fid":
            continue
        fields.append(fld)
        kept.append(index)
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = name
    options.fileEncoding = "UTF-8"
    options.actionOnExistingFile = QgsVectorFileWriter.CreateOrOverwriteFile
    writer = QgsVectorFileWriter.create(str(path), fields, layer.wkbType(), layer.crs(),
                                        QgsProject.instance().transformContext(), options)
    if writer.hasError() != QgsVectorFileWriter.NoError:
        raise ImportSourceError(f"GeoPackage: {writer.errorMessage()}")
    request = QgsFeatureRequest()
    if selected_only:
        request.setFilterFids(sorted(layer.selectedFeatureIds()))
    ids: List[int] = []
    for feature in layer.getFeatures(request):
        attributes = feature.attributes()
        feature.setFields(fields, False)
        feature.setAttributes([attributes[i] for i in kept])
        if not writer.addFeature(feature):
            message = writer.errorMessage()
            del writer
            raise ImportSourceError(f"GeoPackage: {message}")
        ids.append(feature.id())
    del writer  # closes the file
    if not ids:
        raise ImportSourceError("Il layer è vuoto / the layer has no features")
    crs = layer.crs()
    return ExportedLayer(path, name, crs.authid() or crs.toWkt(), ids)


# --------------------------------------------------------------------------- request
@dataclass
class ImportRequest:
    """What is sent: the file and the form fields of ``POST /api/imports``."""

    path: Path
    collection: str
    layer: Optional[str] = None
    crs: Optional[str] = None          # "EPSG:32632": for files without a CRS
    mapping: Optional[Path] = None     # a mapping YAML file
    dry_run: bool = True
    skip_invalid: bool = False
    file_name: Optional[str] = None    # as the server records it (default: the path's)

    def fields(self) -> List[Tuple[str, str]]:
        """The text fields of the form, in a fixed order."""
        out = [("collection", self.collection),
               ("dry_run", "true" if self.dry_run else "false"),
               ("skip_invalid", "true" if self.skip_invalid else "false")]
        if self.layer:
            out.append(("layer", self.layer))
        if self.crs:
            out.append(("crs", self.crs))
        return out

    def check(self) -> None:
        """Refuse locally what the server would refuse anyway."""
        if self.collection not in COLLECTIONS:
            raise ImportSourceError(f"Collezione sconosciuta / unknown collection: {self.collection}")
        if not self.path.is_file():
            raise ImportSourceError(f"File non trovato / file not found: {self.path}")
        file_format(Path(self.file_name or self.path.name))
        if self.mapping is not None:
            if not self.mapping.is_file():
                raise ImportSourceError(f"File non trovato / file not found: {self.mapping}")
            if self.mapping.suffix.lower() not in MAPPING_SUFFIXES:
                raise ImportSourceError("La mappatura deve essere un file YAML / the mapping "
                                        f"must be a YAML file: {self.mapping.name}")


def _disposition(name: str, file_name: Optional[str] = None) -> QByteArray:
    def quoted(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")

    value = f'form-data; name="{quoted(name)}"'
    if file_name is not None:
        value += f'; filename="{quoted(file_name)}"'
    return QByteArray(value.encode("utf-8"))


def _file_part(multipart: QHttpMultiPart, name: str, path: Path, file_name: str,
               mime: str) -> None:
    part = QHttpPart()
    part.setHeader(QNetworkRequest.ContentDispositionHeader, _disposition(name, file_name))
    part.setHeader(QNetworkRequest.ContentTypeHeader, mime)
    device = QFile(str(path), multipart)  # parented: lives exactly as long as the body
    if not device.open(QIODevice.ReadOnly):
        raise ImportSourceError(f"File non leggibile / cannot read {path}: {device.errorString()}")
    part.setBodyDevice(device)
    multipart.append(part)


def build_multipart(request: ImportRequest) -> QHttpMultiPart:
    """The ``multipart/form-data`` body of ``request`` (files streamed from disk).

    Keep a reference until the reply has finished (``post_multipart`` parents it
    to the reply): Qt reads the file parts while sending.
    """
    request.check()
    multipart = QHttpMultiPart(QHttpMultiPart.FormDataType)
    for name, value in request.fields():
        part = QHttpPart()
        part.setHeader(QNetworkRequest.ContentDispositionHeader, _disposition(name))
        part.setBody(QByteArray(value.encode("utf-8")))
        multipart.append(part)
    file_name = request.file_name or request.path.name
    _file_part(multipart, "file", request.path, file_name, MIME_TYPES[file_format(Path(file_name))])
    if request.mapping is not None:
        _file_part(multipart, "mapping", request.mapping, request.mapping.name, "application/yaml")
    return multipart


# --------------------------------------------------------------------------- report
@dataclass
class RejectedRow:
    row: Optional[int]
    field: str
    reason: str
    value: Optional[str] = None


@dataclass
class Note:
    code: str
    message: str
    count: Optional[int] = None
    items: List[Any] = field(default_factory=list)


def _int(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _rejected(rows: Any) -> List[RejectedRow]:
    out = []
    for r in rows if isinstance(rows, list) else []:
        if not isinstance(r, dict):
            continue
        value = r.get("value")
        out.append(RejectedRow(_int(r.get("row")), str(r.get("field") or ""),
                               str(r.get("reason") or r.get("description") or ""),
                               None if value is None else str(value)))
    return out


@dataclass
class ImportReport:
    """The server's report of an import (dry run, written, or refused)."""

    id: Optional[str]
    collection: str
    status: str                    # dry_run | succeeded | refused | failed | running
    dry_run: bool
    counts: Dict[str, int] = field(default_factory=dict)
    rejected: List[RejectedRow] = field(default_factory=list)
    notes: List[Note] = field(default_factory=list)
    file: Dict[str, Any] = field(default_factory=dict)
    seconds: Optional[float] = None
    links: List[Dict[str, Any]] = field(default_factory=list)
    message: str = ""              # the server's description of a refusal
    http_status: int = 200
    location: Optional[str] = None  # the import followed in the background (202), if any
    raw: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, doc: Dict[str, Any], http_status: int = 200) -> ImportReport:
        raw_counts = doc.get("counts")
        counts: Dict[str, Any] = raw_counts if isinstance(raw_counts, dict) else {}
        raw_file = doc.get("file")
        file: Dict[str, Any] = raw_file if isinstance(raw_file, dict) else {}
        notes = [Note(str(n.get("code") or ""), str(n.get("message") or ""), _int(n.get("count")),
                      list(n.get("items") or []))
                 for n in doc.get("notes") or [] if isinstance(n, dict)]
        seconds = doc.get("seconds")
        return cls(id=None if doc.get("id") is None else str(doc["id"]),
                   collection=str(doc.get("collection") or ""),
                   status=str(doc.get("status") or ""), dry_run=bool(doc.get("dry_run")),
                   counts={k: int(v) for k, v in counts.items() if _int(v) is not None},
                   rejected=_rejected(doc.get("rejected")), notes=notes,
                   file=file,
                   seconds=float(seconds) if isinstance(seconds, (int, float)) else None,
                   links=[lk for lk in doc.get("links") or [] if isinstance(lk, dict)],
                   http_status=http_status, raw=doc)

    @classmethod
    def from_error(cls, exc: ApiError, request: ImportRequest) -> ImportReport:
        """A refusal: the rows and fields the server named (``errors``), and its record id."""
        body = exc.body or {}
        inner = body.get("report")
        if isinstance(inner, dict):  # the engine's whole report, when the server sends it
            report = cls.from_json(inner, exc.status)
        else:
            report = cls(id=None, collection=request.collection, status="refused",
                         dry_run=request.dry_run, http_status=exc.status, raw=body)
        if body.get("import") is not None and report.id is None:
            report.id = str(body["import"])
        report.status = report.status if report.status in ("refused", "failed") else "refused"
        named = _rejected(exc.errors)
        known = {(r.row, r.field, r.reason) for r in report.rejected}
        report.rejected += [r for r in named if (r.row, r.field, r.reason) not in known]
        report.message = exc.description
        report.http_status = exc.status
        return report

    @property
    def ok(self) -> bool:
        """Nothing refused: a dry run that may be confirmed, or an import written."""
        return self.status in ("dry_run", "succeeded")

    def count(self, key: str) -> int:
        return int(self.counts.get(key) or 0)

    def link(self, rel: str) -> Optional[str]:
        return next((str(lk["href"]) for lk in self.links
                     if lk.get("rel") == rel and lk.get("href")), None)


# --------------------------------------------------------------------------- sending
def _wait(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec_()


def send_import(client: RigeneraClient, request: ImportRequest, progress: Progress = None,
                respond_async: bool = False,
                upload: Optional[Callable[[int, int], None]] = None) -> ImportReport:
    """Send ``request``; the report, also for a refusal (4xx naming rows and fields).

    ``respond_async`` asks the server to answer at once (202) and run the import in
    the background; the report is then polled from ``GET /api/imports/{id}`` with
    ``progress(done, total)`` until it is no longer running (a server that answers
    synchronously anyway is fine); ``upload(sent, total)`` follows the bytes sent.
    Raises ApiError for what is no answer about the file: unreachable server, wrong
    credentials (401), server errors (5xx).
    """
    multipart = build_multipart(request)
    headers = {"Prefer": "respond-async"} if respond_async else {}
    status, reply_headers, content = client.post_multipart(
        "/api/imports", multipart, headers=headers, progress=upload, timeout_ms=IMPORT_TIMEOUT_MS)
    del multipart  # the reply (now finished) owned it
    if status >= 400:
        exc = client.error_from(status, content)
        if status == 401 or status >= 500:
            raise exc
        return ImportReport.from_error(exc, request)
    try:
        doc = json.loads(content.decode("utf-8")) if content else {}
    except ValueError as exc:
        raise ApiError(status, "BadResponse", f"Risposta non JSON dal server: {exc}") from exc
    if status == 202:
        location = reply_headers.get("location") or (f"/api/imports/{doc['id']}"
                                                     if doc.get("id") is not None else "")
        if not location:
            raise ApiError(status, "BadResponse", "202 senza Location / 202 without Location")
        return poll_import(client, location, request, progress)
    return ImportReport.from_json(doc if isinstance(doc, dict) else {}, status)


def poll_import(client: RigeneraClient, location: str, request: ImportRequest,
                progress: Progress = None, poll_ms: int = POLL_MS) -> ImportReport:
    """Follow a background import until it is done; its final report."""
    while True:
        doc = client.get_json(location)
        report = ImportReport.from_json(doc if isinstance(doc, dict) else {})
        if report.status != "running":
            report.location = location
            if report.status in ("refused", "failed") and not report.message:
                report.message = str(doc.get("description") or "") or "; ".join(
                    dict.fromkeys(r.reason for r in report.rejected[:3]))
            return report
        state = doc.get("progress") or {}
        if progress is not None:
            progress(int(state.get("done") or 0), _int(state.get("total")))
        _wait(poll_ms)


def rejected_csv(client: RigeneraClient, report: ImportReport) -> bytes:
    """The CSV of every rejected row (the report lists the first 1,000)."""
    href = report.link("rejected") or (f"/api/imports/{report.id}/rejected.csv" if report.id
                                       else None)
    if href is None:
        raise ImportSourceError("Nessun file di righe scartate / no rejected-rows file")
    status, _, content = client.request("GET", href)
    if status >= 400:
        raise client.error_from(status, content)
    return content


def refresh_layers(collection: str, connection: Any = None,
                   project: Optional[QgsProject] = None) -> int:
    """Reload the project's Rigenera layers of ``collection`` after an import.

    The OAPIF layers drop what QGIS cached of their first page and reload their
    data; with ``connection``, the plugin's group is loaded again, which adds the
    parts of a split collection that had no features before. Returns how many
    layers were reloaded.
    """
    from . import layers as core_layers

    project = project or QgsProject.instance()
    group = core_layers.find_group(project)
    if connection is not None:
        core_layers.forget_cached_openings(str(connection.url),
                                           [s for s in core_layers.LAYERS
                                            if s.collection == collection])
        if group is not None:
            # The layers that loaded are there; the plugin reports the rest when loading.
            with contextlib.suppress(core_layers.LayerLoadError):
                core_layers.load_layers(connection, project)
    done = 0
    for layer in project.mapLayers().values():
        if not isinstance(layer, QgsVectorLayer) or layer.providerType() != core_layers.PROVIDER:
            continue
        if core_layers.collection_of(layer) != collection:
            continue
        provider = layer.dataProvider()
        if provider is not None:
            provider.reloadData()
        layer.triggerRepaint()
        done += 1
    return done
