"""Processing provider of the Rigenera plugin (runs headless: qgis_process, the modeler)."""

from __future__ import annotations

from .provider import RigeneraProcessingProvider

__all__ = ["RigeneraProcessingProvider"]
