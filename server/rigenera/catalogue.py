"""The published collections: one entry each, the single source for the OGC
configuration, the tiles, the styles and the QGIS plugin.

Titles, descriptions and keywords are Italian first, English second, in
pygeoapi's multilingual form ({"it": ..., "en": ...}).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Collection:
    id: str
    id_field: str
    title: dict[str, str]
    description: dict[str, str]
    keywords: dict[str, list[str]]
    title_field: str
    geometry: str | None  # None: no place (calls), features with "geometry": null
    editable: bool = True
    links: list[dict[str, str]] = field(default_factory=list)
    tiles: bool = True  # vector tiles need a view in schema `tiles` (migration 0004)

    @property
    def view(self) -> str:
        """The view in schema ``pub`` that publishes this collection."""
        return f"pub.{self.id}"


COLLECTIONS: tuple[Collection, ...] = (
    Collection(
        id="comuni",
        id_field="istat_code",
        title={"it": "Comuni della Città metropolitana di Milano",
               "en": "Municipalities of the Metropolitan City of Milan"},
        description={
            "it": "I 133 comuni della Città metropolitana di Milano: codice ISTAT, codice "
                  "catastale, popolazione residente e confini amministrativi.",
            "en": "The 133 municipalities of the Metropolitan City of Milan: ISTAT code, "
                  "cadastral code, resident population and administrative boundaries.",
        },
        keywords={"it": ["comuni", "confini amministrativi", "ISTAT", "Città metropolitana di Milano"],
                  "en": ["municipalities", "administrative boundaries", "ISTAT", "Milan"]},
        title_field="name",
        geometry="MultiPolygon",
        editable=False,
    ),
    Collection(
        id="sites",
        id_field="id",
        title={"it": "Aree dismesse e sottoutilizzate", "en": "Abandoned and underused sites"},
        description={
            "it": "Aree ed edifici dismessi o sottoutilizzati candidati alla rigenerazione: "
                  "proprietà, uso precedente, stato, superficie, contaminazione e stato di "
                  "validazione. Poligoni dove il perimetro è noto, punti dove è nota solo "
                  "la posizione.",
            "en": "Abandoned or underused areas and buildings that are candidates for "
                  "regeneration: ownership, former use, state, surface, contamination and "
                  "validation status. Polygons where the perimeter is known, points where "
                  "only the location is.",
        },
        keywords={"it": ["aree dismesse", "rigenerazione urbana", "degrado", "riuso"],
                  "en": ["brownfields", "urban regeneration", "vacant buildings", "reuse"]},
        title_field="name",
        geometry="Geometry",
    ),
    Collection(
        id="projects",
        id_field="id",
        title={"it": "Interventi di rigenerazione urbana", "en": "Urban regeneration projects"},
        description={
            "it": "Interventi di rigenerazione urbana con CUP, soggetto attuatore, stato di "
                  "avanzamento, costi, linee di finanziamento (PNRR M5C2, FESR, FSC, fondi "
                  "nazionali, regionali e comunali) e risultati sociali attesi.",
            "en": "Urban regeneration projects with CUP code, implementing body, progress, "
                  "costs, funding lines (PNRR M5C2, ERDF, FSC, national, regional and municipal "
                  "funds) and expected social outcomes.",
        },
        keywords={"it": ["PNRR", "M5C2", "rigenerazione urbana", "CUP", "finanziamenti",
                         "housing sociale"],
                  "en": ["NRRP", "M5C2", "urban regeneration", "CUP", "funding", "social housing"]},
        title_field="title",
        geometry="Geometry",
    ),
    Collection(
        id="mobility_links",
        id_field="id",
        title={"it": "Rete della mobilità sostenibile", "en": "Sustainable mobility network"},
        description={
            "it": "Percorsi ciclabili, greenway, linee di metropolitana, ferrovia, tram e bus, "
                  "percorsi pedonali: esistenti, in costruzione o programmati, con lunghezza "
                  "in metri.",
            "en": "Cycle paths, greenways, metro, rail, tram and bus lines, pedestrian routes: "
                  "existing, under construction or planned, with length in metres.",
        },
        keywords={"it": ["mobilità sostenibile", "piste ciclabili", "greenway", "trasporto pubblico"],
                  "en": ["sustainable mobility", "cycle paths", "greenways", "public transport"]},
        title_field="name",
        geometry="MultiLineString",
    ),
    Collection(
        id="transit_stops",
        id_field="id",
        title={"it": "Fermate del trasporto pubblico", "en": "Public transport stops"},
        description={
            "it": "Stazioni della metropolitana e della ferrovia, fermate di tram e bus, con le "
                  "linee servite e il gestore.",
            "en": "Metro and rail stations, tram and bus stops, with the lines served and the "
                  "operator.",
        },
        keywords={"it": ["fermate", "metropolitana", "tram", "autobus", "ferrovia"],
                  "en": ["stops", "metro", "tram", "bus", "rail"]},
        title_field="name",
        geometry="Point",
    ),
)

# Issue 11: funding calls (no place) and the comuni's local needs (optional place); no
# tiles (few features, read as features), no map style for calls.
COLLECTIONS += (
    Collection(
        id="calls",
        id_field="id",
        title={"it": "Bandi di finanziamento", "en": "Funding calls"},
        description={
            "it": "Bandi e avvisi di finanziamento (PNRR, fondi europei, nazionali, regionali, "
                  "comunali, privati): ente, fonte, codice di programma, temi, beneficiari e "
                  "comuni ammessi, date di apertura e chiusura, dotazione e contributo massimo.",
            "en": "Funding calls (NRRP, EU, national, regional, municipal and private funds): "
                  "issuer, source, programme code, themes, eligible beneficiaries and "
                  "municipalities, opening and closing dates, budget and maximum grant.",
        },
        keywords={"it": ["bandi", "finanziamenti", "PNRR", "avvisi pubblici"],
                  "en": ["funding calls", "grants", "NRRP", "calls for proposals"]},
        title_field="title",
        geometry=None,
        tiles=False,
    ),
    Collection(
        id="needs",
        id_field="id",
        title={"it": "Bisogni dei comuni", "en": "Local needs of the municipalities"},
        description={
            "it": "Bisogni locali segnalati dai comuni: categoria, descrizione, priorità, costo "
                  "stimato, stato e, dove nota, la localizzazione (punto o area).",
            "en": "Local needs reported by the municipalities: category, description, priority, "
                  "estimated cost, status and, where known, the location (point or area).",
        },
        keywords={"it": ["bisogni", "comuni", "fabbisogni", "priorità"],
                  "en": ["needs", "municipalities", "priorities"]},
        title_field="title",
        geometry="Geometry",
        tiles=False,
    ),
)

BY_ID = {c.id: c for c in COLLECTIONS}
