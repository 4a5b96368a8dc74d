"""Process ``mobility-coverage``: the sites and projects farther than a distance from
any stop of the chosen modes or from the cycle network, per comune, with the share
covered, and the uncovered ones as features.

Run by pygeoapi (``resources.mobility-coverage``, built by ``rigenera.ogc.config``);
synchronous by default, declared ``async-execute`` too so the job manager can run it
as a job. Inputs are checked here before the query runs; a bad one is a 400 naming
it (an unknown comune is looked up in the same read-only transaction). The query
(``sql/mobility_coverage.sql``) returns the whole JSON document.

Covered means ``ST_DWithin(target::geography, element::geography, distance_m)`` for
some element (tests/test_mobility_coverage.py compares with that SQL), decided in the
plane on the stored UTM copies where the proven error bound allows (migration 0019).
Projects without a geometry, or only at their comune's point, are "not located":
counted apart, never as uncovered.
"""

from __future__ import annotations

import copy
import json
import re
from functools import partial
from importlib import resources
from typing import Any

import psycopg2
from pygeoapi.process.base import BaseProcessor

from rigenera.database import sync_read
from rigenera.domains import codes
from rigenera.processes.inputs import code_list, distance, inputs_object, invalid
from rigenera.processes.near_transit import ISTAT_CODE

PROCESS_ID = "mobility-coverage"
MAX_DISTANCE_M, DEFAULT_DISTANCE_M = 10_000.0, 500.0
TRANSIT_MODES = tuple(codes("transit_stops", "mode"))
CYCLE = "cycle"  # the cycle network: mobility_links of kind cycle_path or greenway
MODES = (*TRANSIT_MODES, CYCLE)
TARGETS = ("sites", "projects")
INPUTS = ("distance_m", "modes", "targets", "istat_codes")
STATEMENT_TIMEOUT_MS = 120_000
SQL = (resources.files("rigenera.sql").joinpath("mobility_coverage.sql").read_text()
       .replace("%", "%%"))
SQL = re.sub(r"\$(\d)", lambda m: f"%({('d', 'modes', 'cycle', 'targets', 'istat')[int(m.group(1)) - 1]})s",
             SQL)

_COUNTS: dict[str, Any] = {"type": "object", "properties": {
    "total": {"type": "integer"}, "covered": {"type": "integer"},
    "uncovered": {"type": "integer"}}}
_SUMMARY: dict[str, Any] = {"type": "object", "properties": {
    **_COUNTS["properties"],
    "share_covered": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
    "not_located": {"type": "integer"}}}

PROCESS_METADATA: dict[str, Any] = {
    "version": "1.0.0",
    "id": PROCESS_ID,
    "title": {"it": "Copertura della mobilità sostenibile",
              "en": "Sustainable mobility coverage"},
    "description": {
        "it": "Aree dismesse e interventi entro una distanza (metri, sull'ellissoide) da una "
              "fermata dei modi scelti o dalla rete ciclabile: per comune e per l'area "
              "metropolitana i conteggi coperti / non coperti e la quota coperta; i non coperti "
              "come feature GeoJSON con la distanza dall'elemento più vicino. Gli interventi "
              "senza geometria o al solo punto del comune sono contati a parte (non localizzati).",
        "en": "Sites and projects within a distance (metres, on the ellipsoid) of a stop of the "
              "chosen modes or of the cycle network: per municipality and for the metropolitan "
              "area the covered / uncovered counts and the share covered; the uncovered ones as "
              "GeoJSON features with the distance to the nearest element. Projects without a "
              "geometry or only at their municipality's point are counted apart (not located).",
    },
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value"],
    "keywords": {"it": ["mobilità sostenibile", "trasporto pubblico", "rete ciclabile",
                        "accessibilità"],
                 "en": ["sustainable mobility", "public transport", "cycle network",
                        "accessibility"]},
    "links": [],
    "inputs": {
        "distance_m": {
            "title": {"it": "Distanza (m)", "en": "Distance (m)"},
            "description": {"it": "Distanza massima dalla rete, in metri (oltre 0, fino a 10000).",
                            "en": "Greatest distance from the network, in metres (above 0, up "
                                  "to 10000)."},
            "schema": {"type": "number", "minimum": 0, "maximum": MAX_DISTANCE_M,
                       "default": DEFAULT_DISTANCE_M},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "modes": {
            "title": {"it": "Reti", "en": "Networks"},
            "description": {"it": "Modi di trasporto (metro, rail, tram, bus) e/o cycle per la "
                                  "rete ciclabile; vuoto o assente: tutti.",
                            "en": "Transport modes (metro, rail, tram, bus) and/or cycle for the "
                                  "cycle network; empty or absent: all."},
            "schema": {"type": "array", "items": {"type": "string", "enum": list(MODES)}},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "targets": {
            "title": {"it": "Oggetti", "en": "Targets"},
            "description": {"it": "sites, projects o entrambi (both, o un elenco); assente: "
                                  "entrambi.",
                            "en": "sites, projects or both (both, or an array); absent: both."},
            "schema": {"oneOf": [
                {"type": "string", "enum": [*TARGETS, "both"]},
                {"type": "array", "items": {"type": "string", "enum": list(TARGETS)}}]},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "istat_codes": {
            "title": {"it": "Comuni (codici ISTAT)", "en": "Municipalities (ISTAT codes)"},
            "description": {"it": "Codici ISTAT a 6 cifre dei comuni; vuoto o assente: tutti.",
                            "en": "6-digit ISTAT codes of the municipalities; empty or absent: "
                                  "all."},
            "schema": {"type": "array", "items": {"type": "string", "pattern": ISTAT_CODE.pattern}},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
    },
    "outputs": {
        "coverage": {
            "title": {"it": "Copertura", "en": "Coverage"},
            "description": {
                "it": "Oggetto JSON: distance_m, modes, targets; comuni (istat_code, name, total, "
                      "covered, uncovered, share_covered, not_located, sites e projects); metro "
                      "(i totali); uncovered: FeatureCollection (CRS84) con id, collection, name, "
                      "istat_code, nearest_distance_m.",
                "en": "JSON object: distance_m, modes, targets; comuni (istat_code, name, total, "
                      "covered, uncovered, share_covered, not_located, sites and projects); metro "
                      "(the totals); uncovered: FeatureCollection (CRS84) with id, collection, "
                      "name, istat_code, nearest_distance_m.",
            },
            "schema": {"type": "object", "contentMediaType": "application/json", "properties": {
                "comuni": {"type": "array", "items": _SUMMARY}, "metro": _SUMMARY,
                "uncovered": {"type": "object"}}},
        }
    },
    "example": {"inputs": {"distance_m": 500, "modes": ["metro", "rail", "tram"],
                           "targets": "both"}},
}


def parse_inputs(data: Any) -> dict[str, Any]:
    """The query parameters from the execute request's ``inputs``, or InvalidInput."""
    data = inputs_object(data, INPUTS)
    d = distance(data, "distance_m", DEFAULT_DISTANCE_M, 0, MAX_DISTANCE_M, low_inclusive=False)
    modes = code_list(data, "modes", MODES.__contains__, ", ".join(MODES)) or list(MODES)
    targets: Any = data.get("targets")
    if targets is None or targets == "both":
        targets = list(TARGETS)
    elif isinstance(targets, str):
        targets = [targets]
    if not isinstance(targets, list) or not targets or any(
            not isinstance(t, str) or t not in TARGETS for t in targets):
        raise invalid("targets", "atteso sites, projects, both o un elenco di sites/projects",
                      "expected sites, projects, both or an array of sites/projects")
    return {
        "d": d,
        "modes": [m for m in TRANSIT_MODES if m in modes],
        "cycle": CYCLE in modes,
        "targets": sorted(set(targets)),
        "istat": code_list(data, "istat_codes", ISTAT_CODE.match, "6 cifre / 6 digits"),
    }


def mobility_coverage(dsn: str, params: dict[str, Any]) -> dict[str, Any]:
    """Check the comuni and run the query in one read-only transaction: the document.

    pygeoapi serialises an ``application/json`` output itself (bytes would be quoted as
    a string), so the document PostgreSQL built is parsed once here."""
    conn = psycopg2.connect(
        dsn, application_name="rigenera-process",
        options=f"-c jit=off -c max_parallel_workers_per_gather=0"
                f" -c statement_timeout={STATEMENT_TIMEOUT_MS}")
    try:
        conn.set_session(readonly=True)
        with conn.cursor() as cur:
            if params["istat"]:
                cur.execute("SELECT array_agg(c) FROM unnest(%s::text[]) c WHERE NOT EXISTS"
                            " (SELECT 1 FROM rigenera.comuni WHERE istat_code = c)",
                            (params["istat"],))
                (missing,) = cur.fetchone() or (None,)
                if missing:
                    raise invalid("istat_codes", f"comune sconosciuto {', '.join(missing)}",
                                   f"unknown municipality {', '.join(missing)}")
            cur.execute(SQL, params)
            row = cur.fetchone()
        conn.rollback()
    finally:
        conn.close()
    assert row is not None
    doc: dict[str, Any] = json.loads(row[0])
    return doc


class MobilityCoverageProcessor(BaseProcessor):  # type: ignore[misc]
    """pygeoapi processor; its definition carries the database DSN (``data``)."""

    def __init__(self, processor_def: dict[str, Any]) -> None:
        # A copy: pygeoapi's OpenAPI generator pops keys out of the metadata it is given.
        super().__init__(processor_def, copy.deepcopy(PROCESS_METADATA))
        self.dsn: str = processor_def["data"]

    def execute(self, data: dict[str, Any], outputs: dict[str, Any] | None = None,
                ) -> tuple[str, dict[str, Any]]:
        params = parse_inputs(data)
        return "application/json", sync_read(self.dsn, partial(mobility_coverage, params=params))
