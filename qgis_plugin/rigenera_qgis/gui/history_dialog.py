"""The history of one feature: who, when, what changed; restore an earlier version.

Reads ``GET /api/collections/{cid}/items/{id}/history`` (before/after of every
change) and restores with ``POST .../revert`` (a new write, itself in history,
with the version the user saw as ``base_version`` so a concurrent change is
refused, not overwritten). Restoring is offered to the roles the server lets
write (admin, coordinator, technician); others see it disabled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from qgis.PyQt import uic
from qgis.PyQt.QtCore import QDateTime, Qt
from qgis.PyQt.QtWidgets import QDialog, QMessageBox, QTableWidgetItem, QWidget

FORM_CLASS, _ = uic.loadUiType(str(Path(__file__).resolve().parent / "ui" / "history_dialog.ui"))

WRITER_ROLES = ("admin", "coordinator", "technician")
BOOKKEEPING = {"version", "updated_at", "updated_by", "created_at", "created_by", "geom_3857"}


def changed_fields(before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]]) -> List[str]:
    """Names of the attributes (and "geom") that differ between two snapshots."""
    before, after = before or {}, after or {}
    keys = sorted((set(before) | set(after)) - BOOKKEEPING)
    return [k for k in keys if before.get(k) != after.get(k)]


class HistoryDialog(QDialog, FORM_CLASS):
    """History table of one feature with a "Restore this version" button."""

    COL_VERSION, COL_WHEN, COL_WHO, COL_OPERATION, COL_CHANGES, COL_COMMENT = range(6)

    def __init__(self, client: Any, collection: str, feature_id: str, role: str = "",
                 parent: Optional[QWidget] = None, title: str = "",
                 on_reverted: Optional[Callable[[Dict[str, Any]], None]] = None,
                 confirm: bool = True) -> None:
        super().__init__(parent)
        self.setupUi(self)
        self.client = client
        self.collection = collection
        self.feature_id = str(feature_id)
        self.role = role or ""
        self.on_reverted = on_reverted
        self.confirm = confirm
        self.changes: List[Dict[str, Any]] = []
        self.error = ""
        self.setWindowTitle(self.tr("History of {0} {1}").format(collection, feature_id))
        self.titleLabel.setText(f"{collection} {feature_id} {title}".strip())
        self.revertButton.setText(self.tr("Restore this version"))
        self.closeButton.setText(self.tr("Close"))
        self.historyTable.setHorizontalHeaderLabels([
            self.tr("Version"), self.tr("When"), self.tr("Who"), self.tr("Operation"),
            self.tr("What changed"), self.tr("Comment")])
        self.revertButton.clicked.connect(self.revert_selected)
        self.closeButton.clicked.connect(self.accept)
        self.historyTable.itemSelectionChanged.connect(self._selection_changed)
        self.load()

    # ------------------------------------------------------------------ data
    def can_revert(self) -> bool:
        return self.role in WRITER_ROLES

    def current_version(self) -> Optional[int]:
        versions = [c.get("version") for c in self.changes if isinstance(c.get("version"), int)]
        return max(versions) if versions else None

    def operation_label(self, operation: str) -> str:
        return {"create": self.tr("created"), "update": self.tr("changed"),
                "delete": self.tr("deleted"), "review": self.tr("reviewed"),
                "revert": self.tr("restored")}.get(operation, operation)

    def load(self) -> None:
        from ..core.client import ApiError

        self.error = ""
        try:
            doc = self.client.history(self.collection, self.feature_id)
            self.changes = list(doc.get("changes") or [])
        except ApiError as exc:
            self.changes = []
            self.error = self.tr("No history yet") if exc.status == 404 else exc.message()
        table = self.historyTable
        table.setRowCount(len(self.changes))
        for row, change in enumerate(self.changes):
            operation = str(change.get("operation") or "")
            fields = changed_fields(change.get("before"), change.get("after"))
            if operation == "create":
                what = self.tr("new feature")
            elif operation == "delete":
                what = self.tr("deleted")
            else:
                what = ", ".join(self.tr("geometry") if f == "geom" else f for f in fields)
            when = QDateTime.fromString(str(change.get("at") or ""), Qt.ISODateWithMs)
            if not when.isValid():
                when = QDateTime.fromString(str(change.get("at") or ""), Qt.ISODate)
            cells = [str(change.get("version", "")),
                     when.toLocalTime().toString("yyyy-MM-dd HH:mm:ss") if when.isValid()
                     else str(change.get("at") or ""),
                     str(change.get("actor") or ""), self.operation_label(operation), what,
                     str(change.get("comment") or "")]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                item.setData(Qt.UserRole, row)
                table.setItem(row, col, item)
        table.resizeColumnsToContents()
        if self.error:
            self.detailsText.setPlainText(self.error)
        self._selection_changed()

    def selected_change(self) -> Optional[Dict[str, Any]]:
        rows = {i.row() for i in self.historyTable.selectedItems()}
        return self.changes[min(rows)] if rows else None

    def select_version(self, version: int) -> None:
        for row, change in enumerate(self.changes):
            if change.get("version") == version and change.get("after"):
                self.historyTable.selectRow(row)
                return
        raise KeyError(version)

    def _selection_changed(self) -> None:
        change = self.selected_change()
        allowed = self.can_revert()
        restorable = bool(change and change.get("after")
                          and change.get("version") != self.current_version())
        self.revertButton.setEnabled(allowed and restorable)
        if not allowed:
            self.revertButton.setToolTip(self.tr(
                "Your role ({0}) cannot restore versions").format(self.role or "?"))
        elif change and not restorable:
            self.revertButton.setToolTip(self.tr("This is the current version"))
        else:
            self.revertButton.setToolTip(self.tr("Write this version again as a new version"))
        if change:
            before, after = change.get("before") or {}, change.get("after") or {}
            lines = [f"{k}: {_short(before.get(k))} → {_short(after.get(k))}"
                     for k in changed_fields(before, after)]
            self.detailsText.setPlainText("\n".join(lines))

    # ------------------------------------------------------------------ revert
    def revert_selected(self) -> Optional[Dict[str, Any]]:
        """Restore the selected version (a new write); returns the server's answer or None."""
        from ..core.client import ApiError

        change = self.selected_change()
        if not change or not self.can_revert():
            return None
        version = int(change["version"])
        if self.confirm and QMessageBox.question(
                self, self.windowTitle(),
                self.tr("Write version {0} again as the current version?").format(version)
        ) != QMessageBox.Yes:
            return None
        try:
            answer = self.client.revert(self.collection, self.feature_id, version,
                                        base_version=self.current_version())
        except ApiError as exc:
            self.error = exc.message()
            self.detailsText.setPlainText(self.tr("Not restored: {0}").format(self.error))
            return None
        self.load()
        self.detailsText.setPlainText(self.tr("Version {0} restored as version {1}").format(
            version, answer.get("version")))
        if self.on_reverted is not None:
            self.on_reverted(answer)
        return answer  # type: ignore[no-any-return]


def _short(value: Any) -> str:
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:57] + "…"
    return "—" if value is None else str(value)
