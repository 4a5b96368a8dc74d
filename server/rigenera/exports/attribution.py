"""Who the exported data comes from, and under which licence.

Every feature carries a `source`: a short attribution line written by its loader
("Comune di Milano – Open Data ds60 itinerari ciclabili (CC BY 4.0)"), the demo set's
"Demo Rigenera (dati inventati)" or "Rigenera" for features drawn in the service. A
file handed on must carry those lines (CC BY asks for attribution, CC BY-SA for the
same licence, CC BY-NC forbids commercial use), so each export lists the distinct
sources of the rows it holds, with the licence read from the line where it names one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Licence identifiers as our loaders and the open data portals spell them.
_LICENCE = re.compile(
    r"\b(CC[ -]?BY(?:[ -](?:SA|NC|ND|NC-SA|NC-ND))?[ -]\d\.\d|CC0(?:[ -]1\.0)?|IODL[ -]?2\.0|ODbL)\b",
    re.IGNORECASE)
_URLS = {
    "CC BY": "https://creativecommons.org/licenses/by/{v}/",
    "CC BY-SA": "https://creativecommons.org/licenses/by-sa/{v}/",
    "CC BY-NC": "https://creativecommons.org/licenses/by-nc/{v}/",
    "CC BY-ND": "https://creativecommons.org/licenses/by-nd/{v}/",
    "CC BY-NC-SA": "https://creativecommons.org/licenses/by-nc-sa/{v}/",
    "CC BY-NC-ND": "https://creativecommons.org/licenses/by-nc-nd/{v}/",
    "CC0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "IODL 2.0": "https://www.dati.gov.it/content/italian-open-data-license-v20",
    "ODbL": "https://opendatacommons.org/licenses/odbl/1-0/",
}


# Every export is in the storage CRS; a CSV or XLSX cannot say so itself (a `wkt` column).
CRS_TEXT = "EPSG:4326 (WGS 84, longitudine/latitudine / longitude/latitude)"


@dataclass(frozen=True)
class Source:
    """One distinct `source` of the exported rows."""

    source: str
    features: int
    licence: str | None
    licence_url: str | None

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "features": self.features, "licence": self.licence,
                "licence_url": self.licence_url}


def licence_of(source: str) -> tuple[str | None, str | None]:
    """The licence named in an attribution line, normalised ("CC-BY-4.0" -> "CC BY 4.0")."""
    m = _LICENCE.search(source)
    if m is None:
        return None, None
    raw = m.group(1).upper().replace("CC-BY", "CC BY")
    if raw.startswith("CC0"):
        return "CC0 1.0", _URLS["CC0"]
    if raw.startswith("IODL"):
        return "IODL 2.0", _URLS["IODL 2.0"]
    if raw == "ODBL":
        return "ODbL", _URLS["ODbL"]
    version = raw[-3:]
    kind = re.sub(r"[ -]+", "-", raw[:-3].strip(" -")).replace("CC-BY", "CC BY")
    url = _URLS.get(kind)
    return f"{kind} {version}", url.format(v=version) if url else None


def sources_of(rows: list[tuple[str, int]]) -> list[Source]:
    """(source, feature count) rows -> Sources with their licences."""
    return [Source(s, n, *licence_of(s)) for s, n in rows]


def notices(sources: list[Source]) -> list[str]:
    """What the licences ask of whoever reuses the file, in Italian / English."""
    kinds = {s.licence.split(" ")[1] for s in sources
             if s.licence and s.licence.startswith("CC BY") and " " in s.licence}
    out = []
    if any("NC" in k for k in kinds):
        out.append("Contiene dati CC BY-NC: solo uso non commerciale / contains CC BY-NC data: "
                   "non-commercial use only")
    if any("SA" in k for k in kinds):
        out.append("Contiene dati CC BY-SA: le opere derivate vanno condivise con la stessa "
                   "licenza / contains CC BY-SA data: share derived works alike")
    if any(s.licence is None for s in sources):
        out.append("Per le fonti senza licenza indicata chiedere al titolare / ask the owner "
                   "about sources without a stated licence")
    return out


def attribution_text(collection: str, sources: list[Source], exported_at: datetime,
                     filter_text: str | None, comuni: list[str] | None) -> str:
    """The attribution as plain text: the CSV's companion file, the GeoPackage's layer
    description and metadata."""
    lines = [f"Rigenera – esportazione / export: {collection}",
             f"Data / date: {exported_at.isoformat(timespec='seconds')}",
             f"Sistema di riferimento / CRS: {CRS_TEXT}"]
    if filter_text:
        lines.append(f"Filtro / filter (CQL2): {filter_text}")
    if comuni:
        lines.append(f"Comuni (ISTAT): {', '.join(comuni)}")
    lines.append("Fonti / sources:")
    for s in sources:
        licence = f"{s.licence} ({s.licence_url})" if s.licence_url else (
            s.licence or "licenza non indicata / licence not stated")
        lines.append(f"- {s.source} – {licence} – {s.features} elementi / features")
    if not sources:
        lines.append("- nessun elemento / no features")
    lines += notices(sources)
    return "\n".join(lines) + "\n"


def attribution_json(collection: str, sources: list[Source], exported_at: datetime,
                     filter_text: str | None, comuni: list[str] | None) -> dict[str, Any]:
    """The attribution as a JSON object: the GeoJSON top-level member `attribution`."""
    return {"collection": collection, "exported_at": exported_at.isoformat(timespec="seconds"),
            "crs": CRS_TEXT,
            "filter": filter_text, "comuni": comuni,
            "sources": [s.to_json() for s in sources], "notices": notices(sources)}
