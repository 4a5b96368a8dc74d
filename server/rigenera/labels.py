"""Field labels (Italian, English) of the published collections.

One table for every place a person reads a column name: QGIS aliases (styles
and the plugin's forms, via ``/api/collections/{id}/model``), SLD/MapLibre
legends and reports. Codes of enumerations have their labels in ``domains.py``.
"""

from __future__ import annotations

Label = tuple[str, str]  # (italiano, English)

_COMMON: dict[str, Label] = {
    "id": ("Identificativo", "Identifier"),
    "name": ("Nome", "Name"),
    "istat_code": ("Codice ISTAT comune", "ISTAT municipality code"),
    "source": ("Fonte", "Source"),
    "source_id": ("Identificativo nella fonte", "Source identifier"),
    "validation_status": ("Stato di validazione", "Validation status"),
    "version": ("Versione", "Version"),
    "updated_at": ("Ultima modifica", "Last modified"),
    "created_at": ("Creato il", "Created at"),
    "operator": ("Gestore", "Operator"),
    "status": ("Stato", "Status"),
    "description": ("Descrizione", "Description"),
    "title": ("Titolo", "Title"),
    "geometry_kind": ("Tipo di geometria", "Geometry kind"),
}

FIELD_LABELS: dict[str, dict[str, Label]] = {
    "comuni": {
        "istat_code": ("Codice ISTAT", "ISTAT code"),
        "name": ("Comune", "Municipality"),
        "cadastral_code": ("Codice catastale", "Cadastral code"),
        "province_code": ("Codice provincia", "Province code"),
        "population": ("Popolazione residente", "Resident population"),
        "area_m2": ("Superficie (m²)", "Area (m²)"),
        "ivsm": ("Indice di vulnerabilità sociale e materiale (IVSM)",
                 "Social and material vulnerability index (IVSM)"),
        "ivsm_year": ("Anno dell'IVSM", "IVSM year"),
    },
    "sites": {
        "name": ("Denominazione", "Name"),
        "address": ("Indirizzo", "Address"),
        "ownership": ("Proprietà", "Ownership"),
        "owner": ("Proprietario", "Owner"),
        "former_use": ("Uso precedente", "Former use"),
        "state": ("Stato d'uso", "State of use"),
        "condition": ("Condizioni", "Condition"),
        "condition_notes": ("Note sulle condizioni", "Notes on condition"),
        "surface_m2": ("Superficie calcolata (m²)", "Computed surface (m²)"),
        "surface_declared_m2": ("Superficie dichiarata (m²)", "Declared surface (m²)"),
        "contamination": ("Contaminazione", "Contamination"),
        "constraints": ("Vincoli", "Constraints"),
    },
    "projects": {
        "cup": ("CUP", "CUP code"),
        "implementing_body": ("Soggetto attuatore", "Implementing body"),
        "implementing_body_cf": ("Codice fiscale del soggetto attuatore",
                                 "Implementing body tax code"),
        "status": ("Stato di avanzamento", "Progress"),
        "start_date": ("Data di inizio", "Start date"),
        "end_date": ("Data di fine", "End date"),
        "total_cost_eur": ("Costo totale (EUR)", "Total cost (EUR)"),
        "funding_requested_eur": ("Finanziamento richiesto (EUR)", "Funding requested (EUR)"),
        "funding_granted_eur": ("Finanziamento concesso (EUR)", "Funding granted (EUR)"),
        "pnrr_granted_eur": ("di cui PNRR (EUR)", "of which NRRP (EUR)"),
        "programme_codes": ("Misure / programmi", "Measures / programmes"),
        "istat_codes": ("Comuni (codici ISTAT)", "Municipalities (ISTAT codes)"),
        "site_ids": ("Aree collegate", "Linked sites"),
        "housing_units_fragile": ("Alloggi per nuclei fragili", "Homes for fragile households"),
        "cultural_space_m2": ("Spazi culturali (m²)", "Cultural space (m²)"),
        "community_space_m2": ("Spazi di comunità (m²)", "Community space (m²)"),
        "productive_space_m2": ("Spazi produttivi (m²)", "Productive space (m²)"),
        "regenerated_m2": ("Superficie rigenerata (m²)", "Regenerated surface (m²)"),
        "geom_source": ("Origine della geometria", "Geometry source"),
        "cup_status": ("Stato del CUP", "CUP status"),
        "scope": ("Ambito territoriale", "Territorial scope"),
        "funding_approx": ("Importi approssimati", "Approximate amounts"),
        "phase": ("Fase attuale", "Current phase"),
        "physical_progress_pct": ("Avanzamento fisico (%)", "Physical progress (%)"),
        "spent_eur": ("Spesa sostenuta (EUR)", "Amount spent (EUR)"),
        "paid_eur": ("Importo liquidato (EUR)", "Amount paid (EUR)"),
        "progress_date": ("Data dell'ultimo avanzamento", "Date of the latest progress record"),
        "published": ("Pubblicato sul sito", "Published on the website"),
    },
    "mobility_links": {
        "kind": ("Tipo di collegamento", "Link type"),
        "network": ("Rete", "Network"),
        "typology": ("Tipologia", "Typology"),
        "length_m": ("Lunghezza (m)", "Length (m)"),
    },
    "transit_stops": {
        "mode": ("Modo di trasporto", "Transport mode"),
        "name": ("Fermata", "Stop"),
        "lines": ("Linee", "Lines"),
    },    # Issue 11: calls, needs and a project's records (progress, milestones, tenders).
    "calls": {
        "funder": ("Ente finanziatore", "Issuer"),
        "funding_source": ("Fonte di finanziamento", "Funding source"),
        "programme_code": ("Codice del programma / misura", "Programme / measure code"),
        "themes": ("Temi", "Themes"),
        "eligible_beneficiaries": ("Beneficiari ammessi", "Eligible beneficiaries"),
        "eligible_istat_codes": ("Comuni ammessi (codici ISTAT)",
                                 "Eligible municipalities (ISTAT codes)"),
        "opens_on": ("Data di apertura", "Opening date"),
        "closes_on": ("Data di chiusura", "Closing date"),
        "budget_eur": ("Dotazione (EUR)", "Budget (EUR)"),
        "max_grant_eur": ("Contributo massimo (EUR)", "Maximum grant (EUR)"),
        "url": ("Collegamento al bando", "Link to the call"),
    },
    "needs": {
        "istat_code": ("Comune (codice ISTAT)", "Municipality (ISTAT code)"),
        "category": ("Categoria", "Category"),
        "applicant": ("Soggetto richiedente", "Applicant"),
        "priority": ("Priorità (1 alta – 5 bassa)", "Priority (1 high – 5 low)"),
        "status": ("Stato del bisogno", "Status of the need"),
        "estimated_cost_eur": ("Costo stimato (EUR)", "Estimated cost (EUR)"),
        "needed_by": ("Necessario entro", "Needed by"),
        "referent_id": ("Referente", "Referent"),
    },
    "progress_reports": {
        "project_id": ("Intervento", "Project"),
        "reference_date": ("Data di riferimento", "Reference date"),
        "phase": ("Fase", "Phase"),
        "physical_progress_pct": ("Avanzamento fisico (%)", "Physical progress (%)"),
        "spent_eur": ("Spesa sostenuta (EUR)", "Amount spent (EUR)"),
        "paid_eur": ("Importo liquidato (EUR)", "Amount paid (EUR)"),
        "notes": ("Note", "Notes"),
    },
    "milestones": {
        "project_id": ("Intervento", "Project"),
        "kind": ("Tipo", "Kind"),
        "planned_date": ("Data prevista", "Planned date"),
        "actual_date": ("Data effettiva", "Actual date"),
        "indicator": ("Indicatore", "Indicator"),
        "unit": ("Unità di misura", "Unit"),
        "planned_value": ("Valore previsto", "Planned value"),
        "achieved_value": ("Valore conseguito", "Achieved value"),
        "notes": ("Note", "Notes"),
        "late": ("In ritardo", "Late"),
        "days_late": ("Giorni di ritardo", "Days late"),
    },
    "tenders": {
        "project_id": ("Intervento", "Project"),
        "cig": ("CIG", "CIG code"),
        "amount_eur": ("Importo (EUR)", "Amount (EUR)"),
        "award_date": ("Data di aggiudicazione", "Award date"),
        "contractor": ("Aggiudicatario", "Contractor"),
    },
}


def field_label(collection: str, name: str) -> Label:
    """The (it, en) label of a column; the column name itself when none is known."""
    own = FIELD_LABELS.get(collection, {})
    return own.get(name) or _COMMON.get(name) or (name, name)
