"""Italian by default, English on request: the visitor's language and the `tr` helper.

Texts are written in both languages where they are used (`tr("Progetti", "Projects")`),
not in a catalogue: a page can never show one language half-translated, and parallel work
on different pages never touches one shared file. The choice comes from `?lang=` (then
kept in a cookie), else the cookie, else Italian.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

LANGS = ("it", "en")
DEFAULT = "it"
COOKIE = "lang"


def language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    kept = request.cookies.get(COOKIE)
    return kept if kept in LANGS else DEFAULT


def translator(lang: str) -> Callable[[str, str], str]:
    """`tr(it, en)`: the text in the page's language."""
    english = lang == "en"

    def tr(it: str, en: str) -> str:
        return en if english else it

    return tr


def asked_language(request: Request) -> str | None:
    """The language the visitor has just chosen with `?lang=` (to keep in the cookie)."""
    asked = request.query_params.get("lang")
    return asked if asked in LANGS and asked != request.cookies.get(COOKIE) else None
