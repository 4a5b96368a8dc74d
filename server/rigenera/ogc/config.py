"""Build pygeoapi's configuration from our catalogue and settings.

pygeoapi reads YAML files named by environment variables; we generate both
the configuration and the OpenAPI document at start-up from
``rigenera.catalogue`` (single source of truth), with spatial extents measured
from the data, so the service never advertises a stale extent.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import psycopg2
import yaml

from rigenera.catalogue import COLLECTIONS, Collection
from rigenera.ogc.crs import CRS84, STORAGE_CRS, SUPPORTED_CRS
from rigenera.processes.coverage import PROCESS_ID as COVERAGE_ID
from rigenera.processes.near_transit import PROCESS_ID
from rigenera.settings import Settings

PROVIDER = "rigenera.ogc.provider.RigeneraPostgreSQLProvider"
TILE_PROVIDER = "rigenera.ogc.provider.RigeneraMVTProvider"
# OGC API Processes: synchronous by default, asynchronous jobs stored in PostgreSQL
# (rigenera/processes/manager.py, migration 0018).
PROCESS_MANAGER = "rigenera.processes.manager.JobManager"
NEAR_TRANSIT_PROCESSOR = "rigenera.processes.near_transit.SitesNearTransitProcessor"
# Matching needs to funding calls (issue 11, rigenera/matching).
MATCH_CALLS_ID = "match-calls"
MATCH_CALLS_PROCESSOR = "rigenera.matching.process.MatchCallsProcessor"
COVERAGE_PROCESSOR = "rigenera.processes.coverage.MobilityCoverageProcessor"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# The metropolitan city's bounding box: the extent of an empty collection.
METRO_BBOX = [8.70, 45.16, 9.56, 45.65]


def connection_params(dsn: str) -> dict[str, Any]:
    """Split a DSN into the dict pygeoapi's SQL provider expects."""
    u = urlparse(dsn)
    return {
        "host": u.hostname or "127.0.0.1",
        "port": u.port or 5432,
        "dbname": (u.path or "/").lstrip("/") or "postgres",
        "user": unquote(u.username or ""),
        "password": unquote(u.password or ""),
        "search_path": ["pub", "public"],
    }


def measure_extents(dsn: str) -> dict[str, list[float]]:
    """Bounding box of each published view (one fast ST_Extent per collection)."""
    out: dict[str, list[float]] = {}
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        for c in COLLECTIONS:
            cur.execute(
                f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
                f" FROM (SELECT ST_Extent(geom) AS e FROM {c.view}) s"
            )
            row = cur.fetchone()
            out[c.id] = (
                [round(float(v), 6) for v in row] if row and row[0] is not None else METRO_BBOX
            )
    conn.close()
    return out


def _resource(c: Collection, db: dict[str, Any], bbox: list[float]) -> dict[str, Any]:
    return {
        "type": "collection",
        "title": c.title,
        "description": c.description,
        "keywords": c.keywords,
        "links": [
            {
                "type": "text/html",
                "rel": "license",
                "title": "Licenze delle fonti / source licences",
                "href": "https://creativecommons.org/licenses/by/4.0/",
                "hreflang": "it",
            }
        ],
        "extents": {"spatial": {"bbox": bbox, "crs": CRS84}},
        "providers": [
            {
                "type": "feature",
                "name": PROVIDER,
                "data": db,
                "id_field": c.id_field,
                "table": c.id,
                "geom_field": "geom",
                "title_field": c.title_field,
                "storage_crs": STORAGE_CRS,
                "crs": list(SUPPORTED_CRS),
            },
        ] + ([
            {
                # Describes the tilesets; the tile bytes come from rigenera.ogc.tiles.
                "type": "tile",
                "name": TILE_PROVIDER,
                "data": db,
                "id_field": c.id_field,
                "table": c.id,
                "geom_field": "geom",
                "storage_crs": STORAGE_CRS,
                "options": {"zoom": {"min": 0, "max": 22}},
                "format": {"name": "pbf", "mimetype": "application/vnd.mapbox-vector-tile"},
            },
        ] if c.tiles else []),
    }


def _processes(dsn: str) -> dict[str, dict[str, Any]]:
    """Process resources: pygeoapi loads the processor by dotted path with this definition."""
    return {PROCESS_ID: {"type": "process",
                         "processor": {"name": NEAR_TRANSIT_PROCESSOR, "data": dsn}},
            MATCH_CALLS_ID: {"type": "process",
                             "processor": {"name": MATCH_CALLS_PROCESSOR, "data": dsn}},
            COVERAGE_ID: {"type": "process",
                          "processor": {"name": COVERAGE_PROCESSOR, "data": dsn}}}


def build_config(settings: Settings, dsn: str, extents: dict[str, list[float]]) -> dict[str, Any]:
    db = connection_params(dsn)
    return {
        "server": {
            "bind": {"host": settings.host, "port": settings.port},
            "url": settings.ogc_url,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "gzip": False,
            "languages": ["it", "en"],
            "cors": True,
            "pretty_print": False,
            # Ours first, pygeoapi's for everything we do not override (rigenera/templates).
            "templates": {"path": str(TEMPLATES)},
            "admin": False,
            "limits": {
                "default_items": settings.ogc_default_items,
                "max_items": settings.ogc_max_items,
                "on_exceed": "error",
            },
            "map": {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "attribution": "&copy; OpenStreetMap contributors",
            },
            # Jobs in rigenera.process_jobs: pygeoapi advertises /jobs (is_async).
            "manager": {"name": PROCESS_MANAGER, "connection": dsn, "output_dir": None},
        },
        "logging": {"level": settings.log_level.upper()},
        "metadata": {
            "identification": {
                "title": {
                    "it": "Rigenera – Welfare metropolitano e rigenerazione urbana",
                    "en": "Rigenera – Metropolitan welfare and urban regeneration",
                },
                "description": {
                    "it": "Aree dismesse, interventi di rigenerazione urbana, finanziamenti PNRR "
                          "e rete della mobilità sostenibile della Città metropolitana di Milano.",
                    "en": "Abandoned sites, urban regeneration projects, NRRP funding and the "
                          "sustainable mobility network of the Metropolitan City of Milan.",
                },
                "keywords": {
                    "it": ["rigenerazione urbana", "PNRR", "aree dismesse", "mobilità sostenibile",
                           "Città metropolitana di Milano"],
                    "en": ["urban regeneration", "NRRP", "brownfields", "sustainable mobility",
                           "Milan"],
                },
                "keywords_type": "theme",
                "terms_of_service": "https://creativecommons.org/licenses/by/4.0/",
                "url": settings.base_url,
            },
            "license": {
                "name": "CC-BY 4.0 (salvo diversa indicazione della fonte)",
                "url": "https://creativecommons.org/licenses/by/4.0/",
            },
            "provider": {
                "name": "Città metropolitana di Milano",
                "url": "https://www.cittametropolitana.mi.it/",
            },
            "contact": {
                "name": "Città metropolitana di Milano",
                "position": "Welfare metropolitano e rigenerazione urbana",
                "address": "Via Vivaio 1",
                "city": "Milano",
                "stateorprovince": "MI",
                "postalcode": "20122",
                "country": "Italia",
                "url": "https://www.cittametropolitana.mi.it/",
                "role": "pointOfContact",
            },
        },
        "resources": {
            **{c.id: _resource(c, db, extents.get(c.id, METRO_BBOX)) for c in COLLECTIONS},
            **_processes(dsn),
        },
    }


def _atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
    """`text` into `path` through a temporary file of its own in the same folder, then
    os.replace: a reader (another worker, another service sharing the state dir) sees the
    old file or the new one, never half of one. A fixed temporary name was not enough:
    two processes writing at once truncated each other's temporary file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def document_paths(settings: Settings) -> tuple[Path, Path]:
    """Where the config and its OpenAPI document live (the state dir's run folder)."""
    run = settings.runtime_dir
    return run / "pygeoapi-config.yml", run / "pygeoapi-openapi.yml"


def _point_pygeoapi(cfg_path: Path, oas_path: Path) -> None:
    """pygeoapi reads its documents from these variables (some modules at import time)."""
    os.environ["PYGEOAPI_CONFIG"] = str(cfg_path)
    os.environ["PYGEOAPI_OPENAPI"] = str(oas_path)


def write_documents(settings: Settings, config: dict[str, Any]) -> tuple[Path, Path]:
    """Write the config and its OpenAPI document; point pygeoapi's variables at them.

    The document is pygeoapi's, rebuilt self-contained and true to our routes
    (rigenera/ogc/openapi.py)."""
    from pygeoapi.openapi import get_oas

    from rigenera.ogc.openapi import build_openapi

    cfg_path, oas_path = document_paths(settings)
    cfg_path.parent.mkdir(parents=True, exist_ok=True)
    # The config holds the database password: readable by its owner only.
    _atomic_write(cfg_path, yaml.safe_dump(config, allow_unicode=True, sort_keys=False), 0o600)
    oas = build_openapi(get_oas(config, fail_on_invalid_collection=True), config, settings)
    _atomic_write(oas_path, yaml.safe_dump(oas, allow_unicode=True, sort_keys=False))
    _point_pygeoapi(cfg_path, oas_path)
    return cfg_path, oas_path


def read_documents(settings: Settings) -> tuple[dict[str, Any], Path, Path]:
    """The documents a `rigenera serve --workers N` parent wrote before its workers
    started (rigenera/workers.py): every worker serves the same config, extents included,
    and none rebuilds or rewrites them."""
    cfg_path, oas_path = document_paths(settings)
    config: dict[str, Any] = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    _point_pygeoapi(cfg_path, oas_path)
    return config, cfg_path, oas_path
