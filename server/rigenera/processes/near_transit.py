"""Process ``sites-near-transit``: the published sites within a distance of a public
transport stop, each with its nearest stop.

Run by pygeoapi (``resources.sites-near-transit``, type ``process``, built by
``rigenera.ogc.config``) through our ``JobManager``: synchronous (a stored job with
``Prefer: respond-async``), answered as
the GeoJSON FeatureCollection itself (pygeoapi's default ``response: raw``).
The inputs are checked here, before the database is touched; a bad one is a
400 naming it. The query (``sql/near_transit.sql``) runs in a read-only
transaction and returns the whole FeatureCollection as UTF-8 bytes, so Python
never builds a feature.

Semantics: exactly ``ST_DWithin(site::geography, stop::geography, distance_m)``
over rigenera.sites x rigenera.transit_stops, nearest stop by geography
``ST_Distance`` then lowest stop id (tests/test_processes.py compares with that
SQL). The query decides in the plane on the stored UTM 32N copies (migration 0019)
within a proven error bound and measures on the ellipsoid only what the bound leaves
open and the distance each returned site reports (sql/near_transit.sql).
Measured on 100,000 synthetic sites x 5,000 random stops against the plain-SQL floor
(KNN ``<->`` + ``ST_DWithin`` on the indexed UTM column): bench/processes.py, numbers
in NOTES-mobility.md.
"""

from __future__ import annotations

import copy
import re
from functools import partial
from importlib import resources
from typing import Any

import psycopg2
from pygeoapi.process.base import BaseProcessor

from rigenera.database import sync_read
from rigenera.domains import codes
from rigenera.processes.inputs import code_list, distance, inputs_object

PROCESS_ID = "sites-near-transit"
MIN_DISTANCE_M, MAX_DISTANCE_M, DEFAULT_DISTANCE_M = 1.0, 5000.0, 500.0
MODES = tuple(codes("transit_stops", "mode"))
STATES = tuple(codes("sites", "state"))
ISTAT_CODE = re.compile(r"^[0-9]{6}$")
INPUTS = ("distance_m", "modes", "istat_codes", "states")
# A slow plan must not hold a connection for ever (100,000 sites: a few seconds).
STATEMENT_TIMEOUT_MS = 120_000
# The per-site pairs (~3 a site) sort in memory: 100,000 sites need ~35 MB.
WORK_MEM = "64MB"


def _load_sql() -> str:
    """sql/near_transit.sql with its $n placeholders turned into psycopg2's named ones."""
    raw = resources.files("rigenera.sql").joinpath("near_transit.sql").read_text()
    return re.sub(r"\$(\d)", lambda m: f"%({INPUTS[int(m.group(1)) - 1]})s", raw.replace("%", "%%"))


SQL = _load_sql()

PROCESS_METADATA: dict[str, Any] = {
    "version": "1.0.0",
    "id": PROCESS_ID,
    "title": {"it": "Siti vicino al trasporto pubblico", "en": "Sites near public transport"},
    "description": {
        "it": "Le aree dismesse e sottoutilizzate pubblicate entro una distanza (metri, sull'"
              "ellissoide) da almeno una fermata dei modi scelti, ciascuna con la fermata più "
              "vicina e la sua distanza. Filtri facoltativi per comune e stato d'uso.",
        "en": "The published abandoned and underused sites within a distance (metres, on the "
              "ellipsoid) of at least one stop of the chosen modes, each with its nearest stop "
              "and the distance to it. Optional filters by municipality and state of use.",
    },
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value"],
    "keywords": {"it": ["aree dismesse", "trasporto pubblico", "accessibilità"],
                 "en": ["brownfields", "public transport", "accessibility"]},
    "links": [],
    "inputs": {
        "distance_m": {
            "title": {"it": "Distanza (m)", "en": "Distance (m)"},
            "description": {"it": "Distanza massima dalla fermata, in metri (1-5000).",
                            "en": "Greatest distance from a stop, in metres (1-5000)."},
            "schema": {"type": "number", "minimum": MIN_DISTANCE_M, "maximum": MAX_DISTANCE_M,
                       "default": DEFAULT_DISTANCE_M},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "modes": {
            "title": {"it": "Modi di trasporto", "en": "Transport modes"},
            "description": {"it": "Codici dei modi (metro, rail, tram, bus); vuoto o assente: "
                                  "tutti.",
                            "en": "Mode codes (metro, rail, tram, bus); empty or absent: all."},
            "schema": {"type": "array", "items": {"type": "string", "enum": list(MODES)}},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "istat_codes": {
            "title": {"it": "Comuni (codici ISTAT)", "en": "Municipalities (ISTAT codes)"},
            "description": {"it": "Codici ISTAT a 6 cifre dei comuni delle aree; vuoto o "
                                  "assente: tutti.",
                            "en": "6-digit ISTAT codes of the sites' municipalities; empty or "
                                  "absent: all."},
            "schema": {"type": "array", "items": {"type": "string", "pattern": ISTAT_CODE.pattern}},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "states": {
            "title": {"it": "Stati d'uso", "en": "States of use"},
            "description": {"it": "Codici dello stato d'uso delle aree; vuoto o assente: tutti.",
                            "en": "State-of-use codes of the sites; empty or absent: all."},
            "schema": {"type": "array", "items": {"type": "string", "enum": list(STATES)}},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
    },
    "outputs": {
        "sites": {
            "title": {"it": "Aree vicine al trasporto pubblico", "en": "Sites near public transport"},
            "description": {
                "it": "FeatureCollection GeoJSON (CRS84) ordinata per id: le proprietà dell'area "
                      "(id, name, istat_code, state, former_use, surface_m2, validation_status) "
                      "più nearest_stop_id, nearest_stop_name, nearest_stop_mode, distance_m "
                      "(arrotondata a 0,1 m).",
                "en": "GeoJSON FeatureCollection (CRS84) ordered by id: the site's properties "
                      "(id, name, istat_code, state, former_use, surface_m2, validation_status) "
                      "plus nearest_stop_id, nearest_stop_name, nearest_stop_mode, distance_m "
                      "(rounded to 0.1 m).",
            },
            "schema": {"type": "object", "contentMediaType": "application/geo+json"},
        }
    },
    "example": {"inputs": {"distance_m": 500, "modes": ["metro", "rail"]}},
}


def parse_inputs(data: Any) -> dict[str, Any]:
    """The query parameters from the execute request's ``inputs``, or InvalidInput."""
    data = inputs_object(data, INPUTS)
    return {
        "distance_m": distance(data, "distance_m", DEFAULT_DISTANCE_M, MIN_DISTANCE_M,
                               MAX_DISTANCE_M),
        "modes": code_list(data, "modes", MODES.__contains__, ", ".join(MODES)),
        "istat_codes": code_list(data, "istat_codes", ISTAT_CODE.match, "6 cifre / 6 digits"),
        "states": code_list(data, "states", STATES.__contains__, ", ".join(STATES)),
    }


def sites_near_transit(dsn: str, params: dict[str, Any]) -> bytes:
    """Run the query in a read-only transaction; the FeatureCollection as UTF-8 bytes."""
    conn = psycopg2.connect(
        dsn, application_name="rigenera-process",
        options=f"-c jit=off -c max_parallel_workers_per_gather=0 -c work_mem={WORK_MEM}"
                f" -c statement_timeout={STATEMENT_TIMEOUT_MS}")
    try:
        conn.set_session(readonly=True)
        with conn.cursor() as cur:
            cur.execute(SQL, params)
            row = cur.fetchone()
        conn.rollback()
    finally:
        conn.close()
    assert row is not None
    return bytes(row[1])


class SitesNearTransitProcessor(BaseProcessor):  # type: ignore[misc]
    """pygeoapi processor; its definition carries the database DSN (``data``)."""

    def __init__(self, processor_def: dict[str, Any]) -> None:
        # A copy: pygeoapi's OpenAPI generator pops keys out of the metadata it is given.
        super().__init__(processor_def, copy.deepcopy(PROCESS_METADATA))
        self.dsn: str = processor_def["data"]

    def execute(self, data: dict[str, Any], outputs: dict[str, Any] | None = None,
                ) -> tuple[str, bytes]:
        params = parse_inputs(data)
        return "application/geo+json", sync_read(self.dsn, partial(sites_near_transit, params=params))
