"""Rigenera, the QGIS plugin of the Metropolitan City of Milan's urban regeneration GIS.

QGIS imports this package and calls :func:`classFactory` with its interface.
Python 3.9 syntax only (QGIS 3.22 on Windows and macOS ships it).
"""

from __future__ import annotations

from typing import Any


def classFactory(iface: Any) -> Any:
    from .plugin import RigeneraPlugin

    return RigeneraPlugin(iface)
