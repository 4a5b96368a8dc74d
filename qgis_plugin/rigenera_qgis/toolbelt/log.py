"""Messages to QGIS's Log Messages panel, under the tab "Rigenera"."""

from __future__ import annotations

from qgis.core import Qgis, QgsMessageLog

TAG = "Rigenera"


def log(message: str, level: Qgis.MessageLevel = Qgis.Info) -> None:
    QgsMessageLog.logMessage(str(message), TAG, level)


def info(message: str) -> None:
    log(message, Qgis.Info)


def warning(message: str) -> None:
    log(message, Qgis.Warning)


def critical(message: str) -> None:
    log(message, Qgis.Critical)


def success(message: str) -> None:
    log(message, Qgis.Success)
