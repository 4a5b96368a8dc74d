"""CRS names: the list we publish and the spellings clients actually send.

pygeoapi accepts only the URI form (``http://www.opengis.net/def/crs/EPSG/0/32632``)
and answers 400 to ``EPSG:32632``, which GDAL, QGIS users and curl users type.
We accept ``EPSG:NNNN``, ``urn:ogc:def:crs:EPSG::NNNN``, ``CRS84``/``OGC:CRS84``
and rewrite them to the URI before pygeoapi sees the request.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
STORAGE_CRS = CRS84

# CRS84, WGS84 lat/lon, UTM 32N, Monte Mario / Italy zone 1 (Gauss-Boaga),
# RDN2008 / UTM 32N, Web Mercator.
SUPPORTED_EPSG = (4326, 32632, 3003, 6707, 3857)
SUPPORTED_CRS = [CRS84] + [f"http://www.opengis.net/def/crs/EPSG/0/{c}" for c in SUPPORTED_EPSG]

CRS_PARAMS = ("crs", "bbox-crs", "filter-crs")

_EPSG_SHORT = re.compile(r"^(?:EPSG|epsg):+(\d+)$")
_EPSG_URN = re.compile(r"^urn:ogc:def:crs:EPSG:[^:]*:(\d+)$", re.IGNORECASE)
_CRS84 = re.compile(r"^(?:(?:OGC|urn:ogc:def:crs:OGC:1\.3):)?CRS84$", re.IGNORECASE)


def normalise_crs(value: str) -> str:
    """Return the URI form of a CRS name; unknown spellings pass through unchanged."""
    v = value.strip()
    if _CRS84.match(v):
        return CRS84
    m = _EPSG_SHORT.match(v) or _EPSG_URN.match(v)
    if m:
        return f"http://www.opengis.net/def/crs/EPSG/0/{int(m.group(1))}"
    if v.startswith("https://www.opengis.net/def/crs/"):
        return "http://" + v.removeprefix("https://")
    return v


def normalise_query_string(raw: bytes) -> bytes:
    """Rewrite the CRS parameters of a query string; leave everything else alone."""
    if not raw or not any(p.encode() in raw for p in CRS_PARAMS):
        return raw
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    changed = [(k, normalise_crs(v) if k in CRS_PARAMS else v) for k, v in pairs]
    if changed == pairs:
        return raw
    return urlencode(changed).encode("latin-1")
