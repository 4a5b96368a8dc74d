"""Enumerated values: the stored code, its Italian and English label.

The database enforces the codes with named CHECK constraints
(migrations/0001_core.sql); tests/test_domains.py reads those constraints back
from PostgreSQL and fails if this table and the database ever disagree. QGIS
value maps, styles and reports take their labels from here.
"""

from __future__ import annotations

Labels = dict[str, tuple[str, str]]  # code -> (italiano, English)

FUNDING_SOURCE: Labels = {
    "pnrr": ("PNRR", "NRRP (Recovery plan)"),
    "fesr": ("FESR", "ERDF"),
    "fse": ("FSE+", "ESF+"),
    "fsc": ("FSC", "Development and Cohesion Fund"),
    "national": ("Fondi nazionali", "National funds"),
    "regional": ("Fondi regionali", "Regional funds"),
    "municipal": ("Fondi comunali", "Municipal funds"),
    "private": ("Fondi privati", "Private funds"),
    "other": ("Altro", "Other"),
}

VALIDATION_STATUS: Labels = {
    "to_validate": ("Da validare", "To validate"),
    "validated": ("Validato", "Validated"),
    "rejected": ("Respinto", "Rejected"),
}

# What a published `geometry_kind` says (migration 0011): one layer per kind in QGIS.
GEOMETRY_KIND: Labels = {
    "point": ("Punto", "Point"),
    "line": ("Linea", "Line"),
    "polygon": ("Poligono", "Polygon"),
}

# The phases of a project's implementation (progress records, documents).
PHASE: Labels = {
    "design": ("Progettazione", "Design"),
    "tender": ("Affidamento / gara", "Tender"),
    "works": ("Esecuzione lavori", "Works"),
    "testing": ("Collaudo", "Testing"),
    "completed": ("Concluso", "Completed"),
}

DOCUMENT_KIND: Labels = {
    "progress_report": ("Relazione di avanzamento", "Progress report"),
    "dnsh_checklist": ("Check-list DNSH", "DNSH checklist"),
    "expense_statement": ("Rendiconto delle spese", "Expense statement"),
    "photo": ("Fotografia", "Photo"),
    "tender_act": ("Atti di gara", "Tender documents"),
    "testing_certificate": ("Certificato di collaudo", "Testing certificate"),
    "other": ("Altro documento", "Other document"),
}

DOMAINS: dict[tuple[str, str], Labels] = {
    ("sites", "ownership"): {
        "public": ("Pubblica", "Public"),
        "private": ("Privata", "Private"),
        "mixed": ("Mista", "Mixed"),
        "unknown": ("Non nota", "Unknown"),
    },
    ("sites", "former_use"): {
        "industrial": ("Produttivo / industriale", "Industrial"),
        "residential": ("Residenziale", "Residential"),
        "tertiary": ("Terziario / uffici", "Offices"),
        "commercial": ("Commerciale", "Commercial"),
        "railway": ("Scalo ferroviario", "Railway yard"),
        "military": ("Caserma / militare", "Military"),
        "rural": ("Rurale / cascina", "Rural"),
        "public_service": ("Servizio pubblico", "Public service"),
        "open_land": ("Area libera", "Open land"),
        "parking": ("Parcheggio", "Parking"),
        "other": ("Altro", "Other"),
    },
    ("sites", "state"): {
        "abandoned": ("Dismessa / abbandonata", "Abandoned"),
        "underused": ("Sottoutilizzata", "Underused"),
        "partly_used": ("Parzialmente utilizzata", "Partly used"),
        "regenerated": ("Rigenerata", "Regenerated"),
    },
    ("sites", "condition"): {
        "good": ("Buono", "Good"),
        "fair": ("Discreto", "Fair"),
        "poor": ("Degradato", "Poor"),
        "derelict": ("Fatiscente / in rovina", "Derelict"),
        "unknown": ("Non noto", "Unknown"),
    },
    ("sites", "contamination"): {
        "none": ("Assente", "None"),
        "suspected": ("Sospetta", "Suspected"),
        "contaminated": ("Accertata", "Contaminated"),
        "remediation_ongoing": ("Bonifica in corso", "Remediation ongoing"),
        "remediated": ("Bonificata", "Remediated"),
        "unknown": ("Non nota", "Unknown"),
    },
    ("sites", "validation_status"): VALIDATION_STATUS,
    ("sites", "geometry_kind"): {k: GEOMETRY_KIND[k] for k in ("point", "polygon")},
    ("projects", "status"): {
        "idea": ("Idea", "Idea"),
        "planned": ("Programmato", "Planned"),
        "funded": ("Finanziato", "Funded"),
        "design": ("In progettazione", "Design"),
        "tender": ("In gara", "Tender"),
        "works": ("Lavori in corso", "Works"),
        "completed": ("Concluso", "Completed"),
        "in_use": ("In uso", "In use"),
        "rejected": ("Non ammesso / non finanziato", "Not admitted / not funded"),
    },
    ("projects", "geom_source"): {
        "surveyed": ("Rilievo", "Surveyed"),
        "digitised": ("Digitalizzata", "Digitised"),
        "address": ("Da indirizzo", "From address"),
        "comune_point": ("Punto rappresentativo del comune", "Representative point of the comune"),
        "unknown": ("Non nota", "Unknown"),
    },
    ("projects", "cup_status"): {
        "active": ("Attivo", "Active"),
        "closed": ("Chiuso", "Closed"),
        "cancelled": ("Revocato", "Cancelled"),
    },
    ("projects", "scope"): {
        "local": ("Comunale", "Local"),
        "metro_area": ("Tutta la Città metropolitana", "Whole metropolitan area"),
    },
    ("projects", "validation_status"): VALIDATION_STATUS,
    ("projects", "geometry_kind"): GEOMETRY_KIND,
    ("funding_lines", "funding_source"): FUNDING_SOURCE,
    ("funding_lines", "status"): {
        "requested": ("Richiesto", "Requested"),
        "granted": ("Concesso", "Granted"),
        "not_granted": ("Non concesso", "Not granted"),
        "revoked": ("Revocato", "Revoked"),
    },
    ("calls", "funding_source"): FUNDING_SOURCE,
    ("mobility_links", "kind"): {
        "cycle_path": ("Pista ciclabile", "Cycle path"),
        "greenway": ("Greenway", "Greenway"),
        "metro": ("Metropolitana", "Metro"),
        "rail": ("Ferrovia", "Rail"),
        "tram": ("Tram", "Tram"),
        "bus": ("Autobus", "Bus"),
        "pedestrian": ("Percorso pedonale", "Pedestrian route"),
    },
    ("mobility_links", "status"): {
        "existing": ("Esistente", "Existing"),
        "under_construction": ("In costruzione", "Under construction"),
        "planned": ("Programmato", "Planned"),
    },
    ("transit_stops", "mode"): {
        "metro": ("Metropolitana", "Metro"),
        "rail": ("Ferrovia", "Rail"),
        "tram": ("Tram", "Tram"),
        "bus": ("Autobus", "Bus"),
    },
    ("needs", "category"): {
        "housing": ("Abitare", "Housing"),
        "culture": ("Cultura", "Culture"),
        "community": ("Comunità", "Community"),
        "productive": ("Attività produttive", "Productive uses"),
        "mobility": ("Mobilità", "Mobility"),
        "green": ("Verde", "Green spaces"),
        "services": ("Servizi", "Services"),
        "other": ("Altro", "Other"),
    },
    ("needs", "status"): {
        "open": ("Aperto", "Open"),
        "matched": ("Abbinato a un bando", "Matched to a call"),
        "closed": ("Chiuso", "Closed"),
    },
    ("needs", "applicant"): {
        "comune": ("Comune", "Municipality"),
        "unione_comuni": ("Unione di comuni", "Union of municipalities"),
        "citta_metropolitana": ("Città metropolitana", "Metropolitan City"),
        "ente_pubblico": ("Altro ente pubblico", "Other public body"),
        "terzo_settore": ("Ente del Terzo settore", "Third-sector organisation"),
        "impresa": ("Impresa", "Company"),
        "privato": ("Privato", "Private person"),
    },
    ("progress_reports", "phase"): PHASE,
    ("milestones", "kind"): {
        "milestone": ("Milestone", "Milestone"),
        "target": ("Target", "Target"),
    },
    ("milestones", "indicator"): {
        "housing_units_fragile": ("Alloggi per persone fragili", "Housing units for fragile groups"),
        "cultural_space_m2": ("Spazi culturali (m²)", "Cultural space (m²)"),
        "community_space_m2": ("Spazi di comunità (m²)", "Community space (m²)"),
        "productive_space_m2": ("Spazi produttivi (m²)", "Productive space (m²)"),
        "regenerated_m2": ("Superficie rigenerata (m²)", "Regenerated area (m²)"),
        "other": ("Altro indicatore", "Other indicator"),
    },
    ("documents", "kind"): DOCUMENT_KIND,
    ("documents", "phase"): PHASE,
    ("document_requirements", "phase"): PHASE,
    ("document_requirements", "kind"): DOCUMENT_KIND,
    ("events", "kind"): {
        "training": ("Formazione", "Training"),
        "participation": ("Partecipazione", "Participation"),
        "workshop": ("Laboratorio", "Workshop"),
        "presentation": ("Presentazione", "Presentation"),
        "site_visit": ("Sopralluogo", "Site visit"),
    },
}


def codes(table: str, column: str) -> list[str]:
    return list(DOMAINS[(table, column)])
