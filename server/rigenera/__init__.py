"""Rigenera: GIS for the Metropolitan City of Milan's urban regeneration programme."""

__version__ = "0.1.0"
