"""Client text and numbers that PostgreSQL cannot take: refused once, with the field named.

PostgreSQL text cannot hold NUL, and UTF-8 cannot encode the unpaired UTF-16
surrogates that JSON escapes such as "\\ud800" decode to; a float8 holds no
number beyond 1.8e308 (`1e400` parses as infinity) and a bigint nothing beyond
2**63-1. Sent on, each of these became a 500 from the driver or the server.
Every way in uses these checks: the path and query string of every request
(`RequestTextGuard`), JSON bodies (editing payloads, changeset and review
comments, changeset ids), CQL2 filter literals (ogc/literals.py) and process
inputs. The answer is a 400 whose `errors` name the field and the reason.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from rigenera.errors import InvalidParameter, rigenera_error_response

# What PostgreSQL text cannot hold: NUL, and UTF-16 surrogates (from "\ud800" escapes).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_REASON = "contains a NUL character or an unpaired surrogate"
INT64 = 2**63 - 1


def invalid(field: str, reason: str, it: str | None = None) -> InvalidParameter:
    """A 400 naming `field`; the description in Italian and English."""
    return InvalidParameter(f"{field}: {it + ' / ' if it else ''}{reason}",
                            errors=[{"field": field, "reason": reason}])


def storable(value: str) -> bool:
    return UNSTORABLE.search(value) is None


def check_text(field: str, value: str) -> str:
    """`value` unchanged, or a 400 naming `field` when PostgreSQL could not store it."""
    if not storable(value):
        raise invalid(field, UNSTORABLE_REASON,
                      "contiene un carattere NUL o un surrogato isolato")
    return value


def optional_text(doc: dict[str, Any], field: str, max_length: int) -> str | None:
    """An optional text member of a JSON object (a changeset's or a review's comment):
    absent or null, else a string PostgreSQL can store, at most `max_length` long."""
    value = doc.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(field, "must be a string", "atteso un testo")
    if len(value) > max_length:
        raise invalid(field, f"longer than {max_length} characters",
                      f"più lungo di {max_length} caratteri")
    return check_text(field, value)


def finite_number(value: Any) -> bool:
    """A JSON number that fits a double: not a boolean, NaN, an infinity or a 400-digit int."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def parse_number(field: str, text: str) -> float:
    """A query-string number: finite (`1e400` and `nan` are refused, `1e-400` is 0)."""
    try:
        value = float(text)
    except ValueError:
        raise invalid(field, "must be a number", "atteso un numero") from None
    if not math.isfinite(value):
        raise invalid(field, "must be a finite number (1e400 overflows)",
                      "atteso un numero finito")
    return value


def parse_int(field: str, text: str, low: int = -INT64 - 1, high: int = INT64) -> int:
    """A query-string integer within [low, high] (a bigint by default)."""
    try:
        value = int(text)
    except ValueError:
        raise invalid(field, "must be an integer", "atteso un intero") from None
    if not low <= value <= high:
        raise invalid(field, f"out of range ({low} to {high})", "fuori intervallo")
    return value


def shown(value: str, limit: int = 40) -> str:
    """Client text quoted in a message: short, as it is when printable, else escaped."""
    text = value[:limit]
    return text if text.isprintable() and storable(text) else ascii(text)


class RequestTextGuard:
    """Refuses a request whose path or query string is not text PostgreSQL can hold.

    Two things in a URL cannot reach the database: NUL (`%00`), and bytes that are
    not UTF-8 (`%ED%A0%80`, an encoded surrogate; `%C3` alone). URL decoding let the
    first through to item ids, equality filters, CQL2 strings and history lookups on
    every route (a 500 from the driver) and silently turned the second into U+FFFD.
    Checked before any route; a URL without such escapes costs one regex search.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = url_problem(scope)
            if problem is not None:
                from starlette.requests import Request

                response = rigenera_error_response(Request(scope, receive), problem)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# Escapes that can make a URL's text unstorable: NUL, and bytes beyond ASCII (valid UTF-8
# or not: only decoding tells). A URL without them is plain ASCII text (a regex in C:
# under a microsecond, where decoding every query took 10-20).
_SUSPECT_ESCAPE = re.compile(rb"%(?:00|[89a-fA-F][0-9a-fA-F])")


def _text_problem(raw: bytes) -> str | None:
    try:
        text = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return "is not valid UTF-8 (percent-encoded bytes such as %ED%A0%80)"
    return None if "\x00" not in text else "contains a NUL character (%00)"


def url_problem(scope: Scope) -> InvalidParameter | None:
    """What is wrong with a request's path or query string, naming the parameter."""
    path: bytes = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "replace")
    if _SUSPECT_ESCAPE.search(path) or not path.isascii():
        reason = _text_problem(path)
        if reason:
            return invalid("path", f"the URL path {reason}",
                           "il percorso dell'URL non è testo valido")
    query: bytes = scope.get("query_string", b"")
    if (query.isascii() and not _SUSPECT_ESCAPE.search(query)) or _text_problem(query) is None:
        return None  # ASCII only, or the whole query decodes: no parameter to look for
    for part in query.split(b"&"):
        name, _, value = part.replace(b"+", b" ").partition(b"=")
        if reason := _text_problem(name):
            return invalid("query", f"a parameter name {reason}",
                           "un nome di parametro non è testo valido")
        reason = _text_problem(value)
        if reason:
            return invalid(unquote_to_bytes(name).decode("utf-8"), reason,
                           "non è testo valido")
    return None
