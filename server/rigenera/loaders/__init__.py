"""Importers: demo data, the open data of the Milan metro area, registries."""
