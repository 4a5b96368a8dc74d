"""Processing algorithm "Sites near public transport" (rigenera:sites_near_transit).

Asks the server's OGC API Processes process ``sites-near-transit`` (PostGIS
``ST_DWithin`` on geography over every site and stop, so the answer is the
server's, not an approximation over what the client has loaded) and writes the
sites it returns, with their nearest stop and its distance, to feature sinks.

Sites are polygons where the perimeter is known and points where only the
location is: QGIS memory layers hold one geometry type, so polygon sites go to
``OUTPUT`` and point sites to ``OUTPUT_POINTS``.

Headless: no QtWidgets, no qgis.gui; runs from the toolbox, the modeler,
``processing.run("rigenera:sites_near_transit", {...})`` and ``qgis_process``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Tuple

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsJsonUtils,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterAuthConfig,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication, QVariant

PROCESS_ID = "sites-near-transit"
MODES = ("metro", "rail", "tram", "bus")
STATES = ("abandoned", "underused", "partly_used", "regenerated")
ISTAT = re.compile(r"^[0-9]{6}$")
# (name, type) of the output fields, in order; the server's properties of the same name.
OUTPUT_FIELDS: Tuple[Tuple[str, Any], ...] = (
    ("id", QVariant.LongLong), ("name", QVariant.String), ("istat_code", QVariant.String),
    ("state", QVariant.String), ("former_use", QVariant.String),
    ("surface_m2", QVariant.Double), ("validation_status", QVariant.String),
    ("nearest_stop_id", QVariant.LongLong), ("nearest_stop_name", QVariant.String),
    ("nearest_stop_mode", QVariant.String), ("distance_m", QVariant.Double),
)


def geometry_from_geojson(geometry: Optional[Dict[str, Any]]) -> QgsGeometry:
    """A QgsGeometry from a GeoJSON geometry object (QGIS 3.22 has no direct call)."""
    if not geometry:
        return QgsGeometry()
    doc = json.dumps({"type": "Feature", "properties": {}, "geometry": geometry})
    features = QgsJsonUtils.stringToFeatureList(doc, QgsFields())
    return features[0].geometry() if features else QgsGeometry()


def parse_istat_codes(text: str) -> List[str]:
    """'015146, 015209' -> ['015146', '015209']; raises ValueError on a malformed code."""
    codes = [c.strip() for c in re.split(r"[,;\s]+", text or "") if c.strip()]
    bad = [c for c in codes if not ISTAT.match(c)]
    if bad:
        raise ValueError(", ".join(bad))
    return list(dict.fromkeys(codes))


def result_features(result: Any) -> List[Dict[str, Any]]:
    """The GeoJSON features of a process result (raw FeatureCollection or an outputs document)."""
    if isinstance(result, dict):
        if isinstance(result.get("features"), list):
            return result["features"]
        for value in result.values():
            if isinstance(value, dict):
                if isinstance(value.get("features"), list):
                    return value["features"]
                inner = value.get("value")
                if isinstance(inner, dict) and isinstance(inner.get("features"), list):
                    return inner["features"]
    raise ValueError("no FeatureCollection in the process result")


class NearTransitAlgorithm(QgsProcessingAlgorithm):
    """Sites within a distance of public transport stops, with the nearest stop."""

    DISTANCE = "DISTANCE"
    MODES = "MODES"
    COMUNI = "COMUNI"
    STATES = "STATES"
    SERVER_URL = "SERVER_URL"
    AUTHCFG = "AUTHCFG"
    OUTPUT = "OUTPUT"
    OUTPUT_POINTS = "OUTPUT_POINTS"
    COUNT = "COUNT"
    # The server answers sites-near-transit to anyone (tests/plugin/test_processing.py
    # asks it anonymously): saved credentials that cannot be opened do not stop it.
    PUBLIC = True

    # ------------------------------------------------------------------ identity
    @staticmethod
    def tr(text: str) -> str:
        return QCoreApplication.translate("NearTransitAlgorithm", text)

    def createInstance(self) -> NearTransitAlgorithm:
        return NearTransitAlgorithm()

    def name(self) -> str:
        return "sites_near_transit"

    def displayName(self) -> str:
        return self.tr("Sites near public transport")

    def group(self) -> str:
        return self.tr("Analysis")

    def groupId(self) -> str:
        return "analysis"

    def tags(self) -> List[str]:
        return self.tr("transit,metro,tram,bus,railway,station,stop,site,regeneration,distance"
                       ).split(",")

    def shortHelpString(self) -> str:
        return self.tr(
            "Finds the sites (abandoned and underused areas) within the given distance of public "
            "transport stops of the chosen modes, with the nearest stop and its distance in "
            "metres. The server computes the answer over all its data (PostGIS, geodesic "
            "distance). Polygon sites are written to the first output, sites known only by "
            "their location (points) to the second.\n\n"
            "Comuni: ISTAT codes separated by commas (e.g. 015146 for Milano); empty = all. "
            "Modes and states: none selected = all.\n\n"
            "Server URL and authentication default to the plugin's saved connection.")

    def flags(self) -> Any:
        # Shown in the toolbox, the modeler and batch mode; cancellable between steps.
        flags = super().flags() | QgsProcessingAlgorithm.FlagSupportsBatch \
            | QgsProcessingAlgorithm.FlagCanCancel
        return flags & ~QgsProcessingAlgorithm.FlagHideFromModeler \
            & ~QgsProcessingAlgorithm.FlagHideFromToolbox

    # ------------------------------------------------------------------ parameters
    def mode_labels(self) -> List[str]:
        return [self.tr("Metro"), self.tr("Railway"), self.tr("Tram"), self.tr("Bus")]

    def state_labels(self) -> List[str]:
        return [self.tr("Abandoned"), self.tr("Underused"), self.tr("Partly used"),
                self.tr("Regenerated")]

    def initAlgorithm(self, config: Optional[Dict[str, Any]] = None) -> None:
        saved_url, saved_authcfg = _saved_connection()
        distance = QgsProcessingParameterNumber(
            self.DISTANCE, self.tr("Distance (metres)"), QgsProcessingParameterNumber.Double,
            defaultValue=500.0, minValue=1.0, maxValue=5000.0)
        self.addParameter(distance)
        self.addParameter(QgsProcessingParameterEnum(
            self.MODES, self.tr("Public transport modes"), options=self.mode_labels(),
            allowMultiple=True, defaultValue=list(range(len(MODES))), optional=True))
        self.addParameter(QgsProcessingParameterString(
            self.COMUNI, self.tr("Comuni (ISTAT codes, comma separated; empty = all)"),
            defaultValue="", optional=True))
        self.addParameter(QgsProcessingParameterEnum(
            self.STATES, self.tr("Site states (none = all)"), options=self.state_labels(),
            allowMultiple=True, defaultValue=[], optional=True))
        url = QgsProcessingParameterString(
            self.SERVER_URL, self.tr("Rigenera server URL (default: the saved connection)"),
            defaultValue=saved_url, optional=True)
        url.setFlags(url.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(url)
        auth = QgsProcessingParameterAuthConfig(
            self.AUTHCFG, self.tr("Authentication (default: the saved connection)"),
            defaultValue=saved_authcfg, optional=True)
        auth.setFlags(auth.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(auth)
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, self.tr("Sites near public transport"),
            QgsProcessing.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT_POINTS, self.tr("Sites near public transport (points)"),
            QgsProcessing.TypeVectorPoint, optional=True, createByDefault=True))
        self.addOutput(QgsProcessingOutputNumber(self.COUNT, self.tr("Number of sites")))

    def checkParameterValues(self, parameters: Dict[str, Any],
                             context: QgsProcessingContext) -> Tuple[bool, str]:
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            return ok, message
        try:
            parse_istat_codes(self.parameterAsString(parameters, self.COMUNI, context))
        except ValueError as exc:
            return False, self.tr("Invalid ISTAT code(s): {0} (six digits, e.g. 015146)"
                                  ).format(exc)
        return True, ""

    # ------------------------------------------------------------------ run
    def inputs(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Dict[str, Any]:
        """The process inputs for these parameters (the server's names and values)."""
        distance = self.parameterAsDouble(parameters, self.DISTANCE, context)
        modes = [MODES[i] for i in self.parameterAsEnums(parameters, self.MODES, context)]
        states = [STATES[i] for i in self.parameterAsEnums(parameters, self.STATES, context)]
        try:
            comuni = parse_istat_codes(self.parameterAsString(parameters, self.COMUNI, context))
        except ValueError as exc:
            raise QgsProcessingException(
                self.tr("Invalid ISTAT code(s): {0} (six digits, e.g. 015146)").format(exc)
            ) from exc
        inputs: Dict[str, Any] = {"distance_m": distance, "modes": modes or list(MODES)}
        if comuni:
            inputs["istat_codes"] = comuni
        if states:
            inputs["states"] = states
        return inputs

    def processAlgorithm(self, parameters: Dict[str, Any],
                         context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        from ..core.client import ApiError, AuthUnavailable, ConnectionFailed, RigeneraClient

        inputs = self.inputs(parameters, context)
        saved_url, saved_authcfg = _saved_connection()
        url = (self.parameterAsString(parameters, self.SERVER_URL, context) or saved_url).strip()
        authcfg = self.parameterAsString(parameters, self.AUTHCFG, context) or ""
        if not authcfg and url.rstrip("/") == saved_url.rstrip("/"):
            authcfg = saved_authcfg
        if not url:
            raise QgsProcessingException(self.tr(
                "No Rigenera server: connect the plugin first or set the server URL"))
        feedback.pushInfo(self.tr("Asking {0} for sites within {1} m of {2} stops").format(
            url, inputs["distance_m"], ", ".join(inputs["modes"])))
        feedback.setProgress(5)
        if feedback.isCanceled():
            return {}
        try:
            try:
                result = RigeneraClient(url, authcfg).execute(PROCESS_ID, inputs)
            except AuthUnavailable as exc:
                if not self.PUBLIC:
                    raise
                # Headless, the saved credentials may be locked away: a public process
                # needs none, so it runs anyway, and the user learns why they were unused.
                feedback.pushWarning(self.tr(
                    "{0} — the process is public: it runs without credentials").format(
                        exc.message()))
                result = RigeneraClient(url).execute(PROCESS_ID, inputs)
        except ConnectionFailed as exc:
            raise QgsProcessingException(
                self.tr("The server cannot be reached: {0}").format(exc.message())) from exc
        except AuthUnavailable as exc:
            raise QgsProcessingException(exc.message()) from exc
        except ApiError as exc:
            raise QgsProcessingException(
                self.tr("The server refused the request: {0}").format(exc.message())) from exc
        try:
            features = result_features(result)
        except ValueError as exc:
            raise QgsProcessingException(
                self.tr("Unexpected answer from the server: {0}").format(exc)) from exc
        feedback.setProgress(40)

        fields = QgsFields()
        for name, kind in OUTPUT_FIELDS:
            fields.append(QgsField(name, kind))
        crs = QgsCoordinateReferenceSystem("EPSG:4326")
        polygons: List[QgsFeature] = []
        points: List[QgsFeature] = []
        for item in features:
            if feedback.isCanceled():
                return {}
            props = item.get("properties") or {}
            feature = QgsFeature(fields)
            feature.setAttributes([_value(props.get(name), kind) for name, kind in OUTPUT_FIELDS])
            geom = geometry_from_geojson(item.get("geometry"))
            if geom.type() == QgsWkbTypes.PointGeometry:
                geom.convertToSingleType()
                feature.setGeometry(geom)
                points.append(feature)
            else:
                geom.convertToMultiType()
                feature.setGeometry(geom)
                polygons.append(feature)

        sink, dest = self.parameterAsSink(parameters, self.OUTPUT, context, fields,
                                          QgsWkbTypes.MultiPolygon, crs)
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OUTPUT))
        out: Dict[str, Any] = {self.OUTPUT: dest, self.COUNT: len(features)}
        point_sink, point_dest = self.parameterAsSink(parameters, self.OUTPUT_POINTS, context,
                                                      fields, QgsWkbTypes.Point, crs)
        if point_sink is not None:
            out[self.OUTPUT_POINTS] = point_dest
        elif points:
            feedback.reportError(self.tr(
                "{0} sites known only by their location (points) were not written: "
                "the points output is disabled").format(len(points)))
        total = max(1, len(features))
        batches = [(sink, self.OUTPUT, f) for f in polygons]
        batches += [(point_sink, self.OUTPUT_POINTS, f) for f in points]
        for done, (target, name, feature) in enumerate(batches, 1):
            if feedback.isCanceled():
                break
            if target is not None and not target.addFeature(feature, QgsFeatureSink.FastInsert):
                raise QgsProcessingException(self.writeFeatureError(target, parameters, name))
            feedback.setProgress(40 + 60 * done / total)
        feedback.pushInfo(self.tr("{0} sites found ({1} polygons, {2} points)").format(
            len(features), len(polygons), len(points)))
        return out


def _value(value: Any, kind: Any) -> Any:
    if value is None:
        return None
    try:
        if kind == QVariant.LongLong:
            return int(value)
        if kind == QVariant.Double:
            return float(value)
    except (TypeError, ValueError):
        return None
    return str(value)


def _saved_connection() -> Tuple[str, str]:
    """(url, authcfg) of the plugin's saved connection, ('', '') when there is none."""
    try:
        from ..core.connection import Connection

        conn = Connection.load()
    except Exception:  # noqa: BLE001 (no settings, no core: no default, and still runs)
        return "", ""
    return (conn.url, conn.authcfg) if conn else ("", "")
