"""Editing in QGIS: check out a working copy, synchronise it, resolve conflicts, history.

The GUI side of ``core.workingcopy`` / ``core.sync`` / ``core.conflicts``:

* :meth:`EditingController.checkout_active_layer` downloads a collection (all
  of it, the map extent or the user's comuni) into a GeoPackage under the QGIS
  profile, adds its layers to the group "Copie di lavoro" styled like the OAPIF
  layers, and starts editing them with QGIS's own tools.
* :meth:`EditingController.synchronise` saves the layers' edits, sends them as
  one changeset with a progress dialog, and handles every outcome: conflicts
  (a :class:`ConflictDialog` per feature, then a new attempt), validation
  refusals (features selected, zoomed, field and message shown), offline and
  forbidden (edits stay local). Nothing local is discarded unless the user
  chooses "theirs" for it.
* :meth:`EditingController.restore_working_copies` reopens the working copies
  that survive in the profile (plugin start, project load).
* :meth:`EditingController.show_history` shows a feature's history and lets
  the roles that may write restore a version.
* :class:`VolunteerGeometryGuard` (one per plugin, :func:`volunteer_guard`, shared
  with the review dock): when the connected account is a volunteer, any geometry
  edit on a Rigenera layer in edit mode (moved or reshaped geometry, added or
  deleted feature) is undone through the layer's undo stack as soon as the edit
  command is complete, with a message. Attribute edits are left to the server,
  which refuses every changeset of a volunteer (403).
"""

from __future__ import annotations

import contextlib
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Set, Tuple, Union

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsLayerTreeGroup,
    QgsLayerTreeLayer,
    QgsMapLayer,
    QgsProject,
    QgsRectangle,
    QgsSettings,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication, QDateTime, QObject, Qt, QTimer
from qgis.PyQt.QtWidgets import QInputDialog, QProgressDialog
from qgis.PyQt.QtXml import QDomDocument

from ..core import layers as core_layers
from ..core.workingcopy import PROP_PART, PROP_WORKING_COPY
from ..toolbelt.i18n import ui_language
from .conflict_dialog import ConflictDialog

PROP_WC_GROUP = "rigenera/working_copies_group"
STYLE_CATEGORIES = (QgsMapLayer.Symbology | QgsMapLayer.Labeling | QgsMapLayer.Rendering
                    | QgsMapLayer.Symbology3D | QgsMapLayer.Diagrams)
SCOPES = ("all", "extent", "comuni")
ROLE_KEY = "rigenera_qgis/last_role"  # the last role the server told (offline guard)
MAX_ROUNDS = 20  # conflict rounds before giving up (each round needs a new refusal)

Resolver = Callable[[Any], Optional[Union[str, Dict[str, str]]]]


# ---------------------------------------------------------------------- helpers
def working_copies_dir() -> Path:
    """Where working copies live: inside the QGIS profile, so they survive restarts."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "rigenera" / "working_copies"


def working_copy_path_of(layer: Optional[QgsMapLayer]) -> Optional[Path]:
    """The GeoPackage of a working-copy layer (by property, else by its source), or None."""
    if not isinstance(layer, QgsVectorLayer):
        return None
    value = layer.customProperty(PROP_WORKING_COPY)
    if value:
        return Path(str(value))
    source = layer.source().split("|")[0]
    try:
        path = Path(source).resolve()
        if path.suffix.lower() == ".gpkg" and working_copies_dir().resolve() in path.parents:
            return path
    except (OSError, ValueError):
        return None
    return None


def collection_of(layer: Optional[QgsMapLayer]) -> Optional[str]:
    """The Rigenera collection of a layer: working copy or OAPIF layer of the server."""
    return core_layers.collection_of(layer) if layer is not None else None


def is_rigenera_layer(layer: Optional[QgsMapLayer]) -> bool:
    return isinstance(layer, QgsVectorLayer) and collection_of(layer) is not None


def server_id_of(layer: QgsVectorLayer, feature: Any) -> Optional[str]:
    """The server id of a feature: ``rg_id`` in a working copy, ``id`` in an OAPIF layer."""
    names = layer.fields().names()
    for name in (("rg_id",) if working_copy_path_of(layer) else ("id", "istat_code")):
        if name in names:
            value = feature[name]
            if value is None or (hasattr(value, "isNull") and value.isNull()) or value == "":
                return None
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            return str(value)
    return None


def bbox_wgs84(extent: QgsRectangle, crs: QgsCoordinateReferenceSystem
               ) -> Tuple[float, float, float, float]:
    """An extent in lon/lat (the OGC API's bbox), from any CRS."""
    wgs84 = QgsCoordinateReferenceSystem("EPSG:4326")
    if crs.isValid() and crs != wgs84:
        extent = QgsCoordinateTransform(crs, wgs84, QgsProject.instance()).transformBoundingBox(
            extent)
    return (extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum())


class EditingController(QObject):
    """Checkout, synchronisation, conflicts and history for the plugin's actions."""

    def __init__(self, iface: Any, connection_getter: Callable[[], Any],
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.iface = iface
        self.connection_getter = connection_getter
        self.copies: Dict[str, Any] = {}  # str(path) -> core.workingcopy.WorkingCopy
        self.last_results: List[Any] = []
        self.history_dialog: Optional[Any] = None
        self.guard = volunteer_guard(iface, connection_getter)
        QgsProject.instance().readProject.connect(self._project_read)

    def unload(self) -> None:
        with contextlib.suppress(TypeError):
            QgsProject.instance().readProject.disconnect(self._project_read)
        if self.history_dialog is not None:
            self.history_dialog.close()
            self.history_dialog = None
        release_volunteer_guard()

    # ------------------------------------------------------------------ plumbing
    def message(self, text: str, level: Any = Qgis.Info, duration: int = 8,
                title: Optional[str] = None) -> None:
        self.iface.messageBar().pushMessage(title or "Rigenera", text, level, duration)

    def client(self, timeout_ms: int = 60000) -> Optional[Any]:
        connection = self.connection_getter()
        if connection is None:
            self.message(self.tr("Connect to a Rigenera server first"), Qgis.Warning)
            return None
        return connection.client(timeout_ms)

    def role(self, client: Any) -> str:
        from ..core.client import ApiError

        try:
            return str(client.me().get("role") or "")
        except ApiError:
            return ""

    def _progress(self, title: str) -> Tuple[QProgressDialog, Callable[[int, str], None]]:
        dialog = QProgressDialog(title, "", 0, 100, self.iface.mainWindow())
        dialog.setCancelButton(None)
        dialog.setWindowTitle("Rigenera")
        dialog.setWindowModality(Qt.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setValue(0)
        steps = {"download": self.tr("Downloading features…"),
                 "write": self.tr("Writing the working copy…"),
                 "diff": self.tr("Looking for local changes…"),
                 "push": self.tr("Sending the changes…"),
                 "applied": self.tr("Changes accepted by the server"),
                 "refresh": self.tr("Updating local versions…"),
                 "pulled": self.tr("Receiving changes made by others…"),
                 "ok": self.tr("Done")}

        def report(percent: int, step: str) -> None:
            dialog.setValue(max(0, min(100, int(percent))))
            dialog.setLabelText(f"{title}\n{steps.get(step, step)}")
            QCoreApplication.processEvents()

        return dialog, report

    # ------------------------------------------------------------------ working copies
    def working_copy(self, path: Union[str, Path]) -> Any:
        """The (one) WorkingCopy object of a GeoPackage; its layers are the project's."""
        from ..core.workingcopy import WorkingCopy

        key = str(Path(path))
        wc = self.copies.get(key)
        if wc is None:
            wc = WorkingCopy.open(Path(path))
            self.copies[key] = wc
        return wc

    def working_copy_layers(self) -> List[QgsVectorLayer]:
        return [layer for layer in QgsProject.instance().mapLayers().values()
                if working_copy_path_of(layer) is not None]

    def _group(self) -> QgsLayerTreeGroup:
        root = QgsProject.instance().layerTreeRoot()
        for group in root.findGroups(True):
            if group.customProperty(PROP_WC_GROUP):
                return group
        group = root.insertGroup(0, self.tr("Working copies"))
        group.setCustomProperty(PROP_WC_GROUP, True)
        return group

    def _style(self, layer: QgsVectorLayer, collection: str) -> None:
        """Symbology like the OAPIF layer of the same collection and geometry type."""
        for other in QgsProject.instance().mapLayers().values():
            if (isinstance(other, QgsVectorLayer) and other.providerType() == "OAPIF"
                    and collection_of(other) == collection
                    and other.geometryType() == layer.geometryType()):
                doc = QDomDocument()
                other.exportNamedStyle(doc, categories=STYLE_CATEGORIES)
                layer.importNamedStyle(doc, STYLE_CATEGORIES)
                layer.triggerRepaint()
                return
        part = str(layer.customProperty(PROP_PART) or "")
        key = f"{collection}_{part}" if f"{collection}_{part}" in core_layers.BY_KEY else collection
        path = core_layers.style_path(key, ui_language())
        if path is not None:
            layer.loadNamedStyle(str(path), categories=STYLE_CATEGORIES)
            layer.triggerRepaint()

    def _add_layers(self, wc: Any, start_editing: bool = True) -> List[QgsVectorLayer]:
        """Put the working copy's layers in the project (reusing ones already there)."""
        project = QgsProject.instance()
        present: Dict[Tuple[str, str], QgsVectorLayer] = {}
        for layer in self.working_copy_layers():
            path = working_copy_path_of(layer)
            if path is not None and Path(path) == Path(wc.path):
                present[(str(path), str(layer.customProperty(PROP_PART) or ""))] = layer
        out = []
        group = None
        for part in wc.parts:
            existing = present.get((str(Path(wc.path)), part.name))
            if existing is not None:
                # A layer restored with the project: let the working copy use it.
                wc.adopt_layer(part.name, existing)
                layer = existing
            else:
                layer = wc.layer(part.name)
                self._style(layer, wc.collection)
                if group is None:
                    group = self._group()
                project.addMapLayer(layer, False)
                group.insertChildNode(0, QgsLayerTreeLayer(layer))
            if start_editing and not layer.isEditable() and not layer.readOnly():
                layer.startEditing()
            out.append(layer)
        return out

    def restore_working_copies(self) -> List[QgsVectorLayer]:
        """Reopen every working copy of the profile (plugin start, project load)."""
        from ..core.workingcopy import WorkingCopyError

        added: List[QgsVectorLayer] = []
        folder = working_copies_dir()
        if not folder.is_dir():
            return added
        for path in sorted(folder.glob("*.gpkg")):
            try:
                added += self._add_layers(self.working_copy(path))
            except WorkingCopyError as exc:
                self.message(self.tr("Working copy {0} not reopened: {1}").format(path.name, exc),
                             Qgis.Warning)
        return added

    def _project_read(self, *args: Any) -> None:
        self.copies.clear()  # the project's layers are new objects
        self.restore_working_copies()

    def checkout_active_layer(self, collection: Optional[str] = None,
                              scope: Optional[str] = None,
                              interactive: bool = True) -> Optional[Any]:
        """Check out the active Rigenera layer's collection (or ``collection``).

        ``scope``: "all", "extent" (the current map extent) or "comuni" (the
        user's comuni); asked when None and interactive. Returns the WorkingCopy.
        """
        from ..core.client import ApiError
        from ..core.workingcopy import WorkingCopy, WorkingCopyError

        collection = collection or collection_of(self.iface.activeLayer())
        if not collection:
            self.message(self.tr("Select a Rigenera layer to edit"), Qgis.Warning)
            return None
        client = self.client()
        if client is None:
            return None
        if scope is None:
            if not interactive:
                scope = "all"
            else:
                labels = [self.tr("The whole collection"), self.tr("The current map extent"),
                          self.tr("My comuni")]
                label, ok = QInputDialog.getItem(
                    self.iface.mainWindow(), self.tr("Edit {0}").format(collection),
                    self.tr("What to check out for editing:"), labels, 1, False)
                if not ok:
                    return None
                scope = SCOPES[labels.index(label)]
        bbox = None
        istat_codes = None
        if scope == "extent":
            canvas = self.iface.mapCanvas()
            bbox = bbox_wgs84(canvas.extent(), canvas.mapSettings().destinationCrs())
        elif scope == "comuni":
            try:
                istat_codes = list(client.me().get("comuni") or [])
            except ApiError as exc:
                self.message(exc.message(), Qgis.Critical)
                return None
            if not istat_codes:
                self.message(self.tr("Your account has no comuni of its own: checking out the "
                                     "whole collection"), Qgis.Info)
                istat_codes = None
        stamp = QDateTime.currentDateTime().toString("yyyyMMdd-HHmmss")
        folder = working_copies_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{collection}-{stamp}.gpkg"
        n = 1
        while path.exists():
            n += 1
            path = folder / f"{collection}-{stamp}-{n}.gpkg"
        dialog, report = self._progress(self.tr("Checking out {0}").format(collection))
        try:
            wc = WorkingCopy.checkout(client, collection, path, bbox=bbox,
                                      istat_codes=istat_codes, progress=report,
                                      language=ui_language())
        except (ApiError, WorkingCopyError) as exc:
            text = exc.message() if isinstance(exc, ApiError) else str(exc)
            self.message(self.tr("Checkout failed: {0}").format(text), Qgis.Critical, 0)
            for leftover in (path, Path(str(path) + "-wal"), Path(str(path) + "-shm")):
                if leftover.exists():
                    leftover.unlink()
            return None
        finally:
            dialog.close()
        self.copies[str(path)] = wc
        self.guard.refresh_role()  # before the layers enter edit mode
        layers = self._add_layers(wc)
        if layers:
            self.iface.setActiveLayer(layers[-1])
        count = sum(layer.featureCount() for layer in layers)
        self.message(self.tr("Working copy of {0} ready: {1} features, editable offline").format(
            collection, count), Qgis.Success)
        return wc

    # ------------------------------------------------------------------ synchronise
    def synchronise(self, layer: Optional[QgsVectorLayer] = None, comment: Optional[str] = None,
                    resolver: Optional[Resolver] = None, interactive: bool = True
                    ) -> List[Any]:
        """Synchronise the working copy of ``layer`` (default: every working copy open).

        ``resolver(conflict)`` decides a conflict ("mine", "theirs", a per-field
        dict, or None to stop and keep everything local); by default a
        ConflictDialog. Returns the final SyncResult of each working copy.
        """
        client = self.client()
        if client is None:
            return []
        paths: List[Path] = []
        candidates = [layer] if layer is not None else self.working_copy_layers()
        for candidate in candidates:
            path = working_copy_path_of(candidate)
            if path is not None and path not in paths:
                paths.append(path)
        if not paths:
            self.message(self.tr("No working copy to synchronise: use Edit on a Rigenera layer "
                                 "first"), Qgis.Warning)
            return []
        if comment is None and interactive:
            text, ok = QInputDialog.getText(self.iface.mainWindow(), self.tr("Synchronise"),
                                            self.tr("Comment for this change (optional):"))
            if not ok:
                return []
            comment = text.strip() or None
        results = []
        for path in paths:
            results.append(self._synchronise_one(path, client, comment,
                                                 resolver or self.ask_conflict))
        self.last_results = results
        return results

    def _save_edits(self, wc: Any) -> bool:
        """Write QGIS's edit buffer to the GeoPackage; False (and a message) if refused."""
        for layer in wc.layers():
            if layer.isEditable() and not layer.commitChanges():
                self.message(self.tr("Edits of {0} could not be saved: {1}").format(
                    layer.name(), "; ".join(layer.commitErrors())), Qgis.Critical, 0)
                return False
        return True

    def _after_sync(self, wc: Any) -> None:
        for layer in wc.layers():
            layer.reload()
            layer.triggerRepaint()
            if not layer.isEditable() and not layer.readOnly():
                layer.startEditing()

    def _synchronise_one(self, path: Path, client: Any, comment: Optional[str],
                         resolver: Resolver) -> Any:
        from ..core.conflicts import resolve
        from ..core.sync import synchronise

        wc = self.working_copy(path)
        self._add_layers(wc, start_editing=False)  # make sure wc uses the project's layers
        if not self._save_edits(wc):
            from ..core.sync import SyncResult

            return SyncResult("error", message="edits not saved")
        dialog, report = self._progress(self.tr("Synchronising {0}").format(wc.collection))
        try:
            result = synchronise(wc, client, comment, report)
            rounds = 0
            while result.status == "conflicts" and rounds < MAX_ROUNDS:
                rounds += 1
                dialog.hide()
                for conflict in result.conflicts:
                    choice = resolver(conflict)
                    if choice is None:
                        self.message(self.tr(
                            "Synchronisation stopped: your edits are kept in the working copy; "
                            "synchronise again to resolve the conflicts"), Qgis.Warning, 0)
                        return result
                    resolve(wc, conflict, choice)
                dialog.show()
                result = synchronise(wc, client, comment, report)
        finally:
            dialog.close()
            self._after_sync(wc)
        self._report(wc, result)
        return result

    def ask_conflict(self, conflict: Any) -> Optional[Union[str, Dict[str, str]]]:
        """The default resolver: a ConflictDialog on the map canvas."""
        dialog = ConflictDialog(conflict, self.iface.mapCanvas(), self.iface.mainWindow())
        dialog.exec_()
        return dialog.choice()

    def _report(self, wc: Any, result: Any) -> None:
        status = result.status
        if status == "ok":
            counts: Dict[str, int] = {}
            for applied in result.applied:
                counts[applied.get("action", "?")] = counts.get(applied.get("action", "?"), 0) + 1
            self.message(self.tr(
                "Synchronised: {0} created, {1} changed, {2} deleted; {3} received from others"
            ).format(counts.get("create", 0), counts.get("patch", 0) + counts.get("replace", 0),
                     counts.get("delete", 0), result.pulled), Qgis.Success)
        elif status == "nothing":
            self.message(self.tr("No local changes; {0} received from others").format(
                result.pulled), Qgis.Info)
        elif status == "invalid":
            self.show_problems(wc, result.problems)
        elif status == "offline":
            self.message(self.tr("The server cannot be reached: your edits are kept in the "
                                 "working copy and will be sent at the next synchronisation "
                                 "({0})").format(result.message), Qgis.Warning, 0)
        elif status == "forbidden":
            self.message(self.tr("The server refused: your role may not make these changes. "
                                 "Your edits are kept in the working copy ({0})").format(
                result.message), Qgis.Critical, 0)
        elif status == "conflicts":
            self.message(self.tr("Conflicts still open: your edits are kept in the working copy"),
                         Qgis.Warning, 0)
        elif status == "retry":
            self.message(self.tr("The server could not take the changes now, nothing was "
                                 "written: your edits are kept in the working copy; "
                                 "synchronise again in a moment ({0})").format(result.message),
                         Qgis.Warning, 0)
        else:
            self.message(self.tr("Synchronisation failed: {0}").format(result.message),
                         Qgis.Critical, 0)

    def show_problems(self, wc: Any, problems: List[Dict[str, Any]]) -> None:
        """Select and zoom to the refused features; say which field and why."""
        by_layer: Dict[str, List[int]] = {}
        for p in problems:
            if p.get("part") and p.get("fid") is not None:
                by_layer.setdefault(str(p["part"]), []).append(int(p["fid"]))
        canvas = self.iface.mapCanvas()
        extent = QgsRectangle()
        for part, fids in by_layer.items():
            layer = wc.layer(part)
            layer.selectByIds(fids)
            box = layer.boundingBoxOfSelected()
            if box.isNull() or (box.isEmpty() and layer.geometryType() != QgsWkbTypes.PointGeometry):
                continue
            transform = QgsCoordinateTransform(layer.crs(), canvas.mapSettings().destinationCrs(),
                                               QgsProject.instance())
            box = transform.transformBoundingBox(box)
            if extent.isNull():
                extent = box
            else:
                extent.combineExtentWith(box)
            self.iface.setActiveLayer(layer)
        if not extent.isNull():
            extent.scale(1.5)
            if extent.width() == 0 or extent.height() == 0:
                extent.grow(0.001 if canvas.mapSettings().destinationCrs().isGeographic() else 50)
            canvas.setExtent(extent)
            canvas.refresh()
        details = "; ".join(
            f"{p.get('field')}: {p.get('message')}" if p.get("field") and
            not str(p.get("message", "")).startswith(str(p.get("field")))
            else str(p.get("message")) for p in problems)
        self.message(self.tr("The server refused the changes (nothing was written; your edits "
                             "are kept, the features are selected): {0}").format(details),
                     Qgis.Critical, 0)

    # ------------------------------------------------------------------ history
    def show_history(self, layer: Optional[QgsVectorLayer] = None,
                     feature_id: Optional[str] = None, modal: bool = False,
                     confirm: bool = True) -> Optional[Any]:
        """The HistoryDialog of the selected feature of a Rigenera layer (shown, returned)."""
        from .history_dialog import HistoryDialog

        layer = layer or self.iface.activeLayer()
        collection = collection_of(layer)
        if not isinstance(layer, QgsVectorLayer) or not collection:
            self.message(self.tr("Select a feature of a Rigenera layer"), Qgis.Warning)
            return None
        title = ""
        if feature_id is None:
            selected = layer.selectedFeatures()
            if len(selected) != 1:
                self.message(self.tr("Select exactly one feature to see its history"),
                             Qgis.Warning)
                return None
            feature_id = server_id_of(layer, selected[0])
            names = layer.fields().names()
            title = str(selected[0]["name"]) if "name" in names else \
                str(selected[0]["title"]) if "title" in names else ""
            if feature_id is None:
                self.message(self.tr("This feature is new: it has no history on the server yet"),
                             Qgis.Info)
                return None
        client = self.client()
        if client is None:
            return None

        def reverted(answer: Dict[str, Any]) -> None:
            for other in QgsProject.instance().mapLayers().values():
                if isinstance(other, QgsVectorLayer) and other.providerType() == "OAPIF" \
                        and collection_of(other) == collection:
                    other.dataProvider().reloadData()
                    other.triggerRepaint()
            self.message(self.tr("Version restored on the server (new version {0}); "
                                 "synchronise your working copies to receive it").format(
                answer.get("version")), Qgis.Success)

        if self.history_dialog is not None:
            self.history_dialog.close()
        dialog = HistoryDialog(client, collection, str(feature_id), self.role(client),
                               self.iface.mainWindow(), title=title, on_reverted=reverted,
                               confirm=confirm)
        self.history_dialog = dialog
        if modal:
            dialog.exec_()
        else:
            dialog.show()
        return dialog


# ---------------------------------------------------------------------- volunteers' guard
class VolunteerGeometryGuard(QObject):
    """Undo geometry edits of volunteers on Rigenera layers (see the module docstring)."""

    def __init__(self, iface: Any, connection_getter: Callable[[], Any],
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.iface = iface
        self.connection_getter = connection_getter
        self._role: Optional[str] = None
        self._watched: Set[str] = set()
        self._pending: Dict[str, int] = {}
        self._reverting = False
        self._enabled = True
        self.refused = 0  # geometry edits undone so far (for the curious, and tests)
        QgsProject.instance().layersAdded.connect(self.watch_layers)
        self.watch_layers(list(QgsProject.instance().mapLayers().values()))

    def unload(self) -> None:
        self._enabled = False
        self._pending.clear()
        with contextlib.suppress(TypeError):
            QgsProject.instance().layersAdded.disconnect(self.watch_layers)

    # ---------------------------------------------------------------- role
    @property
    def role(self) -> str:
        if self._role is None:
            self._role = str(QgsSettings().value(ROLE_KEY, "") or "")
        return self._role

    def set_role(self, role: str) -> None:
        self._role = role or ""
        QgsSettings().setValue(ROLE_KEY, self._role)

    def refresh_role(self) -> str:
        """Ask the server who we are (short timeout); keep the last known role offline."""
        from ..core.client import ApiError

        connection = self.connection_getter()
        if connection is None:
            return self.role
        with contextlib.suppress(ApiError):  # offline: the last role the server told
            self.set_role(str(connection.client(8000).me().get("role") or ""))
        return self.role

    def active(self) -> bool:
        return self._enabled and self.role == "volunteer"

    # ---------------------------------------------------------------- layers
    def watch_layers(self, layers: List[Any]) -> None:
        for layer in layers:
            if not isinstance(layer, QgsVectorLayer) or layer.id() in self._watched:
                continue
            if not is_rigenera_layer(layer):
                continue
            lid = layer.id()
            self._watched.add(lid)
            layer.geometryChanged.connect(lambda fid, geom, lid=lid: self._edited(lid))
            layer.featureAdded.connect(lambda fid, lid=lid: self._edited(lid))
            layer.featuresDeleted.connect(lambda fids, lid=lid: self._edited(lid))
            layer.editingStarted.connect(partial(self._editing_started, lid))
            layer.willBeDeleted.connect(partial(self._watched.discard, lid))

    def _layer(self, lid: str) -> Optional[QgsVectorLayer]:
        layer = QgsProject.instance().mapLayer(lid)
        return layer if isinstance(layer, QgsVectorLayer) else None

    def _editing_started(self, lid: str) -> None:
        if self._role is None:
            self.refresh_role()
        if self.active():
            layer = self._layer(lid)
            self.iface.messageBar().pushMessage(
                "Rigenera", self.tr("As a volunteer you can review features but not change "
                                    "geometries: geometry edits on {0} will be undone").format(
                    layer.name() if layer else ""), Qgis.Info, 8)

    def _edited(self, lid: str) -> None:
        if self._reverting or not self.active():
            return
        layer = self._layer(lid)
        if layer is None or not layer.isEditable() or layer.undoStack() is None:
            return
        if lid not in self._pending:
            # Undo everything pushed from here on, once the edit command is complete.
            self._pending[lid] = layer.undoStack().index()
            QTimer.singleShot(0, partial(self._revert, lid))

    def _revert(self, lid: str) -> None:
        layer = self._layer(lid)
        if layer is None or not layer.isEditable():
            self._pending.pop(lid, None)
            return
        if layer.isEditCommandActive():  # a map tool is still composing its command
            QTimer.singleShot(50, partial(self._revert, lid))
            return
        start = self._pending.pop(lid, None)
        if start is None:
            return
        stack = layer.undoStack()
        undone = 0
        self._reverting = True
        try:
            while stack.index() > start and stack.canUndo():
                stack.undo()
                undone += 1
        finally:
            self._reverting = False
        if undone:
            self.refused += undone
            layer.triggerRepaint()
            self.iface.messageBar().pushMessage(
                "Rigenera", self.tr("Volunteers cannot change geometries: the edit on {0} was "
                                    "undone. Use the review dock to accept or reject features."
                                    ).format(layer.name()), Qgis.Warning, 8)


_GUARD: Optional[VolunteerGeometryGuard] = None


def volunteer_guard(iface: Any, connection_getter: Callable[[], Any]) -> VolunteerGeometryGuard:
    """The one guard of the plugin (shared by the editing controller and the review dock)."""
    global _GUARD
    if _GUARD is None or not _GUARD._enabled:
        _GUARD = VolunteerGeometryGuard(iface, connection_getter)
    else:
        _GUARD.connection_getter = connection_getter
    return _GUARD


def release_volunteer_guard() -> None:
    """Stop the guard (plugin unload)."""
    global _GUARD
    if _GUARD is not None:
        _GUARD.unload()
        _GUARD = None

