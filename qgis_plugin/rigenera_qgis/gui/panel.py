"""What the plugin's docks and dialogs that talk to the server share: the client of the
saved connection, and a status line that also reaches the message bar on errors."""

from __future__ import annotations

from typing import Any, Optional

from qgis.core import Qgis

from ..toolbelt.i18n import tr


class ServerPanel:
    """Mixin for a widget with `connection_getter`, `iface` and `ui.statusLabel`."""

    connection_getter: Any
    iface: Any
    ui: Any
    last_error: str

    def client(self) -> Optional[Any]:
        connection = self.connection_getter()
        if connection is None:
            self._status(tr("Connect to a Rigenera server first"), error=True)
            return None
        return connection.client()

    def _status(self, text: str, error: bool = False) -> None:
        self.last_error = text if error else ""
        self.ui.statusLabel.setText(text)
        if error:
            self.iface.messageBar().pushMessage("Rigenera", text, Qgis.Warning, 8)
