"""One edit conflict: my version, the server's version, and what to keep.

Shows the differing fields side by side (at checkout / mine / theirs) with a
per-row choice, draws both geometries on the map canvas (mine blue, theirs
red) and ends with one of: "mine", "theirs" (for the fields changed on both
sides), or a per-field dict ``{"name": "mine", "geometry": "theirs", ...}`` for
``core.conflicts.resolve``. A field changed on one side only is preset to that
side (the three-way merge keeps it); the fields changed on both sides are in
bold. Closing the dialog any other way decides nothing (local edits stay).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from qgis.core import QgsCoordinateReferenceSystem, QgsGeometry, QgsRectangle, QgsWkbTypes
from qgis.gui import QgsRubberBand
from qgis.PyQt import uic
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtWidgets import QComboBox, QDialog, QTableWidgetItem, QWidget

FORM_CLASS, _ = uic.loadUiType(str(Path(__file__).resolve().parent / "ui" / "conflict_dialog.ui"))

GEOMETRY = "geometry"
MINE_COLOR = QColor(30, 90, 230)
THEIRS_COLOR = QColor(220, 30, 30)
Choice = Union[str, Dict[str, str]]


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _geometry(wkt: Optional[str]) -> QgsGeometry:
    return QgsGeometry.fromWkt(wkt) if wkt else QgsGeometry()


class ConflictDialog(QDialog, FORM_CLASS):
    """Decide one conflict; ``choice()`` is None until a decision button is pressed."""

    def __init__(self, conflict: Any, canvas: Any = None, parent: Optional[QWidget] = None,
                 crs: Optional[QgsCoordinateReferenceSystem] = None,
                 aliases: Optional[Dict[str, str]] = None) -> None:
        super().__init__(parent)
        self.setupUi(self)
        self.conflict = conflict
        self.canvas = canvas
        self.crs = crs or QgsCoordinateReferenceSystem("EPSG:4326")
        self.aliases = aliases or {}
        self._choice: Optional[Choice] = None
        self._combos: Dict[str, QComboBox] = {}
        self.bands: List[QgsRubberBand] = []
        self.mine_band: Optional[QgsRubberBand] = None
        self.theirs_band: Optional[QgsRubberBand] = None

        self.mine: Optional[Dict[str, Any]] = getattr(conflict, "mine", None)
        self.theirs: Optional[Dict[str, Any]] = getattr(conflict, "theirs", None)
        self.base: Dict[str, Any] = getattr(conflict, "base", None) or {}
        self.deleted_mine = self.mine is None
        self.deleted_theirs = self.theirs is None

        self.keepMineButton.setText(self.tr("Keep mine"))
        self.keepTheirsButton.setText(self.tr("Keep theirs"))
        self.mergeButton.setText(self.tr("Merge"))
        self.keepMineButton.clicked.connect(lambda: self.decide("mine"))
        self.keepTheirsButton.clicked.connect(lambda: self.decide("theirs"))
        self.mergeButton.clicked.connect(lambda: self.decide(self.merged_choice()))
        self.cancelButton.clicked.connect(self.reject)

        title = (self.mine or self.theirs or self.base or {}).get("name") \
            or (self.mine or self.theirs or self.base or {}).get("title") or ""
        server_id = getattr(conflict, "server_id", None)
        self.setWindowTitle(self.tr("Edit conflict – feature {0}").format(
            f"{server_id} {title}".strip() if server_id is not None else title))
        if self.deleted_theirs:
            self.summaryLabel.setText(self.tr(
                "This feature was deleted on the server after your checkout, and you changed it. "
                "Keep mine restores it with your version; keep theirs accepts the deletion."))
        elif self.deleted_mine:
            self.summaryLabel.setText(self.tr(
                "You deleted this feature, and someone else changed it on the server. "
                "Keep mine deletes it anyway; keep theirs keeps the server's version."))
        else:
            self.summaryLabel.setText(self.tr(
                "Someone else changed this feature on the server after your checkout (server "
                "version {0}). What only one side changed is kept; for the fields changed on "
                "both sides (in bold) choose mine or theirs, all at once or field by field."
            ).format(getattr(conflict, "theirs_version", "?")))
            self.keepMineButton.setToolTip(self.tr("Mine for the fields changed on both sides"))
            self.keepTheirsButton.setToolTip(self.tr(
                "Theirs for the fields changed on both sides"))
        self.legendLabel.setText(self.tr("On the map: your geometry in blue, the server's in red."))
        self._fill_table()
        self._draw()

    # ------------------------------------------------------------------ table
    def rows(self) -> List[str]:
        """The differing fields, then "geometry" when the geometries differ."""
        names = [f for f in (getattr(self.conflict, "fields", None) or []) if f != GEOMETRY]
        if not names and not self.deleted_mine and not self.deleted_theirs:
            keys = set(self.mine or {}) | set(self.theirs or {})
            names = sorted(k for k in keys if (self.mine or {}).get(k) != (self.theirs or {}).get(k))
        if GEOMETRY in (getattr(self.conflict, "fields", None) or []) or self.geometries_differ():
            names.append(GEOMETRY)
        return names

    def geometries_differ(self) -> bool:
        mine = _geometry(getattr(self.conflict, "mine_wkt", None))
        theirs = _geometry(getattr(self.conflict, "theirs_wkt", None))
        if mine.isNull() and theirs.isNull():
            return False
        if mine.isNull() != theirs.isNull():
            return True
        return not mine.isGeosEqual(theirs)

    def _fill_table(self) -> None:
        table = self.fieldsTable
        table.setHorizontalHeaderLabels([self.tr("Field"), self.tr("At checkout"), self.tr("Mine"),
                                         self.tr("Theirs (server)"), self.tr("Keep")])
        names = self.rows()
        table.setRowCount(len(names))
        per_field = not (self.deleted_mine or self.deleted_theirs)
        for row, name in enumerate(names):
            if name == GEOMETRY:
                cells = [self.tr("Geometry"), self._geom_text(getattr(self.conflict, "base_wkt",
                                                                      None)),
                         self._geom_text(getattr(self.conflict, "mine_wkt", None)),
                         self._geom_text(getattr(self.conflict, "theirs_wkt", None))]
            else:
                cells = [self.aliases.get(name, name), _text(self.base.get(name)),
                         self.tr("(deleted)") if self.deleted_mine else _text(self.mine.get(name)),
                         self.tr("(deleted)") if self.deleted_theirs
                         else _text(self.theirs.get(name))]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                item.setData(Qt.UserRole, name)
                table.setItem(row, col, item)
            combo = QComboBox()
            combo.addItem(self.tr("Mine"), "mine")
            combo.addItem(self.tr("Theirs"), "theirs")
            combo.setEnabled(per_field)
            if per_field:
                self._mark(row, name, combo)
            table.setCellWidget(row, 4, combo)
            self._combos[name] = combo
        table.resizeColumnsToContents()
        self.mergeButton.setEnabled(per_field and bool(names))
        if not per_field:
            self.mergeButton.setToolTip(self.tr(
                "A deleted feature cannot be merged field by field"))

    def _mark(self, row: int, name: str, combo: QComboBox) -> None:
        """Preset a row to what the three-way merge keeps; bold when both sides changed it."""
        automatic = getattr(self.conflict, "automatic", None)
        if automatic is None:
            return
        side = automatic(name)
        combo.setCurrentIndex(combo.findData(side))
        if name in (getattr(self.conflict, "both", None) or []):
            for col in range(4):
                item = self.fieldsTable.item(row, col)
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            return
        item = self.fieldsTable.item(row, 0)
        item.setToolTip(self.tr("Changed only by you: yours is kept") if side == "mine"
                        else self.tr("Changed only on the server: theirs is kept"))

    def _geom_text(self, wkt: Optional[str]) -> str:
        geom = _geometry(wkt)
        if geom.isNull():
            return "—"
        kind = QgsWkbTypes.displayString(geom.wkbType())
        if geom.type() == QgsWkbTypes.PolygonGeometry:
            return self.tr("{0}, {1} vertices").format(kind, sum(1 for _ in geom.vertices()))
        return geom.asWkt(6)[:80]

    # ------------------------------------------------------------------ choice
    def set_row_choice(self, name: str, side: str) -> None:
        """Set the per-field choice of one row ("mine" or "theirs")."""
        combo = self._combos[name]
        combo.setCurrentIndex(combo.findData(side))

    def merged_choice(self) -> Dict[str, str]:
        return {name: str(combo.currentData()) for name, combo in self._combos.items()}

    def decide(self, choice: Choice) -> None:
        self._choice = choice
        self.accept()

    def choice(self) -> Optional[Choice]:
        """"mine", "theirs", {field_or_"geometry": "mine"|"theirs"}, or None (undecided)."""
        return self._choice

    # ------------------------------------------------------------------ map
    def _draw(self) -> None:
        if self.canvas is None:
            return
        extent = QgsRectangle()
        for attr, wkt, color in (("mine_band", getattr(self.conflict, "mine_wkt", None),
                                  MINE_COLOR),
                                 ("theirs_band", getattr(self.conflict, "theirs_wkt", None),
                                  THEIRS_COLOR)):
            geom = _geometry(wkt)
            if geom.isNull():
                continue
            band = QgsRubberBand(self.canvas, geom.type())
            band.setToGeometry(geom, self.crs)
            band.setStrokeColor(color)
            fill = QColor(color)
            fill.setAlpha(40)
            band.setFillColor(fill)
            band.setWidth(3 if attr == "mine_band" else 2)
            band.show()
            setattr(self, attr, band)
            self.bands.append(band)
            box = band.asGeometry().boundingBox()
            if extent.isNull():
                extent = box
            else:
                extent.combineExtentWith(box)
        if not extent.isNull():
            extent.scale(1.5)
            if extent.width() == 0 or extent.height() == 0:
                extent.grow(50)
            self.canvas.setExtent(extent)
            self.canvas.refresh()

    def remove_bands(self) -> None:
        for band in self.bands:
            band.reset(QgsWkbTypes.PolygonGeometry)
            if self.canvas is not None:
                self.canvas.scene().removeItem(band)
        self.bands = []
        self.mine_band = self.theirs_band = None

    def done(self, result: int) -> None:  # every way of closing ends here
        self.remove_bands()
        super().done(result)

    def closeEvent(self, event: Any) -> None:
        self.remove_bands()
        super().closeEvent(event)
