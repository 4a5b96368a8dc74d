"""The volunteers' review dock, and the guard that keeps volunteers off geometries.

:class:`ReviewDock` lists the review queue of a comune (``GET
/api/review/queue``), zooms to the selected feature, shows the server's
automatic checks (validity, self-intersection, slivers, plausible area,
overlaps with other sites, how far it reaches outside its comune) and marks
where the problem is on the map, then sends accept / reject with a comment
(``POST /api/review/{collection}/{id}`` with the version the reviewer saw).

:class:`~.editing.VolunteerGeometryGuard` (shared with the editing controller,
active from the moment either exists): when the connected account is a
volunteer, any geometry edit on a Rigenera layer (working copy or other) that
enters edit mode is undone right after it happens — moved or reshaped
geometries, added features, deleted features — with a message. Attribute
edits are left alone (the server decides about those: it refuses every
changeset of a volunteer with 403).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsWkbTypes,
)
from qgis.gui import QgsDockWidget, QgsRubberBand, QgsVertexMarker
from qgis.PyQt import uic
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QBrush, QColor
from qgis.PyQt.QtWidgets import QListWidgetItem, QTableWidgetItem, QWidget

from ..core.comuni import comuni_names
from .editing import VolunteerGeometryGuard, release_volunteer_guard, volunteer_guard
from .panel import ServerPanel

FORM_CLASS, _ = uic.loadUiType(str(Path(__file__).resolve().parent / "ui" / "review_dock.ui"))

REVIEWER_ROLES = ("volunteer", "coordinator", "admin")
STAFF_ROLES = ("volunteer", "coordinator", "admin")
WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")
FEATURE_COLOR = QColor(255, 140, 0)
PROBLEM_COLOR = QColor(220, 0, 0)
_COORDS = re.compile(r"\[\s*(-?[0-9.eE+-]+)\s+(-?[0-9.eE+-]+)\s*\]")


def _geometry(geojson: Optional[Dict[str, Any]]) -> Optional[QgsGeometry]:
    from ..core.workingcopy import geometry_from_geojson

    try:
        return geometry_from_geojson(geojson)
    except Exception:  # noqa: BLE001 (a geometry we cannot draw is simply not drawn)
        return None


# --------------------------------------------------------------------------- dock
class ReviewDock(QgsDockWidget, ServerPanel):
    """Review queue, automatic checks, problem markers, accept / reject with a comment."""

    COLLECTIONS = ("sites", "projects")

    def __init__(self, iface: Any, connection_getter: Callable[[], Any],
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent if parent is not None else iface.mainWindow())
        self.iface = iface
        self.connection_getter = connection_getter
        self.setObjectName("RigeneraReviewDock")
        self.setWindowTitle(self.tr("Rigenera – review"))
        self.contents = QWidget(self)
        self.ui = FORM_CLASS()
        self.ui.setupUi(self.contents)
        self.setWidget(self.contents)
        self.guard: VolunteerGeometryGuard = volunteer_guard(iface, connection_getter)

        self.account: Dict[str, Any] = {}
        self.comuni_names: Dict[str, str] = {}
        self.items: List[Dict[str, Any]] = []
        self.feature_band: Optional[QgsRubberBand] = None
        self.bands: List[QgsRubberBand] = []
        self.markers: List[QgsVertexMarker] = []
        self.problem_points: List[QgsPointXY] = []  # in EPSG:4326
        self.last_error = ""

        ui = self.ui
        ui.comuneLabel.setText(self.tr("Comune"))
        ui.collectionLabel.setText(self.tr("Features"))
        ui.queueLabel.setText(self.tr("Waiting for review"))
        ui.checksLabel.setText(self.tr("Automatic checks"))
        ui.refreshButton.setText(self.tr("Refresh"))
        ui.acceptButton.setText(self.tr("Accept"))
        ui.rejectButton.setText(self.tr("Reject"))
        ui.commentEdit.setPlaceholderText(self.tr("Comment (required to reject)"))
        ui.checksTable.setHorizontalHeaderLabels([self.tr("Check"), self.tr("Result")])
        ui.collectionCombo.addItem(self.tr("Sites"), "sites")
        ui.collectionCombo.addItem(self.tr("Projects"), "projects")
        ui.refreshButton.clicked.connect(self.refresh)
        ui.comuneCombo.activated.connect(lambda _index: self.refresh())
        ui.collectionCombo.activated.connect(lambda _index: self.refresh())
        ui.queueList.currentRowChanged.connect(self._row_changed)
        ui.acceptButton.clicked.connect(lambda: self.accept_selected())
        ui.rejectButton.clicked.connect(lambda: self.reject_selected())
        self.visibilityChanged.connect(self._visibility_changed)
        self._update_buttons()

    def unload(self) -> None:
        """Remove the map markers and stop the volunteers' guard (plugin unload)."""
        self.clear_map()
        release_volunteer_guard()

    # ---------------------------------------------------------------- plumbing
    def _visibility_changed(self, visible: bool) -> None:
        if not visible:
            self.clear_map()
        elif not self.account and self.connection_getter() is not None:
            self.refresh()

    @property
    def role(self) -> str:
        return str(self.account.get("role") or "")

    def can_review(self) -> bool:
        return self.role in REVIEWER_ROLES

    def _update_buttons(self) -> None:
        enabled = self.can_review() and self.selected() is not None
        self.ui.acceptButton.setEnabled(enabled)
        self.ui.rejectButton.setEnabled(enabled)
        if self.account and not self.can_review():
            tip = self.tr("Your role ({0}) cannot review: volunteers, coordinators and "
                          "administrators can").format(self.role)
        else:
            tip = ""
        self.ui.acceptButton.setToolTip(tip)
        self.ui.rejectButton.setToolTip(tip)

    # ---------------------------------------------------------------- account, comuni
    def load_account(self) -> bool:
        """Who we are (role, comuni) and the comune list; False when the server refused."""
        from ..core.client import ApiError

        client = self.client()
        if client is None:
            return False
        try:
            self.account = client.me()
        except ApiError as exc:
            self.account = {}
            self._status(exc.message(), error=True)
            return False
        self.guard.set_role(self.role)
        if not self.comuni_names:
            self.comuni_names = comuni_names(client)
        self._fill_comuni()
        self._update_buttons()
        return True

    def _fill_comuni(self) -> None:
        combo = self.ui.comuneCombo
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        own = [str(c) for c in self.account.get("comuni") or []]
        if own and self.role not in STAFF_ROLES:
            codes = own
        else:
            combo.addItem(self.tr("All comuni"), None)
            codes = sorted(self.comuni_names, key=lambda c: self.comuni_names[c].casefold())
        for code in codes:
            combo.addItem(f"{self.comuni_names.get(code, code)} ({code})", code)
        index = combo.findData(current) if current is not None else -1
        combo.setCurrentIndex(index if index >= 0 else 0)
        combo.blockSignals(False)

    def set_comune(self, istat_code: Optional[str]) -> None:
        """Choose the comune (None: all) and reload the queue."""
        if not self.account:
            self.load_account()
        index = self.ui.comuneCombo.findData(istat_code)
        if index < 0:
            raise KeyError(istat_code)
        self.ui.comuneCombo.setCurrentIndex(index)
        self.refresh()

    def set_collection(self, collection: str) -> None:
        self.ui.collectionCombo.setCurrentIndex(self.ui.collectionCombo.findData(collection))
        self.refresh()

    def comune(self) -> Optional[str]:
        value = self.ui.comuneCombo.currentData()
        return str(value) if value else None

    def collection(self) -> str:
        return str(self.ui.collectionCombo.currentData() or "sites")

    # ---------------------------------------------------------------- queue
    def refresh(self) -> None:
        """Reload the queue of the chosen comune, keeping the selection when possible."""
        from ..core.client import ApiError

        if not self.account and not self.load_account():
            return
        client = self.client()
        if client is None:
            return
        previous = self.selected()
        try:
            doc = client.review_queue(self.collection(), self.comune())
        except ApiError as exc:
            self._status(exc.message(), error=True)
            return
        self.items = list(doc.get("items") or [])
        lst = self.ui.queueList
        lst.blockSignals(True)
        lst.clear()
        for item in self.items:
            problems = self.problems_of(item)
            name = self.comuni_names.get(str(item.get("istat_code")), item.get("istat_code"))
            text = f"{item.get('title') or item.get('id')} – {name or ''}".rstrip(" –")
            if problems:
                text = "⚠ " + text
            row = QListWidgetItem(text)
            row.setData(Qt.UserRole, str(item.get("id")))
            row.setToolTip(self.tr("Version {0}, changed by {1} on {2}").format(
                item.get("version"), item.get("updated_by"), item.get("updated_at")))
            if problems:
                row.setForeground(QBrush(PROBLEM_COLOR))
            lst.addItem(row)
        lst.blockSignals(False)
        self._status(self.tr("{0} features waiting for review").format(len(self.items)))
        row = next((i for i, it in enumerate(self.items) if str(it.get("id")) == previous), 0)
        if self.items:
            lst.setCurrentRow(row)
            self._row_changed(row)
        else:
            self._row_changed(-1)

    def selected(self) -> Optional[Dict[str, Any]]:
        row = self.ui.queueList.currentRow()
        return self.items[row] if 0 <= row < len(self.items) else None

    def select_item(self, fid: Any) -> Dict[str, Any]:
        for row, item in enumerate(self.items):
            if str(item.get("id")) == str(fid):
                self.ui.queueList.setCurrentRow(row)
                return item
        raise KeyError(fid)

    # ---------------------------------------------------------------- checks
    def check_rows(self, item: Dict[str, Any]) -> List[Dict[str, Any]]:
        """(label, text, problem) for each automatic check the queue returned."""
        checks = item.get("checks") or {}
        rows: List[Dict[str, Any]] = []
        yes, no = self.tr("yes"), self.tr("no")
        for key, value in checks.items():
            if key in ("validity_reason", "outside_location"):
                continue
            if key == "valid":
                reason = checks.get("validity_reason")
                rows.append({"key": key, "label": self.tr("Valid geometry"),
                             "text": yes if value else f"{no}: {reason or ''}".rstrip(": "),
                             "problem": not value})
            elif key == "self_intersects":
                rows.append({"key": key, "label": self.tr("Self-intersection"),
                             "text": yes if value else no, "problem": bool(value)})
            elif key == "area_m2":
                rows.append({"key": key, "label": self.tr("Area"),
                             "text": "—" if value is None else f"{float(value):,.1f} m²",
                             "problem": False})
            elif key == "sliver":
                rows.append({"key": key, "label": self.tr("Thin sliver"),
                             "text": yes if value else no, "problem": bool(value)})
            elif key == "area_plausible":
                rows.append({"key": key, "label": self.tr("Plausible area (20 m² – 5 km²)"),
                             "text": yes if value else no, "problem": value is False})
            elif key == "overlapping_sites":
                ids = list(value or [])
                rows.append({"key": key, "label": self.tr("Overlaps other sites"),
                             "text": ", ".join(str(i) for i in ids) if ids else no,
                             "problem": bool(ids)})
            elif key == "outside_comune_m":
                metres = float(value or 0)
                rows.append({"key": key, "label": self.tr("Outside its comune"),
                             "text": self.tr("{0} m").format(f"{metres:,.1f}") if metres
                             else no, "problem": metres > 0})
            else:
                problem = value is False or (isinstance(value, (list, dict)) and bool(value))
                rows.append({"key": key, "label": key, "text": str(value), "problem": problem})
        return rows

    def problems_of(self, item: Dict[str, Any]) -> List[str]:
        return [r["key"] for r in self.check_rows(item) if r["problem"]]

    def _show_checks(self, item: Optional[Dict[str, Any]]) -> None:
        table = self.ui.checksTable
        rows = self.check_rows(item) if item else []
        table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            label = QTableWidgetItem(row["label"])
            text = QTableWidgetItem(("⚠ " if row["problem"] else "✓ ") + row["text"])
            text.setToolTip(row["text"])
            if row["problem"]:
                text.setForeground(QBrush(PROBLEM_COLOR))
            label.setData(Qt.UserRole, row["key"])
            table.setItem(i, 0, label)
            table.setItem(i, 1, text)
        table.resizeColumnToContents(0)

    # ---------------------------------------------------------------- map
    def clear_map(self) -> None:
        canvas = self.iface.mapCanvas()
        for band in self.bands:
            band.reset(QgsWkbTypes.PolygonGeometry)
            canvas.scene().removeItem(band)
        for marker in self.markers:
            canvas.scene().removeItem(marker)
        self.bands, self.markers, self.problem_points = [], [], []
        self.feature_band = None

    def _band(self, geom: QgsGeometry, color: QColor, width: int, fill: int) -> QgsRubberBand:
        band = QgsRubberBand(self.iface.mapCanvas(), geom.type())
        band.setToGeometry(geom, WGS84)
        band.setStrokeColor(color)
        fill_color = QColor(color)
        fill_color.setAlpha(fill)
        band.setFillColor(fill_color)
        band.setWidth(width)
        band.show()
        self.bands.append(band)
        return band

    def _marker(self, point: QgsPointXY) -> None:
        canvas = self.iface.mapCanvas()
        transform = QgsCoordinateTransform(WGS84, canvas.mapSettings().destinationCrs(),
                                           QgsProject.instance())
        marker = QgsVertexMarker(canvas)
        marker.setCenter(transform.transform(point))
        marker.setColor(PROBLEM_COLOR)
        marker.setIconType(QgsVertexMarker.ICON_X)
        marker.setIconSize(18)
        marker.setPenWidth(3)
        self.markers.append(marker)
        self.problem_points.append(point)

    def problem_locations(self, item: Dict[str, Any], geom: Optional[QgsGeometry]
                          ) -> List[QgsPointXY]:
        """Where the checks found something wrong (lon/lat points)."""
        checks = item.get("checks") or {}
        points: List[QgsPointXY] = []
        outside = _geometry(checks.get("outside_location"))
        if outside is not None:
            points.append(outside.asPoint() if not outside.isMultipart()
                          else outside.pointOnSurface().asPoint())
        reason = checks.get("validity_reason") or ""
        match = _COORDS.search(str(reason))
        if match:
            points.append(QgsPointXY(float(match.group(1)), float(match.group(2))))
        return points

    def _show_on_map(self, item: Optional[Dict[str, Any]]) -> None:
        self.clear_map()
        if not item:
            return
        geom = _geometry(item.get("geometry"))
        canvas = self.iface.mapCanvas()
        if geom is not None:
            self.feature_band = self._band(geom, FEATURE_COLOR, 3, 50)
            box = self.feature_band.asGeometry().boundingBox()
            box.scale(1.6)
            if box.width() == 0 or box.height() == 0:
                box.grow(0.002 if canvas.mapSettings().destinationCrs().isGeographic() else 150)
            canvas.setExtent(box)
        for point in self.problem_locations(item, geom):
            self._marker(point)
        overlapping = (item.get("checks") or {}).get("overlapping_sites") or []
        client = self.client() if overlapping else None
        for other_id in overlapping[:20]:
            try:
                other = client.item("sites", str(other_id)) if client else None
            except Exception:  # noqa: BLE001 (drawing the other site helps, it is no must)
                other = None
            other_geom = _geometry((other or {}).get("geometry"))
            if other_geom is None:
                continue
            self._band(other_geom, PROBLEM_COLOR, 2, 0)
            if geom is not None:
                overlap = geom.intersection(other_geom)
                if not overlap.isEmpty():
                    self._marker(overlap.pointOnSurface().asPoint())
        canvas.refresh()

    def _row_changed(self, row: int) -> None:
        item = self.items[row] if 0 <= row < len(self.items) else None
        self._show_checks(item)
        self._show_on_map(item)
        self._update_buttons()

    # ---------------------------------------------------------------- decisions
    def accept_selected(self, comment: Optional[str] = None) -> Optional[Dict[str, Any]]:
        return self._decide("accept", comment)

    def reject_selected(self, comment: Optional[str] = None) -> Optional[Dict[str, Any]]:
        return self._decide("reject", comment)

    def _decide(self, decision: str, comment: Optional[str]) -> Optional[Dict[str, Any]]:
        from ..core.client import ApiError

        item = self.selected()
        if item is None:
            self._status(self.tr("Select a feature in the queue"), error=True)
            return None
        if not self.can_review():
            self._status(self.tr("Your role ({0}) cannot review").format(self.role), error=True)
            return None
        text = (comment if comment is not None else self.ui.commentEdit.toPlainText()).strip()
        if decision == "reject" and not text:
            self._status(self.tr("Say why in the comment: a rejection needs one"), error=True)
            return None
        client = self.client()
        if client is None:
            return None
        try:
            answer = client.review(str(item.get("collection") or self.collection()),
                                   str(item["id"]), decision, text, item.get("version"))
        except ApiError as exc:
            self._status(self.tr("Not sent: {0}").format(exc.message()), error=True)
            if exc.status == 412:  # changed meanwhile: show the current state
                self.refresh()
            return None
        self.ui.commentEdit.clear()
        self.iface.messageBar().pushMessage(
            "Rigenera", (self.tr("{0} accepted") if decision == "accept"
                         else self.tr("{0} rejected")).format(item.get("title") or item["id"]),
            Qgis.Success, 5)
        self.refresh()
        return answer  # type: ignore[no-any-return]
