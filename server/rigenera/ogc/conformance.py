"""The conformance classes we really implement.

pygeoapi's list is static per provider type and omits the Part 3 filter
classes, although CQL2 filtering works, so QGIS >= 3.32 would filter
client-side. Part 4 (create, replace, update with PATCH, delete, ETags) is
served by our editing service (rigenera.editing), not by pygeoapi's
unauthenticated handlers, which are never routed. OGC API Processes: pygeoapi's
classes when a process is configured, without callbacks (not supported by our
manager, rigenera/processes/manager.py), with job-list and dismiss when the manager
runs asynchronous jobs (pygeoapi omits both although it serves /jobs and DELETE). We
answer with pygeoapi's list corrected accordingly, rendered by pygeoapi's own template
for HTML.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pygeoapi.api import API, F_HTML, APIRequest, all_apis
from pygeoapi.api import CONFORMANCE_CLASSES as CORE_CLASSES
from pygeoapi.util import render_j2_template, to_json

# Callbacks (subscriber URLs) are not supported by our manager.
NOT_IMPLEMENTED: set[str] = {"http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/callback"}
ADDED = [
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
]
# OGC API - Processes - Part 1: asynchronous execution, the job list and dismissing a job.
JOB_CLASSES = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss",
]


def conformance_classes(api: API) -> list[str]:
    apis = all_apis()
    classes = set(CORE_CLASSES)
    for resource in api.config["resources"].values():
        for provider in resource.get("providers", []):
            if provider["type"] == "feature":
                classes.update(apis["itemtypes"].CONFORMANCE_CLASSES_FEATURES)
            elif provider["type"] in apis:
                classes.update(apis[provider["type"]].CONFORMANCE_CLASSES)
    if any(r.get("type") == "process" for r in api.config["resources"].values()):
        classes.update(apis["process"].CONFORMANCE_CLASSES)
        if getattr(api.manager, "is_async", False):
            classes.update(JOB_CLASSES)
    classes.update(ADDED)
    return sorted(classes - NOT_IMPLEMENTED)


def conformance(api: API, request: APIRequest) -> tuple[dict[str, Any], int, str]:
    """Drop-in for pygeoapi.api.conformance with the corrected list."""
    doc = {"conformsTo": conformance_classes(api)}
    headers = request.get_response_headers(**api.api_headers)
    if request.format == F_HTML:
        content = render_j2_template(api.tpl_config, api.config["server"]["templates"],
                                     "conformance.html", doc, request.locale)
        return headers, HTTPStatus.OK, content
    return headers, HTTPStatus.OK, to_json(doc, api.pretty_print)
