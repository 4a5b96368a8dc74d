"""The dialog "Importa file nel catalogo": dry run, report, confirmation, import.

The user picks a vector layer of the project (or its selected features) or a
file (GeoPackage with its layer, zipped Shapefile, GeoJSON, CSV, XLSX), the
collection, optionally a mapping YAML and the CRS of a file that declares
none. "Check" sends it with ``dry_run=true`` and shows the server's report:
counts, every rejected row with its field and reason, the notes. "Import"
(enabled once a dry run of exactly these inputs said yes) asks for
confirmation and sends the same file for real, then shows the result and
reloads the plugin's layers of that collection. A refusal (a technician's rows
outside their comuni, an invalid file) shows the rows and fields the server
named, in the same table.

Testable without clicking: :meth:`ImportDialog.dry_run` and
:meth:`ImportDialog.run_import` return the :class:`~..core.imports.ImportReport`
shown; :meth:`counts_shown` and :meth:`rejected_shown` read the tables back.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from qgis.core import Qgis, QgsCoordinateReferenceSystem, QgsMapLayerProxyModel, QgsVectorLayer
from qgis.gui import QgsFileWidget
from qgis.PyQt import uic
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtGui import QBrush, QColor
from qgis.PyQt.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QListWidgetItem,
    QMessageBox,
    QTableWidgetItem,
    QWidget,
)

from ..core.client import ApiError
from ..core.imports import (
    COLLECTIONS,
    COUNT_KEYS,
    ExportedLayer,
    ImportReport,
    ImportRequest,
    ImportSourceError,
    export_layer,
    file_format,
    file_layers,
    refresh_layers,
    rejected_csv,
    send_import,
)
from ..toolbelt import log
from .panel import ServerPanel

FORM_CLASS, _ = uic.loadUiType(str(Path(__file__).resolve().parent / "ui" / "import_dialog.ui"))
ERROR_COLOR = QColor(200, 0, 0)
OK_COLOR = QColor(0, 120, 0)


class ImportDialog(QDialog, ServerPanel):
    """See the module docstring."""

    def __init__(self, iface: Any, connection_getter: Callable[[], Any],
                 parent: Optional[QWidget] = None, layer: Optional[QgsVectorLayer] = None) -> None:
        super().__init__(parent if parent is not None else iface.mainWindow())
        self.iface = iface
        self.connection_getter = connection_getter
        self.ui = FORM_CLASS()
        self.ui.setupUi(self)
        self.setWindowTitle(self.tr("Import file into the catalogue"))
        self.tmpdir = Path(tempfile.mkdtemp(prefix="rigenera-import-"))
        self.exported: Optional[ExportedLayer] = None
        self.exported_key: Optional[Tuple[str, bool]] = None
        self.checked: Optional[ImportReport] = None       # the dry run of the current inputs
        self.checked_request: Optional[ImportRequest] = None
        self.last_report: Optional[ImportReport] = None
        self.last_error = ""

        ui = self.ui
        ui.layerCombo.setFilters(QgsMapLayerProxyModel.VectorLayer)
        ui.layerCombo.setAllowEmptyLayer(False)
        if layer is not None:
            ui.layerCombo.setLayer(layer)
        ui.fileWidget.setStorageMode(QgsFileWidget.GetFile)
        ui.fileWidget.setFilter(self.tr("GIS files") +
                                " (*.gpkg *.zip *.geojson *.json *.csv *.xlsx)")
        ui.mappingWidget.setStorageMode(QgsFileWidget.GetFile)
        ui.mappingWidget.setFilter(self.tr("Mapping") + " (*.yml *.yaml)")
        ui.crsWidget.setCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
        ui.crsWidget.setEnabled(False)
        labels = {"sites": self.tr("Abandoned sites"), "projects": self.tr("Projects"),
                  "mobility_links": self.tr("Sustainable mobility network"),
                  "transit_stops": self.tr("Public transport stops")}
        for collection in COLLECTIONS:
            ui.collectionCombo.addItem(f"{labels[collection]} ({collection})", collection)
        ui.countsTable.setRowCount(1)
        ui.countsTable.setColumnCount(len(COUNT_KEYS))
        ui.countsTable.setHorizontalHeaderLabels([self._count_label(k) for k in COUNT_KEYS])
        ui.rejectedTable.setHorizontalHeaderLabels(
            [self.tr("Row"), self.tr("Field"), self.tr("Reason"), self.tr("Value")])
        ui.buttonBox.button(QDialogButtonBox.Close).setText(self.tr("Close"))

        ui.dryRunButton.clicked.connect(lambda: self._guarded(self.dry_run))
        ui.importButton.clicked.connect(lambda: self._guarded(self.run_import))
        ui.buttonBox.rejected.connect(self.reject)
        ui.selectRejectedButton.clicked.connect(lambda: self._guarded(self.select_rejected))
        ui.saveRejectedButton.clicked.connect(lambda: self._guarded(self.save_rejected))
        ui.crsCheck.toggled.connect(ui.crsWidget.setEnabled)
        ui.fileWidget.fileChanged.connect(self._file_changed)
        for signal in (ui.layerRadio.toggled, ui.selectedOnlyCheck.toggled, ui.crsCheck.toggled,
                       ui.fileWidget.fileChanged, ui.mappingWidget.fileChanged,
                       ui.layerCombo.layerChanged, ui.fileLayerCombo.currentIndexChanged,
                       ui.collectionCombo.currentIndexChanged, ui.crsWidget.crsChanged):
            signal.connect(self._inputs_changed)
        ui.skipInvalidCheck.toggled.connect(lambda _on: self._update_buttons())
        ui.layerRadio.toggled.connect(self._source_kind_changed)
        self._source_kind_changed()
        self._show(None)

    # ---------------------------------------------------------------- set-up for tests
    def set_layer(self, layer: QgsVectorLayer, selected_only: bool = False) -> None:
        self.ui.layerRadio.setChecked(True)
        self.ui.layerCombo.setLayer(layer)
        self.ui.selectedOnlyCheck.setChecked(selected_only)

    def set_file(self, path: Path, layer: Optional[str] = None) -> None:
        self.ui.fileRadio.setChecked(True)
        self.ui.fileWidget.setFilePath(str(path))
        self._file_changed(str(path))
        if layer is not None:
            index = self.ui.fileLayerCombo.findText(layer)
            if index < 0:
                raise KeyError(layer)
            self.ui.fileLayerCombo.setCurrentIndex(index)

    def set_collection(self, collection: str) -> None:
        self.ui.collectionCombo.setCurrentIndex(self.ui.collectionCombo.findData(collection))

    def set_options(self, mapping: Optional[Path] = None, crs: Optional[str] = None,
                    skip_invalid: bool = False) -> None:
        self.ui.mappingWidget.setFilePath(str(mapping) if mapping else "")
        self.ui.crsCheck.setChecked(crs is not None)
        if crs is not None:
            self.ui.crsWidget.setCrs(QgsCoordinateReferenceSystem(crs))
        self.ui.skipInvalidCheck.setChecked(skip_invalid)

    # ---------------------------------------------------------------- inputs
    def _count_label(self, key: str) -> str:
        return str({"read": self.tr("Read"), "created": self.tr("Created"),
                "updated": self.tr("Updated"), "unchanged": self.tr("Unchanged"),
                "duplicates": self.tr("Duplicates"), "invalid": self.tr("Invalid"),
                "written": self.tr("Written")}.get(key, key))

    def _source_kind_changed(self, *_args: Any) -> None:
        from_layer = self.ui.layerRadio.isChecked()
        self.ui.layerCombo.setEnabled(from_layer)
        self.ui.selectedOnlyCheck.setEnabled(from_layer)
        self.ui.fileWidget.setEnabled(not from_layer)
        self.ui.fileLayerCombo.setEnabled(not from_layer and self.ui.fileLayerCombo.count() > 1)
        self.ui.crsCheck.setEnabled(not from_layer)  # a layer's GeoPackage declares its CRS
        self.ui.crsWidget.setEnabled(not from_layer and self.ui.crsCheck.isChecked())

    def _file_changed(self, path: str) -> None:
        combo = self.ui.fileLayerCombo
        combo.blockSignals(True)
        combo.clear()
        if path and Path(path).is_file() and Path(path).suffix.lower() in (".gpkg", ".xlsx"):
            for name in file_layers(Path(path)):
                combo.addItem(name)
        combo.blockSignals(False)
        self.ui.fileLayerCombo.setEnabled(self.ui.fileRadio.isChecked() and combo.count() > 1)
        self._inputs_changed()

    def _inputs_changed(self, *_args: Any) -> None:
        """Anything but "skip invalid" changed: the last dry run no longer applies."""
        self.checked = None
        self.checked_request = None
        self._update_buttons()

    def _update_buttons(self) -> None:
        report = self.checked
        ready = report is not None and report.ok and (
            report.count("invalid") == 0 or self.ui.skipInvalidCheck.isChecked())
        self.ui.importButton.setEnabled(bool(ready))
        shown = self.last_report
        self.ui.selectRejectedButton.setEnabled(
            bool(shown and shown.rejected and self.exported is not None
                 and self.ui.layerRadio.isChecked()))
        self.ui.saveRejectedButton.setEnabled(bool(shown and shown.id and shown.rejected))

    def collection(self) -> str:
        return str(self.ui.collectionCombo.currentData())

    def source_layer(self) -> Optional[QgsVectorLayer]:
        layer = self.ui.layerCombo.currentLayer()
        return layer if isinstance(layer, QgsVectorLayer) else None

    def build_request(self, dry_run: bool) -> ImportRequest:
        """The request for the current inputs (a layer is written to a GeoPackage once)."""
        mapping = self.ui.mappingWidget.filePath().strip()
        skip = self.ui.skipInvalidCheck.isChecked()
        if self.ui.layerRadio.isChecked():
            layer = self.source_layer()
            if layer is None:
                raise ImportSourceError(self.tr("Choose a vector layer"))
            selected = self.ui.selectedOnlyCheck.isChecked()
            key = (layer.id(), selected)
            if self.exported is None or self.exported_key != key or not self.exported.path.exists():
                folder = Path(tempfile.mkdtemp(dir=self.tmpdir))
                self.exported = export_layer(layer, folder, selected)
                self.exported_key = key
            return ImportRequest(self.exported.path, self.collection(),
                                 layer=self.exported.layer_name, crs=None,
                                 mapping=Path(mapping) if mapping else None,
                                 dry_run=dry_run, skip_invalid=skip)
        path = self.ui.fileWidget.filePath().strip()
        if not path:
            raise ImportSourceError(self.tr("Choose a file"))
        file_format(Path(path))
        crs = self.ui.crsWidget.crs().authid() if self.ui.crsCheck.isChecked() else None
        layer_name = self.ui.fileLayerCombo.currentText() or None
        if Path(path).suffix.lower() not in (".gpkg", ".xlsx"):
            layer_name = None
        return ImportRequest(Path(path), self.collection(), layer=layer_name, crs=crs or None,
                             mapping=Path(mapping) if mapping else None,
                             dry_run=dry_run, skip_invalid=skip)

    # ---------------------------------------------------------------- actions
    def _guarded(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except (ImportSourceError, ApiError) as exc:
            describe = getattr(exc, "message", None)
            self._status(describe() if callable(describe) else str(exc), error=True)
        except Exception as exc:  # noqa: BLE001 (a dialog never ends in a traceback)
            log.critical(traceback.format_exc())
            self._status(self.tr("Unexpected error: {0}").format(exc), error=True)
        return None

    def _progress(self, done: int, total: Optional[int]) -> None:
        bar = self.ui.progressBar
        if total:
            bar.setRange(0, int(total))
            bar.setValue(min(int(done), int(total)))
        else:
            bar.setRange(0, 0)  # busy
        QCoreApplication.processEvents()

    def _upload(self, sent: int, total: int) -> None:
        if total <= 0:  # Qt's last signal, (0, 0), once everything is sent
            return
        self.ui.progressBar.setRange(0, int(total))
        self.ui.progressBar.setValue(int(sent))

    def _send(self, request: ImportRequest) -> Optional[ImportReport]:
        client = self.client()
        if client is None:
            return None
        self.ui.dryRunButton.setEnabled(False)
        self.ui.importButton.setEnabled(False)
        self.setCursor(Qt.WaitCursor)
        self.ui.progressBar.setRange(0, 0)
        self._status(self.tr("Checking the file on the server…") if request.dry_run
                     else self.tr("Importing…"))
        try:
            return send_import(client, request, progress=self._progress,
                               respond_async=not request.dry_run, upload=self._upload)
        finally:
            self.unsetCursor()
            self.ui.progressBar.setRange(0, 1)
            self.ui.progressBar.setValue(1)
            self.ui.dryRunButton.setEnabled(True)
            self._update_buttons()  # also after a failure: the check still holds

    def dry_run(self) -> Optional[ImportReport]:
        """Send the current inputs with ``dry_run=true`` and show the report."""
        request = self.build_request(dry_run=True)
        report = self._send(request)
        if report is None:
            self._update_buttons()
            return None
        self.checked = report if report.ok else None
        self.checked_request = request if report.ok else None
        self._show(report)
        return report

    def run_import(self, confirm: bool = True) -> Optional[ImportReport]:
        """Send the file checked by the last dry run for real; asks first when ``confirm``."""
        if self.checked is None or self.checked_request is None:
            self._status(self.tr("Run the check (dry run) first"), error=True)
            return None
        skip = self.ui.skipInvalidCheck.isChecked()
        counts = self.checked
        if confirm:
            question = self.tr(
                "Write into {collection}: {created} new, {updated} updated features "
                "({invalid} invalid rows{skipped})?").format(
                    collection=self.collection(), created=counts.count("created"),
                    updated=counts.count("updated"), invalid=counts.count("invalid"),
                    skipped=self.tr(", skipped") if skip and counts.count("invalid") else "")
            answer = QMessageBox.question(self, self.windowTitle(), question,
                                          QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
            if answer != QMessageBox.Yes:
                return None
        request = dataclasses.replace(self.checked_request, dry_run=False, skip_invalid=skip)
        report = self._send(request)
        if report is None:
            self._update_buttons()
            return None
        self.checked = None  # a second real run needs a new check
        self.checked_request = None
        self._show(report)
        if report.ok:
            connection = self.connection_getter()
            try:
                refresh_layers(report.collection or request.collection, connection)
            except Exception:  # noqa: BLE001 (the import is done; reloading is a courtesy)
                log.warning(traceback.format_exc())
            self.iface.messageBar().pushMessage(
                "Rigenera", self._summary(report), Qgis.Success, 8)
        return report

    # ---------------------------------------------------------------- report
    def _status(self, text: str, error: bool = False, ok: bool = False) -> None:
        self.last_error = text if error else ""
        label = self.ui.statusLabel
        label.setText(text)
        color = ERROR_COLOR if error else OK_COLOR if ok else None
        label.setStyleSheet(f"color: {color.name()};" if color is not None else "")

    def _summary(self, report: ImportReport) -> str:
        if report.status == "dry_run":
            text = self.tr("Check done, nothing written: {created} would be created, {updated} "
                           "updated, {unchanged} unchanged, {invalid} invalid of {read} rows.")
        elif report.status == "succeeded":
            text = self.tr("Import done: {created} created, {updated} updated, {unchanged} "
                           "unchanged, {invalid} invalid rows skipped of {read}.")
        else:
            text = self.tr("Import refused, nothing written: {message}")
        values = {k: report.count(k) for k in COUNT_KEYS}
        return str(text.format(message=report.message or report.status, **values))

    def _show(self, report: Optional[ImportReport]) -> None:
        self.last_report = report
        ui = self.ui
        for column, key in enumerate(COUNT_KEYS):
            value = "" if report is None or key not in report.counts else str(report.count(key))
            item = QTableWidgetItem(value)
            item.setTextAlignment(Qt.AlignCenter)
            if key == "invalid" and report is not None and report.count(key):
                item.setForeground(QBrush(ERROR_COLOR))
            ui.countsTable.setItem(0, column, item)
        rows = report.rejected if report is not None else []
        ui.rejectedTable.setRowCount(len(rows))
        for i, r in enumerate(rows):
            cells = ["" if r.row is None else str(r.row), r.field, r.reason, r.value or ""]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if column == 0 and r.row is not None:
                    item.setData(Qt.UserRole, r.row)
                ui.rejectedTable.setItem(i, column, item)
        ui.rejectedTable.resizeColumnsToContents()
        total = 0
        if report is not None:
            everything = report.raw.get("rejected_total")
            total = everything if isinstance(everything, int) else report.count("invalid")
        ui.rejectedLabel.setText(
            self.tr("Rejected rows ({shown} of {total})").format(shown=len(rows),
                                                                  total=max(total, len(rows)))
            if rows else self.tr("Rejected rows"))
        ui.notesList.clear()
        for note in report.notes if report is not None else []:
            text = note.message + (f" ({note.count})" if note.count is not None else "")
            entry = QListWidgetItem(text)
            if note.items:
                entry.setToolTip(", ".join(str(i) for i in note.items[:50]))
            ui.notesList.addItem(entry)
        if report is not None:
            self._status(self._summary(report), error=not report.ok, ok=report.ok)
        self._update_buttons()

    def counts_shown(self) -> Dict[str, int]:
        """The counts table as shown (for tests and scripts)."""
        out = {}
        for column, key in enumerate(COUNT_KEYS):
            item = self.ui.countsTable.item(0, column)
            if item is not None and item.text():
                out[key] = int(item.text())
        return out

    def rejected_shown(self) -> List[Tuple[str, str, str]]:
        """(row, field, reason) of each line of the rejected-rows table."""
        table = self.ui.rejectedTable

        def text(row: int, column: int) -> str:
            item = table.item(row, column)
            return str(item.text()) if item is not None else ""

        return [(text(i, 0), text(i, 1), text(i, 2)) for i in range(table.rowCount())]

    def select_rejected(self) -> List[int]:
        """Select, in the source layer, the features of the rejected rows; their ids."""
        report, exported, layer = self.last_report, self.exported, self.source_layer()
        if report is None or exported is None or layer is None:
            return []
        fids = sorted({fid for r in report.rejected
                       if (fid := exported.feature_of_row(r.row)) is not None})
        layer.selectByIds(fids)
        if fids and self.iface.mapCanvas() is not None:
            self.iface.mapCanvas().zoomToSelected(layer)
        return fids

    def save_rejected(self, path: Optional[str] = None) -> Optional[Path]:
        """Save the server's CSV of every rejected row."""
        report = self.last_report
        client = self.client()
        if report is None or client is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, self.tr("Save the rejected rows"),
                                                  f"import-{report.id}-rejected.csv", "CSV (*.csv)")
            if not path:
                return None
        target = Path(path)
        target.write_bytes(rejected_csv(client, report))
        self._status(self.tr("Rejected rows saved in {0}").format(target), ok=True)
        return target

    # ---------------------------------------------------------------- end
    def done(self, result: int) -> None:
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        super().done(result)
