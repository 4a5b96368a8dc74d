"""Process ``match-calls``: the funding calls that fit a need, or every open need of a
comune, ranked, with reasons and near misses (the document of the HTTP routes,
rigenera/matching/http.py, built by the same code: service.py).

Run by pygeoapi (``resources.match-calls``, built by ``rigenera.ogc.config``) through our
manager (rigenera/processes/manager.py): synchronous by default, a job with
``Prefer: respond-async``. Inputs are checked before the database is touched; a bad one
is a 400 naming it, an unknown need or comune too (it is an input value that names
nothing).
"""

from __future__ import annotations

import copy
import re
from functools import partial
from typing import Any

import psycopg2
import psycopg2.extras
from pygeoapi.process.base import BaseProcessor

from rigenera.database import sync_read
from rigenera.matching import service
from rigenera.processes.inputs import inputs_object
from rigenera.processes.manager import InvalidInput

PROCESS_ID = "match-calls"
INPUTS = ("need_id", "istat_code", "as_of", "include_near_misses")
STATEMENT_TIMEOUT_MS = 60_000
MEDIA_TYPE = "application/json; charset=utf-8"
# psycopg2 takes %(name)s where asyncpg takes $n: one statement file for both.
PG2_SQL = re.sub(r"\$(\d)", r"%(p\1)s", service.SQL.replace("%", "%%"))
PG2_COMUNE_SQL = service.COMUNE_SQL.replace("$1", "%(p1)s")

_REASON_SCHEMA = {"type": "object", "properties": {
    "criterion": {"type": "string", "enum": list(service.CRITERIA)},
    "code": {"type": "string"}, "it": {"type": "string"}, "en": {"type": "string"}}}

PROCESS_METADATA: dict[str, Any] = {
    "version": "1.0.0",
    "id": PROCESS_ID,
    "title": {"it": "Bandi adatti ai bisogni", "en": "Funding calls matching needs"},
    "description": {
        "it": "Per un bisogno, o per tutti i bisogni aperti di un comune, i bandi compatibili "
              "per tema, beneficiari, comuni ammessi, scadenza (aperti alla data di riferimento "
              "e prima della data entro cui serve il bisogno) e importo (costo stimato entro il "
              "contributo massimo e la dotazione), ordinati: prima i criteri soddisfatti, poi "
              "gli importi verificati, la quota del costo coperta dal contributo massimo, la "
              "scadenza più vicina, il contributo più alto. Ogni bando ha le ragioni "
              "dell'abbinamento; i quasi-abbinamenti (uno o due criteri mancati) dicono perché "
              "no: scaduto, non ancora aperto, oltre il contributo massimo, non ammesso.",
        "en": "For a need, or every open need of a comune, the funding calls that fit by "
              "theme, beneficiaries, eligible comuni, deadline (open on the reference date and "
              "before the need is needed) and amount (estimated cost within the maximum grant "
              "and the budget), ranked: criteria met first, then checked amounts, the share of "
              "the cost the maximum grant covers, the nearest closing date, the larger grant. "
              "Each call carries the reasons it matches; near misses (one or two criteria "
              "failed) say why not: expired, not yet open, over the maximum grant, not "
              "eligible.",
    },
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value"],
    "keywords": {"it": ["bandi", "bisogni", "finanziamenti"],
                 "en": ["funding calls", "needs", "funding"]},
    "links": [],
    "inputs": {
        "need_id": {
            "title": {"it": "Bisogno", "en": "Need"},
            "description": {"it": "Identificativo del bisogno (qualunque stato); in "
                                  "alternativa a istat_code.",
                            "en": "The need's identifier (any status); instead of istat_code."},
            "schema": {"type": "integer", "minimum": 1},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "istat_code": {
            "title": {"it": "Comune (codice ISTAT)", "en": "Comune (ISTAT code)"},
            "description": {"it": "Tutti i bisogni aperti del comune; in alternativa a need_id.",
                            "en": "Every open need of the comune; instead of need_id."},
            "schema": {"type": "string", "pattern": service.ISTAT_CODE.pattern},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "as_of": {
            "title": {"it": "Data di riferimento", "en": "Reference date"},
            "description": {"it": "AAAA-MM-GG; assente: oggi.", "en": "YYYY-MM-DD; absent: today."},
            "schema": {"type": "string", "format": "date"},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "include_near_misses": {
            "title": {"it": "Quasi-abbinamenti", "en": "Near misses"},
            "description": {"it": "Anche i bandi che mancano uno o due criteri (vero).",
                            "en": "Also the calls failing one or two criteria (true)."},
            "schema": {"type": "boolean", "default": True},
            "minOccurs": 0, "maxOccurs": 1,
        },
    },
    "outputs": {
        "matches": {
            "title": {"it": "Bandi adatti", "en": "Matching calls"},
            "description": {
                "it": "Per un bisogno: {as_of, need, matches, near_misses}; per un comune: "
                      "{as_of, istat_code, comune, open_needs, needs_with_matches, needs: "
                      "[{need, matches, near_misses}]}. Ogni bando: rank, call, criteria_met, "
                      "coverage_pct, days_left, reasons e why_not ({criterion, code, it, en}).",
                "en": "For a need: {as_of, need, matches, near_misses}; for a comune: "
                      "{as_of, istat_code, comune, open_needs, needs_with_matches, needs: "
                      "[{need, matches, near_misses}]}. Each call: rank, call, criteria_met, "
                      "coverage_pct, days_left, reasons and why_not ({criterion, code, it, en}).",
            },
            "schema": {"type": "object", "contentMediaType": "application/json",
                       "properties": {"reasons": {"type": "array", "items": _REASON_SCHEMA}}},
        }
    },
    "example": {"inputs": {"istat_code": "015146", "include_near_misses": True}},
}


def _invalid(exc: service.BadInput) -> InvalidInput:
    return InvalidInput(user_msg=str(exc))


def parse_inputs(data: Any) -> dict[str, Any]:
    """need_id or istat_code (exactly one), as_of, include_near_misses; or InvalidInput."""
    data = inputs_object(data, INPUTS)
    try:
        given = [k for k in ("need_id", "istat_code") if data.get(k) is not None]
        if len(given) != 1:
            raise service.BadInput("need_id", "indicare need_id oppure istat_code (uno solo)",
                                   "give either need_id or istat_code (exactly one)")
        need_id = service.parse_id("need_id", data["need_id"]) if given == ["need_id"] else None
        code = (service.parse_istat_code("istat_code", data["istat_code"])
                if given == ["istat_code"] else None)
        return {"need_id": need_id, "istat_code": code,
                "as_of": service.parse_date("as_of", data.get("as_of")),
                "near_misses": service.parse_bool("include_near_misses",
                                                  data.get("include_near_misses"))}
    except service.BadInput as exc:
        raise _invalid(exc) from None


def match_calls(dsn: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run the statement in a read-only transaction; the document of the HTTP routes."""
    need_id, code, day, near = (params["need_id"], params["istat_code"], params["as_of"],
                                params["near_misses"])
    args = dict(zip(("p1", "p2", "p3", "p4", "p5"),
                    service.sql_args(need_id, code, day, near), strict=True))
    conn = psycopg2.connect(dsn, application_name="rigenera-process",
                            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}")
    try:
        conn.set_session(readonly=True)
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            name = None
            if code is not None:
                cur.execute(PG2_COMUNE_SQL, {"p1": code})
                found = cur.fetchone()
                if found is None:
                    raise _invalid(service.BadInput("istat_code", f"comune {code} inesistente",
                                                    f"no comune {code}"))
                name = found["name"]
            cur.execute(PG2_SQL, args)
            rows = cur.fetchall()
        conn.rollback()
    finally:
        conn.close()
    if code is not None:
        assert name is not None
        return service.comune_document(rows, code, name, day, near)
    assert need_id is not None
    try:
        return service.need_document(rows, need_id, day, near)
    except service.UnknownTarget:
        raise _invalid(service.BadInput("need_id", f"bisogno {need_id} inesistente",
                                        f"no need {need_id}")) from None


class MatchCallsProcessor(BaseProcessor):  # type: ignore[misc]
    """pygeoapi processor; its definition carries the database DSN (``data``)."""

    def __init__(self, processor_def: dict[str, Any]) -> None:
        # A copy: pygeoapi's OpenAPI generator pops keys out of the metadata it is given.
        super().__init__(processor_def, copy.deepcopy(PROCESS_METADATA))
        self.dsn: str = processor_def["data"]

    @staticmethod
    def check_inputs(data: Any) -> None:
        """Called by our manager before an asynchronous job is accepted: a bad input is a
        400 at once, not a failed job."""
        parse_inputs(data)

    def execute(self, data: dict[str, Any], outputs: dict[str, Any] | None = None,
                ) -> tuple[str, bytes]:
        import json

        doc = sync_read(self.dsn, partial(match_calls, params=parse_inputs(data)))
        # With its charset: pygeoapi re-serialises a plain "application/json" output as a
        # JSON string (and escapes < and >); these bytes are the answer as they are.
        return MEDIA_TYPE, json.dumps(doc, ensure_ascii=False,
                                              default=service.json_default).encode()
