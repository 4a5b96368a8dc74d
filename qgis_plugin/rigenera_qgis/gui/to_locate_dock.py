"""The dock "Da localizzare": approximate projects of my comuni, to draw for real.

Lists ``GET /api/projects/to-locate`` (id, CUP, title, comuni; paged, "Load
more" follows the ``next`` link). For the selected project:

* **Zoom** shows its approximate location (the comune's point) on the map;
* **Locate** opens the projects' working copy (checking one out for my comuni
  when there is none, pulling it when the project is newer than the copy),
  selects the project's row, zooms to it and starts editing with the vertex
  tool: moving the point to the real place is an ordinary edit;
* **Use the drawn polygon** makes a polygon just drawn in the working copy's
  polygons layer the project's perimeter (``core.tolocate.adopt_geometry``).

Synchronising sends the change through the normal changeset path (history,
validation, conflicts); the server then marks the geometry ``digitised`` and
the project leaves the queue (the plugin refreshes the dock after each sync).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsProject,
    QgsVectorLayer,
)
from qgis.gui import QgsDockWidget
from qgis.PyQt import uic
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QBrush, QColor
from qgis.PyQt.QtWidgets import QTableWidgetItem, QWidget

from ..core.comuni import comuni_names
from ..core.tolocate import ToLocate
from .panel import ServerPanel

FORM_CLASS, _ = uic.loadUiType(str(Path(__file__).resolve().parent / "ui" / "to_locate_dock.ui"))
WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")
COLLECTION = "projects"
MAP_FILTER = "\"geom_source\" = 'comune_point'"


class ToLocateDock(QgsDockWidget, ServerPanel):
    """See the module docstring."""

    def __init__(self, iface: Any, connection_getter: Callable[[], Any],
                 editing_getter: Callable[[], Any], parent: Optional[QWidget] = None) -> None:
        super().__init__(parent if parent is not None else iface.mainWindow())
        self.iface = iface
        self.connection_getter = connection_getter
        self.editing_getter = editing_getter
        self.setObjectName("RigeneraToLocateDock")
        self.setWindowTitle(self.tr("Rigenera – to locate"))
        self.contents = QWidget(self)
        self.ui = FORM_CLASS()
        self.ui.setupUi(self.contents)
        self.setWidget(self.contents)
        self.items: List[ToLocate] = []
        self.comuni_names: Dict[str, str] = {}
        self.total: Optional[int] = None
        self.next_href: Optional[str] = None
        self.last_error = ""

        ui = self.ui
        ui.helpLabel.setText(self.tr("Projects placed at their comune's point: draw their real "
                                     "point or perimeter."))
        ui.itemsTable.setHorizontalHeaderLabels(
            [self.tr("ID"), self.tr("CUP"), self.tr("Title"), self.tr("Comuni")])
        ui.refreshButton.setText(self.tr("Refresh"))
        ui.moreButton.setText(self.tr("Load more"))
        ui.zoomButton.setText(self.tr("Zoom"))
        ui.locateButton.setText(self.tr("Locate"))
        ui.adoptButton.setText(self.tr("Use the drawn polygon"))
        ui.mapFilterCheck.setText(self.tr("On the map, only the projects to locate"))
        ui.mapFilterCheck.setToolTip(self.tr("Filter the Rigenera projects layers on "
                                             "geom_source = 'comune_point'"))
        ui.locateButton.setToolTip(self.tr("Select the project in the working copy and edit "
                                           "its point"))
        ui.adoptButton.setToolTip(self.tr("Make the polygon selected in the working copy's "
                                          "polygons layer the project's perimeter"))
        ui.refreshButton.clicked.connect(lambda: self.refresh())
        ui.moreButton.clicked.connect(lambda: self.load_more())
        ui.zoomButton.clicked.connect(lambda: self.zoom_selected())
        ui.locateButton.clicked.connect(lambda: self.locate_selected())
        ui.adoptButton.clicked.connect(lambda: self.adopt_drawn())
        ui.mapFilterCheck.toggled.connect(lambda on: self.set_map_filter(on))
        ui.itemsTable.itemSelectionChanged.connect(self._update_buttons)
        ui.itemsTable.itemDoubleClicked.connect(lambda _item: self.zoom_selected())
        self.visibilityChanged.connect(self._visibility_changed)
        self._update_buttons()

    # ---------------------------------------------------------------- plumbing
    def _visibility_changed(self, visible: bool) -> None:
        if visible and not self.items and self.connection_getter() is not None:
            self.refresh()

    def _update_buttons(self) -> None:
        item = self.selected()
        editable = item is not None and item.in_reach
        self.ui.zoomButton.setEnabled(item is not None)
        self.ui.locateButton.setEnabled(editable)
        self.ui.adoptButton.setEnabled(editable)
        self.ui.moreButton.setEnabled(bool(self.next_href))

    def refresh(self) -> bool:
        """Reload the first page, keeping the selected project when it is still there."""
        from ..core.client import ApiError
        from ..core.tolocate import fetch_page

        client = self.client()
        if client is None:
            return False
        previous = self.selected()
        try:
            page = fetch_page(client)
        except ApiError as exc:
            self._status(exc.message(), error=True)
            return False
        self.items, self.total, self.next_href = list(page.items), page.total, page.next
        if not self.comuni_names:
            self.comuni_names = comuni_names(client)
        self._fill(previous.id if previous else None)
        return True

    def load_more(self) -> bool:
        """Append the next page."""
        from ..core.client import ApiError
        from ..core.tolocate import fetch_page

        client = self.client()
        if client is None or not self.next_href:
            return False
        try:
            page = fetch_page(client, self.next_href)
        except ApiError as exc:
            self._status(exc.message(), error=True)
            return False
        known = {i.id for i in self.items}
        self.items += [i for i in page.items if i.id not in known]
        self.next_href = page.next
        selected = self.selected()
        self._fill(selected.id if selected else None)
        return True

    def _fill(self, keep: Optional[str]) -> None:
        table = self.ui.itemsTable
        table.blockSignals(True)
        table.clearSelection()
        table.setRowCount(len(self.items))
        not_mine = self.tr("Also in comuni that are not yours: a coordinator can locate it")
        whole = self.tr("Whole metropolitan area")
        for row, item in enumerate(self.items):
            comuni = ", ".join(self.comuni_names.get(c, c) for c in item.comuni) or (
                whole if item.reason == "metro_area" else "")
            cells = [item.id, item.cup, item.title, comuni]
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text if item.in_reach else f"{text}\n{not_mine}")
                if not item.in_reach:
                    cell.setForeground(QBrush(QColor(128, 128, 128)))
                cell.setData(Qt.UserRole, item.id)
                table.setItem(row, column, cell)
        table.resizeColumnsToContents()
        table.blockSignals(False)
        if keep is not None:
            for row, item in enumerate(self.items):
                if item.id == keep:
                    table.selectRow(row)
                    break
        total = self.total if self.total is not None else len(self.items)
        self._status(self.tr("{shown} of {total} projects to locate").format(
            shown=len(self.items), total=total))
        self._update_buttons()

    def ids(self) -> List[str]:
        return [i.id for i in self.items]

    def selected(self) -> Optional[ToLocate]:
        rows = self.ui.itemsTable.selectionModel().selectedRows() \
            if self.ui.itemsTable.selectionModel() is not None else []
        row = rows[0].row() if rows else -1
        return self.items[row] if 0 <= row < len(self.items) else None

    def select_item(self, fid: Any) -> ToLocate:
        for row, item in enumerate(self.items):
            if item.id == str(fid):
                self.ui.itemsTable.selectRow(row)
                return item
        raise KeyError(fid)

    # ---------------------------------------------------------------- map
    def zoom_selected(self) -> bool:
        """Zoom to the approximate location of the selected project."""
        from ..core.tolocate import geometry_of

        item = self.selected()
        if item is None:
            return False
        geom = geometry_of(item)
        if geom is None:
            layer, fid = self._row_in_working_copy(item, checkout=False)
            if layer is None or fid is None:
                self._status(self.tr("No location for project {0}").format(item.id), error=True)
                return False
            self.iface.mapCanvas().zoomToFeatureIds(layer, [fid])
            return True
        canvas = self.iface.mapCanvas()
        destination = canvas.mapSettings().destinationCrs()
        transform = QgsCoordinateTransform(WGS84, destination, QgsProject.instance())
        box = transform.transformBoundingBox(geom.boundingBox())
        box.grow(0.01 if destination.isGeographic() else 1000)
        canvas.setExtent(box)
        canvas.refresh()
        geom.transform(transform)
        canvas.flashGeometries([geom], destination)
        return True

    def set_map_filter(self, on: bool) -> int:
        """Show only approximate projects in the projects' OAPIF layers (or all again).

        QGIS 3.22 filters OAPIF layers on the client (the subset string), so the
        layers keep their server-side ``geometry_kind`` split; returns how many
        layers were filtered.
        """
        from ..core.layers import PROVIDER, collection_of

        done = 0
        for layer in QgsProject.instance().mapLayers().values():
            if not isinstance(layer, QgsVectorLayer) or layer.providerType() != PROVIDER \
                    or collection_of(layer) != COLLECTION:
                continue
            if layer.setSubsetString(MAP_FILTER if on else ""):
                layer.triggerRepaint()
                done += 1
        if self.ui.mapFilterCheck.isChecked() != on:
            self.ui.mapFilterCheck.blockSignals(True)
            self.ui.mapFilterCheck.setChecked(on)
            self.ui.mapFilterCheck.blockSignals(False)
        return done

    # ---------------------------------------------------------------- locating
    def working_copy(self, checkout: bool = True) -> Optional[Any]:
        """The projects' working copy open in the project; checked out when there is none."""
        from ..core.workingcopy import PROP_COLLECTION
        from .editing import working_copy_path_of

        editing = self.editing_getter()
        for layer in editing.working_copy_layers():
            if str(layer.customProperty(PROP_COLLECTION) or "") == COLLECTION:
                path = working_copy_path_of(layer)
                if path is not None:
                    return editing.working_copy(path)
        if not checkout:
            return None
        return editing.checkout_active_layer(collection=COLLECTION, scope="comuni",
                                             interactive=False)

    def _row_in_working_copy(self, item: ToLocate, checkout: bool = True
                             ) -> tuple[Optional[QgsVectorLayer], Optional[int]]:
        from ..core.client import ApiError

        wc = self.working_copy(checkout)
        if wc is None:
            return None, None
        rows = wc.rows_of(item.id)
        if not rows and checkout:  # imported after the checkout: bring the copy up to date
            from ..core.sync import pull

            client = self.client()
            if client is not None:
                try:
                    pull(wc, client)
                except ApiError as exc:
                    self._status(exc.message(), error=True)
                    return None, None
                rows = wc.rows_of(item.id)
        if not rows:
            return None, None
        part, fid = rows[0]
        return wc.layer(part), fid

    def locate_selected(self) -> Optional[QgsVectorLayer]:
        """Select and zoom to the project in the working copy, editing with the vertex tool."""
        item = self.selected()
        if item is None:
            self._status(self.tr("Select a project in the list"), error=True)
            return None
        layer, fid = self._row_in_working_copy(item)
        if layer is None or fid is None:
            self._status(self.tr("Project {0} is not in your working copy of the projects")
                         .format(item.id), error=True)
            return None
        layer.selectByIds([fid])
        self.iface.setActiveLayer(layer)
        canvas = self.iface.mapCanvas()
        canvas.zoomToFeatureIds(layer, [fid])
        canvas.zoomScale(min(canvas.scale(), 5000) if canvas.scale() > 0 else 5000)
        if not layer.isEditable() and not layer.readOnly():
            layer.startEditing()
        vertex_tool = getattr(self.iface, "actionVertexTool", None)
        if callable(vertex_tool) and vertex_tool() is not None:
            vertex_tool().trigger()
        self._status(self.tr("Move the point of \"{0}\" to its real place (or draw its perimeter "
                             "in the polygons layer, then \"Use the drawn polygon\"), then "
                             "synchronise").format(item.title or item.id))
        return layer

    def adopt_drawn(self, layer: Optional[QgsVectorLayer] = None,
                    fid: Optional[int] = None) -> bool:
        """The selected new polygon of the working copy becomes the project's perimeter."""
        from ..core.workingcopy import WorkingCopyError

        item = self.selected()
        wc = self.working_copy(checkout=False)
        if item is None or wc is None:
            self._status(self.tr("Select a project and open its working copy with Locate first"),
                         error=True)
            return False
        if layer is None:
            layer = wc.layer("polygons") if any(p.name == "polygons" for p in wc.parts) else None
        if layer is None:
            return False
        if fid is None:
            selected = [f for f in layer.selectedFeatures() if f.hasGeometry()]
            if len(selected) != 1:
                self._status(self.tr("Select exactly one polygon you drew in \"{0}\"")
                             .format(layer.name()), error=True)
                return False
            fid = selected[0].id()
        editing = self.editing_getter()
        if not editing._save_edits(wc):
            return False
        if fid is not None and fid < 0:  # an unsaved feature got its real id on commit
            newest = max((f.id() for f in layer.getFeatures()), default=None)
            fid = newest
        from ..core.tolocate import adopt_geometry

        try:
            adopt_geometry(wc, item.id, layer, int(fid))  # type: ignore[arg-type]
        except WorkingCopyError as exc:
            self._status(str(exc), error=True)
            return False
        finally:
            for lyr in wc.layers():
                if not lyr.isEditable() and not lyr.readOnly():
                    lyr.startEditing()
        layer.selectByIds([int(fid)])  # type: ignore[arg-type]
        self._status(self.tr("\"{0}\" now has the drawn perimeter: synchronise to send it")
                     .format(item.title or item.id))
        return True
