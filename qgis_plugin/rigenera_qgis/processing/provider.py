"""The "Rigenera" Processing provider: the planners' server-side analyses.

Registered by the plugin's ``initProcessing()`` (called by QGIS Desktop and by
``qgis_process`` for plugins whose metadata says ``hasProcessingProvider=yes``).
Imports no QtWidgets and no qgis.gui: it runs headless.
"""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from .near_transit import NearTransitAlgorithm

PLUGIN_DIR = Path(__file__).resolve().parents[1]


class RigeneraProcessingProvider(QgsProcessingProvider):
    """Provider id ``rigenera``: algorithms are ``rigenera:<name>``."""

    def loadAlgorithms(self) -> None:
        self.addAlgorithm(NearTransitAlgorithm())

    def id(self) -> str:
        return "rigenera"

    def name(self) -> str:
        return "Rigenera"

    def longName(self) -> str:
        return QCoreApplication.translate(
            "RigeneraProcessingProvider", "Rigenera – urban regeneration (Metropolitan City of Milan)")

    def icon(self) -> QIcon:
        for name in ("icon.svg", "icon.png"):
            path = PLUGIN_DIR / name
            if path.exists():
                return QIcon(str(path))
        return QgsProcessingProvider.icon(self)
