"""Working copies: a local GeoPackage that QGIS edits with its own tools, offline too.

Why a snapshot and not QGIS's edit buffer: the buffer dies with the session,
while a technician edits today and synchronises next week. So a checkout
writes, next to the editable layers, a *base* table with each feature's server
id, version, properties and geometry as received. Local changes are whatever
differs from the base, worked out when synchronising:

* a row without ``rg_id``                       -> create
* a row whose values or geometry differ from its base -> patch with base_version
* a base row whose ``rg_id`` no row carries any more -> delete with base_version
* a second row with the same ``rg_id`` (QGIS's split copies attributes) -> create

A GeoPackage layer has one geometry type, while a collection may mix them
(sites: points where only the location is known, polygons where the perimeter
is): a collection is checked out as one layer per geometry family it accepts
(``parts``: points, lines, polygons, and a table for features without one).

Files inside the GeoPackage besides the feature layers (plain SQLite tables,
not registered in gpkg_contents, so QGIS does not list them):
``rg_meta`` (key/value: server, collection, area, model, change cursor),
``rg_base`` (the snapshot) and ``rg_problems`` (the server's last refusals).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransformContext,
    QgsFeature,
    QgsFeatureRequest,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsRectangle,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QVariant

from . import merge
from .client import RigeneraClient
from .merge import GEOMETRY

Progress = Optional[Callable[[int, str], None]]
ID_FIELD, VERSION_FIELD = "rg_id", "rg_version"
# Custom properties that tie a project layer to its working copy (saved with the project).
PROP_WORKING_COPY, PROP_COLLECTION, PROP_PART = (
    "rigenera/working_copy", "rigenera/collection", "rigenera/part")
_SERVER_KEYS = {"id", "version"}  # carried by rg_id / rg_version
# Unique per feature on the server: a split or copied row must not repeat them, so a new
# row carrying the value of an existing one leaves it out (the original keeps it).
UNIQUE_FIELDS = ("source_id", "cup")
_QTYPES = {"text": QVariant.String, "integer": QVariant.Int, "smallint": QVariant.Int,
           "bigint": QVariant.LongLong, "numeric": QVariant.Double, "double": QVariant.Double,
           "date": QVariant.Date, "boolean": QVariant.Bool, "timestamptz": QVariant.String}
# Geometry families: part name, layer geometry type, GeoJSON types it holds.
_FAMILIES = (
    ("points", ("POINT", "MULTIPOINT")),
    ("lines", ("LINESTRING", "MULTILINESTRING")),
    ("polygons", ("POLYGON", "MULTIPOLYGON")),
)
PART_TITLES = {"points": ("punti", "points"), "lines": ("linee", "lines"),
               "polygons": ("poligoni", "polygons"), "table": ("senza geometria", "no geometry")}


class WorkingCopyError(Exception):
    """The working copy cannot do what was asked (with a message for the user)."""


# ---------------------------------------------------------------------- values
def normalize(ftype: str, value: Any) -> Any:
    """One comparable Python form for a value from the server or from a QGIS field."""
    if value is None:
        return None
    if isinstance(value, QVariant):
        if value.isNull():
            return None
        value = value.value()
    if hasattr(value, "isNull") and not isinstance(value, (QDate, QDateTime)) and value.isNull():
        return None
    if isinstance(value, QDate):
        return value.toString(Qt.ISODate) if value.isValid() else None
    if isinstance(value, QDateTime):
        return value.toString(Qt.ISODate) if value.isValid() else None
    if ftype.endswith("[]"):
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                value = json.loads(value)
            except ValueError:
                return [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            value = [value]
        return [int(v) if ftype == "bigint[]" and str(v).lstrip("-").isdigit() else v
                for v in value]
    if ftype == "boolean":
        return bool(value)
    if ftype in {"integer", "smallint", "bigint"}:
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    if ftype in {"numeric", "double"}:
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    if ftype == "date":
        return str(value)[:10]
    return value if isinstance(value, str) else str(value)


def to_field_value(ftype: str, value: Any) -> Any:
    """A normalized value as the GeoPackage field stores it."""
    if value is None:
        return None
    if ftype.endswith("[]"):
        return json.dumps(value, ensure_ascii=False)
    if ftype == "date":
        return QDate.fromString(str(value)[:10], Qt.ISODate)
    return value


# ------------------------------------------------------------------- geometry
def _ring(coords: List[Any]) -> str:
    return "(" + ", ".join(" ".join(repr(float(c)) for c in pt[:2]) for pt in coords) + ")"


def geojson_to_wkt(geometry: Dict[str, Any]) -> str:
    """GeoJSON geometry -> WKT (2D), without depending on GDAL's Python bindings."""
    kind, c = geometry["type"], geometry.get("coordinates")
    if kind == "Point":
        return f"POINT ({float(c[0])!r} {float(c[1])!r})"
    if kind == "MultiPoint":
        return "MULTIPOINT (" + ", ".join(_ring([p]) for p in c) + ")"
    if kind == "LineString":
        return "LINESTRING " + _ring(c)
    if kind == "MultiLineString":
        return "MULTILINESTRING (" + ", ".join(_ring(line) for line in c) + ")"
    if kind == "Polygon":
        return "POLYGON (" + ", ".join(_ring(r) for r in c) + ")"
    if kind == "MultiPolygon":
        return "MULTIPOLYGON (" + ", ".join(
            "(" + ", ".join(_ring(r) for r in poly) + ")" for poly in c) + ")"
    if kind == "GeometryCollection":
        return "GEOMETRYCOLLECTION (" + ", ".join(
            geojson_to_wkt(g) for g in geometry.get("geometries", [])) + ")"
    raise WorkingCopyError(f"geometria GeoJSON non gestita: {kind}")


def geometry_from_geojson(geometry: Optional[Dict[str, Any]]) -> Optional[QgsGeometry]:
    if not geometry:
        return None
    geom = QgsGeometry.fromWkt(geojson_to_wkt(geometry))
    return None if geom.isNull() else geom


def geometry_to_geojson(geom: Optional[QgsGeometry]) -> Optional[Dict[str, Any]]:
    if geom is None or geom.isNull() or geom.isEmpty():
        return None
    return json.loads(geom.asJson(9))  # type: ignore[no-any-return]


def _wkb(geom: Optional[QgsGeometry]) -> Optional[bytes]:
    if geom is None or geom.isNull() or geom.isEmpty():
        return None
    return bytes(geom.asWkb())


# ----------------------------------------------------------------------- model
@dataclass
class Part:
    """One GeoPackage layer of a working copy (a geometry family of the collection)."""

    name: str            # points | lines | polygons | table
    layer_name: str      # the GeoPackage table
    wkb_type: int
    geojson_types: Tuple[str, ...]


@dataclass
class LocalChange:
    action: str                  # create | patch | delete
    part: Optional[str]          # None for deletes (the row is gone)
    fid: Optional[int]           # local feature id (None for deletes)
    server_id: Optional[str]
    base_version: Optional[int]
    properties: Dict[str, Any] = field(default_factory=dict)
    geometry: Optional[Dict[str, Any]] = None
    geometry_changed: bool = False

    @property
    def ref(self) -> str:
        if self.action == "delete":
            return f"d:{self.server_id}"
        return f"{self.action[0]}:{self.part}:{self.fid}"


def parts_for(collection: str, geometry_types: Iterable[str], geometry_required: bool) -> List[Part]:
    """The layers a collection needs: one per geometry family, a table for no geometry."""
    accepted = {t.upper() for t in geometry_types}
    parts = []
    for name, kinds in _FAMILIES:
        if accepted & set(kinds):
            _single, multi = kinds
            if name == "points":
                wkb = QgsWkbTypes.MultiPoint if multi in accepted else QgsWkbTypes.Point
            elif name == "lines":
                wkb = QgsWkbTypes.MultiLineString
            else:
                wkb = QgsWkbTypes.MultiPolygon
            parts.append(Part(name, "", wkb, kinds))
    if not geometry_required or "GEOMETRYCOLLECTION" in accepted or not parts:
        parts.append(Part("table", "", QgsWkbTypes.NoGeometry, ("GEOMETRYCOLLECTION",)))
    for p in parts:
        p.layer_name = collection if len(parts) == 1 else f"{collection}_{p.name}"
    return parts


# ------------------------------------------------------------------ the copy
class WorkingCopy:
    """A checked-out piece of a collection in a GeoPackage; see the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise WorkingCopyError(f"copia di lavoro non trovata: {self.path}")
        meta = self._meta()
        try:
            self.collection: str = meta["collection"]
            self.server_url: str = meta["server_url"]
            self.model: Dict[str, Any] = json.loads(meta["model"])
        except KeyError as exc:
            raise WorkingCopyError(f"{self.path} non è una copia di lavoro Rigenera") from exc
        self.parts = parts_for(self.collection, self.model.get("geometry_types", []),
                               bool(self.model.get("geometry_required")))
        self.fields = [f for f in self.model["fields"] if f["name"] not in _SERVER_KEYS]
        self.types = {f["name"]: f["type"] for f in self.fields}
        self.writable = [f["name"] for f in self.fields if not f.get("read_only")]
        self._layers: Dict[str, QgsVectorLayer] = {}

    # ---------------------------------------------------------------- sqlite side
    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(str(self.path), timeout=10)

    def _meta(self) -> Dict[str, str]:
        with closing(self._db()) as db:
            try:
                return dict(db.execute("SELECT key, value FROM rg_meta").fetchall())
            except sqlite3.DatabaseError as exc:
                raise WorkingCopyError(f"{self.path} non è una copia di lavoro Rigenera") from exc

    def meta(self, key: str, default: str = "") -> str:
        return self._meta().get(key, default)

    def set_meta(self, **values: Any) -> None:
        with closing(self._db()) as db, db:
            db.executemany("INSERT OR REPLACE INTO rg_meta (key, value) VALUES (?, ?)",
                           [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in values.items()])

    def base(self) -> Dict[str, Dict[str, Any]]:
        """Server id -> {"version", "part", "props", "wkb"} as last seen on the server."""
        with closing(self._db()) as db:
            rows = db.execute("SELECT server_id, version, part, props, geom FROM rg_base").fetchall()
        return {sid: {"version": v, "part": p, "props": json.loads(props),
                      "wkb": bytes(g) if g is not None else None}
                for sid, v, p, props, g in rows}

    def _write_base(self, db: sqlite3.Connection, server_id: str, version: int, part: str,
                    props: Dict[str, Any], geom: Optional[QgsGeometry]) -> None:
        db.execute("INSERT OR REPLACE INTO rg_base (server_id, version, part, props, geom)"
                   " VALUES (?, ?, ?, ?, ?)",
                   (server_id, version, part, json.dumps(props, ensure_ascii=False), _wkb(geom)))

    def problems(self) -> List[Dict[str, Any]]:
        """The server's last refusals: part, fid (local feature), field, message."""
        with closing(self._db()) as db:
            rows = db.execute("SELECT part, fid, field, message FROM rg_problems"
                              " ORDER BY rowid").fetchall()
        return [{"part": p, "layer": self.part(p).layer_name if p else None, "fid": f,
                 "field": fl, "message": m} for p, f, fl, m in rows]

    def set_problems(self, problems: List[Dict[str, Any]]) -> None:
        with closing(self._db()) as db, db:
            db.execute("DELETE FROM rg_problems")
            db.executemany("INSERT INTO rg_problems (part, fid, field, message) VALUES (?,?,?,?)",
                           [(p.get("part"), p.get("fid"), p.get("field"), p.get("message"))
                            for p in problems])

    # ------------------------------------------------------------------ layers
    def part(self, name: str) -> Part:
        for p in self.parts:
            if p.name == name:
                return p
        raise WorkingCopyError(f"parte sconosciuta: {name}")

    def part_for_geometry(self, geojson_type: Optional[str]) -> Part:
        kind = (geojson_type or "").upper()
        for p in self.parts:
            if kind in p.geojson_types:
                return p
        for p in self.parts:
            if p.name == "table":
                return p
        raise WorkingCopyError(f"geometria {geojson_type} non ammessa in {self.collection}")

    def layers(self) -> List[QgsVectorLayer]:
        """The editable layers (one per part), the same objects on every call."""
        return [self.layer(p.name) for p in self.parts]

    def layer(self, part: Optional[str] = None) -> QgsVectorLayer:
        name = part or self.parts[0].name
        layer = self._layers.get(name)
        if layer is None:
            p = self.part(name)
            lang = self.meta("language", "it")
            title = self.model.get("title", {}).get(lang) or self.collection
            suffix = f" ({PART_TITLES[p.name][0 if lang == 'it' else 1]})" if len(self.parts) > 1 else ""
            label = " – copia di lavoro" if lang == "it" else " – working copy"
            layer = QgsVectorLayer(f"{self.path}|layername={p.layer_name}", title + suffix + label,
                                   "ogr")
            if not layer.isValid():
                raise WorkingCopyError(f"layer non valido: {self.path} {p.layer_name}")
            self._tag(layer, p.name)
            self._configure(layer)
            self._layers[name] = layer
        return layer

    def adopt_layer(self, part: str, layer: QgsVectorLayer) -> None:
        """Use a layer QGIS restored with a project as the layer of ``part`` (same file)."""
        self.part(part)
        self._tag(layer, part)
        self._layers[part] = layer

    def _tag(self, layer: QgsVectorLayer, part: str) -> None:
        layer.setCustomProperty(PROP_WORKING_COPY, str(self.path))
        layer.setCustomProperty(PROP_COLLECTION, self.collection)
        layer.setCustomProperty(PROP_PART, part)

    def part_of_layer(self, layer: QgsVectorLayer) -> str:
        return str(layer.customProperty(PROP_PART))

    def _configure(self, layer: QgsVectorLayer) -> None:
        """Aliases and read-only fields from the server's model (forms before any QML)."""
        from qgis.core import QgsEditorWidgetSetup, QgsFieldConstraints

        lang = self.meta("language", "it")
        config = layer.editFormConfig()
        for f in self.model["fields"]:
            name = {"id": ID_FIELD, "version": VERSION_FIELD}.get(f["name"], f["name"])
            idx = layer.fields().indexFromName(name)
            if idx < 0:
                continue
            label = f.get("label", {})
            layer.setFieldAlias(idx, label.get(lang) or label.get("it") or f["name"])
            if f.get("read_only") or name in (ID_FIELD, VERSION_FIELD):
                config.setReadOnly(idx, True)
                continue
            if f.get("enum"):
                values = [{(e.get(lang) or e["code"]): e["code"]} for e in f["enum"]]
                if not f.get("required"):
                    values.insert(0, {"—": "{2839923C-8B7D-419E-B84B-CA2FE9B80EC7}"})
                layer.setEditorWidgetSetup(idx, QgsEditorWidgetSetup("ValueMap", {"map": values}))
            if f.get("required"):
                layer.setFieldConstraint(idx, QgsFieldConstraints.ConstraintNotNull,
                                         QgsFieldConstraints.ConstraintStrengthHard)
            if f.get("pattern"):
                layer.setConstraintExpression(
                    idx, f"\"{f['name']}\" IS NULL OR regexp_match(\"{f['name']}\", "
                         f"'{f['pattern']}')", f"{f['name']}: {f['pattern']}")
                layer.setFieldConstraint(idx, QgsFieldConstraints.ConstraintExpression,
                                         QgsFieldConstraints.ConstraintStrengthHard)
        layer.setEditFormConfig(config)

    # ---------------------------------------------------------------- checkout
    @classmethod
    def checkout(cls, client: RigeneraClient, collection: str, path: Path,
                 bbox: Optional[Tuple[float, float, float, float]] = None,
                 istat_codes: Optional[List[str]] = None, progress: Progress = None,
                 language: str = "it") -> WorkingCopy:
        """Download a collection (or the part in ``bbox`` / ``istat_codes``) into ``path``."""
        path = Path(path)
        if path.exists():
            raise WorkingCopyError(f"esiste già una copia di lavoro in {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        model = client.model(collection)
        if not model.get("editable"):
            raise WorkingCopyError(f"{collection}: collezione non modificabile / not editable")
        # The change cursor before reading: what changes meanwhile is pulled later.
        latest = str(client.changes(collection, limit=1).get("latest") or "")
        names = {f["name"] for f in model["fields"]}
        cql = None
        if istat_codes and "istat_code" in names:
            cql = "istat_code IN (" + ", ".join(f"'{c}'" for c in istat_codes if c.isdigit()) + ")"
        if progress:
            progress(5, "download")
        features = list(client.items(collection, bbox=bbox, cql=cql))
        if istat_codes and "istat_codes" in names:  # projects: a list of comuni
            wanted = set(istat_codes)
            features = [f for f in features
                        if wanted & set(f.get("properties", {}).get("istat_codes") or [])]
        cls._create(path, collection, model, client.base_url, bbox, istat_codes, latest, language)
        wc = cls(path)
        wc._add_from_server(features, progress)
        if progress:
            progress(100, "ok")
        return wc

    @classmethod
    def open(cls, path: Path) -> WorkingCopy:
        return cls(path)

    @classmethod
    def _create(cls, path: Path, collection: str, model: Dict[str, Any], server_url: str,
                bbox: Any, istat_codes: Any, latest: str, language: str) -> None:
        parts = parts_for(collection, model.get("geometry_types", []),
                          bool(model.get("geometry_required")))
        fields = QgsFields()
        fields.append(QgsField(ID_FIELD, QVariant.String))
        fields.append(QgsField(VERSION_FIELD, QVariant.Int))
        for f in model["fields"]:  # the server's names; id and version are rg_id, rg_version
            if f["name"] not in _SERVER_KEYS:
                fields.append(QgsField(f["name"], _QTYPES.get(f["type"], QVariant.String)))
        crs = QgsCoordinateReferenceSystem("EPSG:4326")
        for i, p in enumerate(parts):
            options = QgsVectorFileWriter.SaveVectorOptions()
            options.driverName = "GPKG"
            options.layerName = p.layer_name
            options.fileEncoding = "UTF-8"
            options.actionOnExistingFile = (QgsVectorFileWriter.CreateOrOverwriteFile if i == 0
                                            else QgsVectorFileWriter.CreateOrOverwriteLayer)
            writer = QgsVectorFileWriter.create(str(path), fields, p.wkb_type, crs,
                                                QgsCoordinateTransformContext(), options)
            if writer.hasError() != QgsVectorFileWriter.NoError:
                raise WorkingCopyError(f"GeoPackage: {writer.errorMessage()}")
            del writer
        with closing(sqlite3.connect(str(path), timeout=30)) as db, db:
            db.executescript("""
                CREATE TABLE rg_meta (key TEXT PRIMARY KEY, value TEXT);
                CREATE TABLE rg_base (server_id TEXT PRIMARY KEY, version INTEGER NOT NULL,
                                      part TEXT NOT NULL, props TEXT NOT NULL, geom BLOB);
                CREATE TABLE rg_problems (part TEXT, fid INTEGER, field TEXT, message TEXT);
            """)
            for p in parts:  # conflicts, refreshes and pulls look rows up by server id
                db.execute(f'CREATE INDEX "{p.layer_name}_rg_id" ON "{p.layer_name}" ({ID_FIELD})')
            meta = {"collection": collection, "server_url": server_url,
                    "model": json.dumps(model, ensure_ascii=False),
                    "bbox": json.dumps(list(bbox) if bbox else None),
                    "istat_codes": json.dumps(istat_codes or None),
                    "changes_seq": latest, "language": language,
                    "checkout_at": QDateTime.currentDateTimeUtc().toString(Qt.ISODate)}
            db.executemany("INSERT INTO rg_meta VALUES (?, ?)", list(meta.items()))

    # ------------------------------------------------------- server -> local
    def server_props(self, feature: Dict[str, Any]) -> Dict[str, Any]:
        """A server feature's properties, normalized, for the fields we keep."""
        props = feature.get("properties") or {}
        return {f["name"]: normalize(f["type"], props.get(f["name"])) for f in self.fields}

    def _local_geometry(self, part: Part, feature: Dict[str, Any]) -> Optional[QgsGeometry]:
        if part.name == "table":
            return None
        geom = geometry_from_geojson(feature.get("geometry"))
        if geom is not None and QgsWkbTypes.isMultiType(part.wkb_type):
            geom.convertToMultiType()
        return geom

    def _qgs_feature(self, layer: QgsVectorLayer, part: Part, feature: Dict[str, Any],
                     fid: Optional[int] = None) -> Tuple[QgsFeature, Dict[str, Any],
                                                         Optional[QgsGeometry]]:
        props = self.server_props(feature)
        qf = QgsFeature(layer.fields(), fid if fid is not None else 0)
        qf.setAttribute(ID_FIELD, str(feature["id"]))
        qf.setAttribute(VERSION_FIELD, int((feature.get("properties") or {}).get("version") or 0))
        for name, value in props.items():
            qf.setAttribute(name, to_field_value(self.types[name], value))
        geom = self._local_geometry(part, feature)
        if geom is not None:
            qf.setGeometry(geom)
        return qf, props, geom

    def _add_from_server(self, features: List[Dict[str, Any]], progress: Progress = None) -> None:
        """Insert server features (rows through the OGR provider, then their base rows:
        never both at once, SQLite would lock one writer out)."""
        by_part: Dict[str, List[Dict[str, Any]]] = {}
        for f in features:
            part = self.part_for_geometry((f.get("geometry") or {}).get("type"))
            by_part.setdefault(part.name, []).append(f)
        done = 0
        base_rows = []
        for name, feats in by_part.items():
            part, layer = self.part(name), self.layer(name)
            qfs = []
            for f in feats:
                qf, props, geom = self._qgs_feature(layer, part, f)
                qfs.append(qf)
                base_rows.append((str(f["id"]), int(qf[VERSION_FIELD]), name,
                                  json.dumps(props, ensure_ascii=False), _wkb(geom)))
            ok, _ = layer.dataProvider().addFeatures(qfs)
            if not ok:
                raise WorkingCopyError("scrittura nella copia di lavoro non riuscita: "
                                       + "; ".join(layer.dataProvider().errors()[-3:]))
            done += len(feats)
            if progress:
                progress(10 + int(80 * done / max(1, len(features))), "write")
        with closing(self._db()) as db, db:
            db.executemany("INSERT OR REPLACE INTO rg_base (server_id, version, part, props, geom)"
                           " VALUES (?, ?, ?, ?, ?)", base_rows)
        for layer in self._layers.values():
            layer.reload()

    def replace_from_server(self, server_id: str, feature: Optional[Dict[str, Any]]) -> None:
        """Make the local row of ``server_id`` equal the server's (None: it was deleted)."""
        self.replace_many({server_id: feature})

    def replace_many(self, features: Dict[str, Optional[Dict[str, Any]]]) -> None:
        """Several rows at once: one scan, one delete and one insert per layer.

        Only the row that stands for the server feature is replaced; a further row
        with the same ``rg_id`` (a local copy or split, a create not yet sent) is
        the user's work: it stays, without the server identity it copied.
        """
        if not features:
            return
        wanted, seen = set(features), set()
        for p in self.parts:
            layer = self.layer(p.name)
            dp = layer.dataProvider()
            request = QgsFeatureRequest().setFlags(QgsFeatureRequest.NoGeometry)
            request.setSubsetOfAttributes([dp.fields().indexFromName(ID_FIELD)])
            fids, copies = [], []
            for f in dp.getFeatures(request):  # the order local_changes() reads them in
                sid = normalize("text", f[ID_FIELD])
                if sid in wanted:
                    (copies if sid in seen else fids).append(f.id())
                    seen.add(sid)
            if fids:
                dp.deleteFeatures(fids)
            if copies:
                idx = layer.fields().indexFromName
                dp.changeAttributeValues({fid: {idx(ID_FIELD): None, idx(VERSION_FIELD): None}
                                          for fid in copies})
        with closing(self._db()) as db, db:
            db.executemany("DELETE FROM rg_base WHERE server_id = ?", [(s,) for s in wanted])
        self._add_from_server([f for f in features.values() if f is not None])

    def rows_of(self, server_id: str) -> List[Tuple[str, int]]:
        """(part, fid) of the local rows that carry ``server_id``, lowest fid first."""
        out = []
        for p in self.parts:
            layer = self.layer(p.name)
            expr = f"\"{ID_FIELD}\" = '{server_id}'"
            out += [(p.name, f.id()) for f in layer.getFeatures(expr)]
        return sorted(out, key=lambda r: r[1])

    # --------------------------------------------------------- local changes
    def local_props(self, feature: QgsFeature) -> Dict[str, Any]:
        return {name: normalize(ftype, feature[name]) for name, ftype in self.types.items()}

    def local_changes(self) -> List[LocalChange]:
        """What differs from the base: creates, patches and deletes (see the docstring)."""
        base = self.base()
        seen: set = set()
        changes: List[LocalChange] = []
        taken = {(k, b["props"].get(k)) for b in base.values() for k in UNIQUE_FIELDS
                 if b["props"].get(k) is not None}
        for p in self.parts:
            layer = self.layer(p.name)
            for f in layer.getFeatures():
                sid = normalize("text", f[ID_FIELD])
                props = self.local_props(f)
                geom = f.geometry() if f.hasGeometry() else None
                if not sid or sid in seen or sid not in base:
                    values = {k: v for k, v in props.items() if k in self.writable and v is not None
                              and (k, v) not in taken}
                    changes.append(LocalChange("create", p.name, f.id(), None, None, values,
                                               geometry_to_geojson(geom), True))
                    continue
                seen.add(sid)
                b = base[sid]
                diff = {k: props[k] for k in self.writable if props.get(k) != b["props"].get(k)}
                geom_changed = p.name != "table" and _wkb(geom) != b["wkb"]
                if diff or geom_changed:
                    changes.append(LocalChange("patch", p.name, f.id(), sid, b["version"], diff,
                                               geometry_to_geojson(geom), geom_changed))
        for sid, b in base.items():
            if sid not in seen:
                changes.append(LocalChange("delete", None, None, sid, b["version"]))
        return changes

    def pending(self) -> bool:
        """True when some layer has unsaved edits in QGIS's buffer (save them first)."""
        return any(layer.isEditable() and layer.isModified() for layer in self._layers.values())

    # -------------------------------------------------------- after a push
    def set_server_identity(self, part: str, fid: int, server_id: str, version: int) -> None:
        layer = self.layer(part)
        dp = layer.dataProvider()
        dp.changeAttributeValues({fid: {layer.fields().indexFromName(ID_FIELD): server_id,
                                        layer.fields().indexFromName(VERSION_FIELD): version}})

    def forget(self, server_id: str) -> None:
        with closing(self._db()) as db, db:
            db.execute("DELETE FROM rg_base WHERE server_id = ?", (server_id,))

    def rebase(self, server_id: str, feature: Optional[Dict[str, Any]], keep_local: bool = True,
               prefer: Optional[Dict[str, str]] = None) -> None:
        """The server's ``feature`` becomes the base of ``server_id`` (conflict resolution).

        Without ``keep_local`` the local row takes the server's values. With it, the
        local row becomes the three-way merge of the old base, the local row and
        ``feature`` (core/merge.py): what only the server changed is taken, what I
        changed is kept (``prefer`` decides field by field, "geometry" included),
        so the next push sends my changes on the current version and never puts
        back a value I did not touch.
        """
        if not keep_local:
            self.replace_from_server(server_id, feature)
            return
        rows = self.rows_of(server_id)
        if feature is None:  # gone on the server: local rows become new features
            self.forget(server_id)
            for part_name, fid in rows:
                layer = self.layer(part_name)
                layer.dataProvider().changeAttributeValues(
                    {fid: {layer.fields().indexFromName(ID_FIELD): None,
                           layer.fields().indexFromName(VERSION_FIELD): None}})
        else:
            old = self.base().get(server_id)
            version = int((feature.get("properties") or {}).get("version") or 0)
            part = self.part_for_geometry((feature.get("geometry") or {}).get("type"))
            theirs_geom = self._local_geometry(part, feature)
            with closing(self._db()) as db, db:
                self._write_base(db, server_id, version, part.name, self.server_props(feature),
                                 theirs_geom)
            if rows:
                self._merge_row(rows[0], server_id, version, old, feature, prefer or {})
        for layer in self._layers.values():
            layer.reload()

    def _merge_row(self, row: Tuple[str, int], server_id: str, version: int,
                   old: Optional[Dict[str, Any]], feature: Dict[str, Any],
                   prefer: Dict[str, str]) -> None:
        """Rewrite a local row as the merge of base ``old``, itself and the server's ``feature``."""
        part_name, fid = row
        theirs_part = self.part_for_geometry((feature.get("geometry") or {}).get("type"))
        theirs_geom = self._local_geometry(theirs_part, feature)
        local = next(self.layer(part_name).dataProvider().getFeatures(QgsFeatureRequest(fid)))
        mine_geom = local.geometry() if part_name != "table" and local.hasGeometry() else None
        mine = {**self.local_props(local), GEOMETRY: _wkb(mine_geom)}
        theirs = {**self.server_props(feature), GEOMETRY: _wkb(theirs_geom)}
        base = {**old["props"], GEOMETRY: old["wkb"]} if old else {}
        pick = merge.sides(base, mine, theirs, [*self.writable, GEOMETRY], prefer)
        values = {k: mine[k] if pick.get(k) == merge.MINE else theirs[k] for k in self.types}
        target, geom = ((part_name, mine_geom) if pick.get(GEOMETRY) == merge.MINE
                        else (theirs_part.name, theirs_geom))
        attrs = {ID_FIELD: server_id, VERSION_FIELD: version,
                 **{k: to_field_value(self.types[k], v) for k, v in values.items()}}
        layer = self.layer(target)
        if target == part_name:  # in place: the row keeps its feature id
            idx = layer.fields().indexFromName
            layer.dataProvider().changeAttributeValues({fid: {idx(k): v for k, v in attrs.items()}})
            if target != "table":
                layer.dataProvider().changeGeometryValues({fid: geom or QgsGeometry()})
            return
        # The geometry chosen belongs to another layer of the copy (a point became a polygon).
        self.layer(part_name).dataProvider().deleteFeatures([fid])
        qf = QgsFeature(layer.fields())
        qf.setAttributes([attrs.get(f.name()) for f in layer.fields()])  # fid: None, a new one
        if geom is not None and target != "table":
            qf.setGeometry(geom)
        if not layer.dataProvider().addFeatures([qf])[0]:
            raise WorkingCopyError("scrittura nella copia di lavoro non riuscita: "
                                   + "; ".join(layer.dataProvider().errors()[-3:]))

    def in_area(self, feature: Dict[str, Any]) -> bool:
        """Whether a feature created by someone else belongs to this checkout's area."""
        bbox = json.loads(self.meta("bbox", "null") or "null")
        codes = json.loads(self.meta("istat_codes", "null") or "null")
        props = feature.get("properties") or {}
        if codes:
            own = set(props.get("istat_codes") or []) | {props.get("istat_code")}
            if not own & set(codes):
                return False
        if bbox:
            geom = geometry_from_geojson(feature.get("geometry"))
            if geom is None or not geom.intersects(QgsRectangle(*bbox)):
                return False
        return True
