"""Comune names by ISTAT code, for lists that show codes to people (no GUI imports)."""

from __future__ import annotations

from typing import Any, Dict

from .client import ApiError


def comuni_names(client: Any) -> Dict[str, str]:
    """ISTAT code -> name, from the comuni collection in one request without geometries;
    empty when the server cannot answer (names are a nicety, codes still show)."""
    try:
        page = client.get_json("/ogc/collections/comuni/items",
                               {"skipGeometry": "true", "limit": 1000, "f": "json"})
    except ApiError:
        return {}
    names: Dict[str, str] = {}
    for f in page.get("features", []):
        props = f.get("properties") or {}
        code = str(props.get("istat_code") or f.get("id") or "")
        if code:
            names[code] = str(props.get("name") or code)
    return names
