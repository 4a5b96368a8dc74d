"""The plugin object QGIS drives: menu, toolbar, actions, dock, Processing provider.

Actions (Web ▸ Rigenera menu and the "Rigenera" toolbar): Connect, Load layers,
Edit (check out a working copy), Synchronise, History, Review queue, Import file
into the catalogue, To locate (the approximate projects' dock). The editing,
history, review, import and Processing parts are imported only when first
used, so a problem in one of them never stops the plugin from loading.
Every action reports problems in QGIS's message bar and the "Rigenera" log,
never as a Python traceback.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable, Dict, Optional

from qgis.core import Qgis, QgsApplication, QgsCoordinateTransform, QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QToolBar

from .core.connection import Connection
from .toolbelt import log
from .toolbelt.i18n import install_translator, remove_translator, tr
from .toolbelt.metadata import PLUGIN_DIR, plugin_version

MENU = "&Rigenera"
DOCKS = ("review", "to_locate")  # actions that show or hide a dock (checkable)
TOOLBAR_NAME = "RigeneraToolbar"
ICON = PLUGIN_DIR / "icon.svg"


def _theme_icon(name: str) -> QIcon:
    icon = QgsApplication.getThemeIcon(name)
    return icon if not icon.isNull() else QIcon(str(ICON))


class RigeneraPlugin:
    """Created by :func:`classFactory`; QGIS calls initGui() and, at the end, unload()."""

    def __init__(self, iface: Any) -> None:
        self.iface = iface
        self.translator = install_translator()  # before any tr() and any .ui
        self.actions: Dict[str, QAction] = {}
        self.toolbar: Optional[QToolBar] = None
        self.provider: Optional[Any] = None
        self.review_dock: Optional[Any] = None
        self.to_locate_dock: Optional[Any] = None
        self.import_dialog: Optional[Any] = None
        self.editing: Optional[Any] = None
        self._connection: Optional[Connection] = None
        self.version = plugin_version()

    # ------------------------------------------------------------------ set-up
    def initProcessing(self) -> None:
        """Register the Processing provider (also called alone by qgis_process)."""
        if self.provider is not None:
            return
        try:
            from .processing.provider import RigeneraProcessingProvider

            provider = RigeneraProcessingProvider()
        except Exception:  # noqa: BLE001 (the rest of the plugin must still load)
            log.warning("Processing provider not available:\n" + traceback.format_exc())
            return
        if QgsApplication.processingRegistry().addProvider(provider):
            self.provider = provider

    def initGui(self) -> None:
        self.initProcessing()
        self.toolbar = self.iface.addToolBar("Rigenera")
        self.toolbar.setObjectName(TOOLBAR_NAME)
        self.toolbar.setToolTip(tr("Rigenera: urban regeneration"))
        main_window = self.iface.mainWindow()
        specs = (
            ("connect", tr("Connect…"), QIcon(str(ICON)), self.show_connect_dialog,
             tr("Server address and credentials; test the connection")),
            ("load", tr("Load layers"), _theme_icon("/mActionAddWfsLayer.svg"), self.load_layers,
             tr("Add the group of Rigenera layers to the project")),
            ("checkout", tr("Edit"), _theme_icon("/mActionToggleEditing.svg"),
             self.checkout_active_layer,
             tr("Check out a working copy of the active layer to edit it, also offline")),
            ("sync", tr("Synchronise"), _theme_icon("/mActionRefresh.svg"), self.synchronise,
             tr("Send the local changes to the server and receive the others' changes")),
            ("history", tr("History"), _theme_icon("/mActionHistory.svg"), self.show_history,
             tr("History of the selected feature")),
            ("review", tr("Review queue"), _theme_icon("/mActionIdentify.svg"),
             self.toggle_review_dock, tr("Review the features waiting for validation")),
            ("import", tr("Import file into the catalogue…"),
             _theme_icon("/mActionSharingImport.svg"), self.show_import_dialog,
             tr("Check a layer or a file against a collection (dry run), then import it")),
            ("to_locate", tr("To locate"), _theme_icon("/mActionCapturePoint.svg"),
             self.toggle_to_locate_dock,
             tr("Projects placed at their comune's point, to draw where they really are")),
        )
        for key, text, icon, slot, tip in specs:
            action = QAction(icon, text, main_window)
            action.setObjectName(f"rigenera_{key}")
            action.setToolTip(tip)
            action.setStatusTip(tip)
            if key in DOCKS:
                action.setCheckable(True)
                action.toggled.connect(self._guard(slot, key))
            else:
                action.triggered.connect(self._guard(slot, key))
            self.iface.addPluginToWebMenu(MENU, action)
            self.toolbar.addAction(action)
            self.actions[key] = action
        # Working copies live across sessions: reopen them (and, for volunteers, guard
        # their geometries) once QGIS's interface is up, not when first clicked.
        QTimer.singleShot(0, self._guard(self._restore_working_copies, "restore"))
        log.info(f"Rigenera {self.version} loaded")

    def _restore_working_copies(self) -> None:
        self._editing_controller().restore_working_copies()

    def unload(self) -> None:
        if self.import_dialog is not None:
            self.import_dialog.close()
            self.import_dialog = None
        if self.to_locate_dock is not None:
            self.iface.removeDockWidget(self.to_locate_dock)
            self.to_locate_dock.deleteLater()
            self.to_locate_dock = None
        if self.review_dock is not None:
            if hasattr(self.review_dock, "unload"):
                self.review_dock.unload()  # markers off the canvas, volunteer guard released
            self.iface.removeDockWidget(self.review_dock)
            self.review_dock.deleteLater()
            self.review_dock = None
        if self.editing is not None:
            if hasattr(self.editing, "unload"):
                try:
                    self.editing.unload()
                except Exception:  # noqa: BLE001 (unloading continues)
                    log.warning(traceback.format_exc())
            self.editing = None
        for action in self.actions.values():
            self.iface.removePluginWebMenu(MENU, action)
            if self.toolbar is not None:
                self.toolbar.removeAction(action)
            action.deleteLater()
        self.actions.clear()
        if self.toolbar is not None:
            self.toolbar.hide()
            self.toolbar.setParent(None)
            self.toolbar.deleteLater()
            self.toolbar = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        remove_translator()
        self.translator = None

    # ------------------------------------------------------------------ plumbing
    def message(self, text: str, level: Qgis.MessageLevel = Qgis.Info, duration: int = 8) -> None:
        self.iface.messageBar().pushMessage("Rigenera", text, level, duration)

    def _guard(self, slot: Callable[..., Any], key: str = "") -> Callable[..., None]:
        """A slot that reports exceptions in the message bar instead of a traceback dialog."""
        def run(checked: bool = False) -> None:
            try:
                if key in DOCKS:
                    slot(checked)
                else:
                    slot()
            except Exception as exc:  # noqa: BLE001 (last line of defence for the user)
                log.critical(traceback.format_exc())
                if isinstance(exc, ImportError):
                    text = tr("This function is not available in this installation: {detail}")
                else:
                    text = tr("Unexpected error: {detail}")
                describe = getattr(exc, "message", None)
                detail = describe() if callable(describe) else str(exc)
                self.message(text.format(detail=detail), Qgis.Critical, 0)
                action = self.actions.get(key)
                dock = self.review_dock if key == "review" else self.to_locate_dock
                if action is not None and action.isCheckable() and dock is None:
                    action.blockSignals(True)
                    action.setChecked(False)
                    action.blockSignals(False)
        return run

    def current_connection(self) -> Optional[Connection]:
        """The connection in use; asks for one (Connect dialog) when there is none yet."""
        if self._connection is None:
            self._connection = Connection.load()
        if self._connection is None:
            self._connection = self.show_connect_dialog()
        return self._connection

    # ------------------------------------------------------------------ actions
    def show_connect_dialog(self) -> Optional[Connection]:
        from .gui.connect_dialog import ConnectDialog

        dialog = ConnectDialog(self.iface.mainWindow(), self._connection)
        if dialog.exec_() and dialog.connection is not None:
            self._connection = dialog.connection
            outcome = dialog.last_outcome
            self.message(outcome.message.replace("\n", " ") if outcome else
                         tr("Connection saved."), Qgis.Success, 6)
            return self._connection
        return None

    def load_layers(self) -> None:
        from .core.layers import LayerLoadError, find_group, group_layers
        from .core.layers import load_layers as add_group

        connection = self.current_connection()
        if connection is None:
            return
        first_time = find_group() is None
        try:
            group = add_group(connection)
        except LayerLoadError as exc:
            names = ", ".join(name for name, _ in exc.failures)
            log.warning(str(exc))
            self.message(tr("Some layers could not be loaded ({names}): is the server reachable "
                            "and are the credentials right? Details in the Rigenera log.")
                         .format(names=names), Qgis.Warning, 0)
            return
        if first_time:
            comuni = group_layers(group).get("comuni")
            canvas = self.iface.mapCanvas()
            destination = canvas.mapSettings().destinationCrs() if canvas is not None else None
            if comuni is not None and destination is not None and destination.isValid():
                transform = QgsCoordinateTransform(comuni.crs(), destination,
                                                   QgsProject.instance())
                canvas.setExtent(transform.transformBoundingBox(comuni.extent()))
                canvas.refresh()
        self.message(tr("Rigenera layers loaded."), Qgis.Success, 4)

    def _editing_controller(self) -> Any:
        if self.editing is None:
            from .gui.editing import EditingController

            self.editing = EditingController(self.iface, self.current_connection)
        return self.editing

    def checkout_active_layer(self) -> None:
        self._editing_controller().checkout_active_layer()

    def synchronise(self) -> None:
        self._editing_controller().synchronise()
        if self.to_locate_dock is not None and self.to_locate_dock.isVisible():
            self.to_locate_dock.refresh()  # located projects leave the queue

    def show_history(self) -> None:
        self._editing_controller().show_history()

    def toggle_review_dock(self, checked: bool = True) -> None:
        if self.review_dock is None:
            if not checked:
                return
            from .gui.review_dock import ReviewDock

            self.review_dock = ReviewDock(self.iface, self.current_connection)
            self.iface.addDockWidget(Qt.RightDockWidgetArea, self.review_dock)
            action = self.actions.get("review")
            if action is not None:
                self.review_dock.visibilityChanged.connect(action.setChecked)
        self.review_dock.setVisible(bool(checked))

    def show_import_dialog(self) -> None:
        from .gui.import_dialog import ImportDialog

        if self.current_connection() is None:
            return
        if self.import_dialog is not None:
            self.import_dialog.close()
        layer = self.iface.activeLayer()
        self.import_dialog = ImportDialog(self.iface, self.current_connection,
                                          self.iface.mainWindow(),
                                          layer if isinstance(layer, QgsVectorLayer) else None)
        self.import_dialog.show()

    def toggle_to_locate_dock(self, checked: bool = True) -> None:
        if self.to_locate_dock is None:
            if not checked:
                return
            from .gui.to_locate_dock import ToLocateDock

            self.to_locate_dock = ToLocateDock(self.iface, self.current_connection,
                                               self._editing_controller)
            self.iface.addDockWidget(Qt.RightDockWidgetArea, self.to_locate_dock)
            action = self.actions.get("to_locate")
            if action is not None:
                self.to_locate_dock.visibilityChanged.connect(action.setChecked)
        self.to_locate_dock.setVisible(bool(checked))
