"""The saved connection: server URL and authcfg id in QgsSettings (never a password)."""

from __future__ import annotations

from typing import Optional

from qgis.core import QgsSettings

from .client import RigeneraClient

_KEY = "rigenera_qgis/connection/"


class Connection:
    """Where the server is and which QGIS authentication configuration opens it."""

    def __init__(self, url: str, authcfg: str = "") -> None:
        self.url = url.rstrip("/")
        self.authcfg = authcfg

    def client(self, timeout_ms: int = 60000) -> RigeneraClient:
        return RigeneraClient(self.url, self.authcfg, timeout_ms)

    def save(self) -> None:
        settings = QgsSettings()
        settings.setValue(_KEY + "url", self.url)
        settings.setValue(_KEY + "authcfg", self.authcfg)

    @classmethod
    def load(cls) -> Optional[Connection]:
        settings = QgsSettings()
        url = settings.value(_KEY + "url", "")
        if not url:
            return None
        return cls(str(url), str(settings.value(_KEY + "authcfg", "") or ""))

    @staticmethod
    def forget() -> None:
        settings = QgsSettings()
        settings.remove(_KEY + "url")
        settings.remove(_KEY + "authcfg")

    def __repr__(self) -> str:
        return f"Connection({self.url!r}, authcfg={self.authcfg!r})"
