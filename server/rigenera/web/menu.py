"""The reserved area's menu: each section, its Italian and English name, who sees it.

The roles here only decide what the menu shows; every page checks its own role with a
dependency (security.py), and the API's rules still apply to every write.
"""

from __future__ import annotations

from dataclasses import dataclass

from rigenera.auth import Principal, Role

A, C, T, V = Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN, Role.VOLUNTEER


@dataclass(frozen=True)
class Section:
    href: str
    it: str
    en: str
    roles: frozenset[Role]


SECTIONS = (
    Section("/area-riservata/pubblicazione", "Pubblicazione", "Publication", frozenset({A, C, V})),
    Section("/area-riservata/referenti", "Referenti e contatti", "Referents and contacts",
            frozenset({A, C, V})),
    Section("/area-riservata/eventi", "Eventi", "Events", frozenset({A, C, V})),
    Section("/area-riservata/revisione", "Revisione geometrie", "Geometry review",
            frozenset({A, C, V})),
    Section("/area-riservata/da-localizzare", "Da localizzare", "To locate", frozenset({A, C, T})),
    Section("/area-riservata/bisogni", "Bisogni e bandi", "Needs and calls", frozenset({A, C, T, V})),
)

ROLE_LABELS = {
    A: ("amministratore", "administrator"),
    C: ("coordinatore", "coordinator"),
    T: ("tecnico comunale", "municipal technician"),
    V: ("volontario", "volunteer"),
    Role.PUBLIC: ("pubblico", "public"),
}


def reserved_menu(user: Principal | None) -> list[Section]:
    if user is None:
        return []
    return [s for s in SECTIONS if user.role in s.roles]
