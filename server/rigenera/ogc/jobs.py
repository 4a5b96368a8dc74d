"""Asynchronous process jobs on /ogc: the routes and their OpenAPI paths.

The job list and a job's status are pygeoapi's (``get_jobs``, HTML included), over our
manager's store (rigenera/processes/manager.py, rigenera.process_jobs). Results and
dismissal are ours: pygeoapi answers a failed job's results with a bare 400 and its
DELETE without a Content-Type, which its own Starlette glue then fails on (a 500).
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rigenera.errors import exception_document
from rigenera.ogc.params import query_int

Endpoint = Callable[[Request], Awaitable[Response]]


def _no_such_job(job_id: str) -> Response:
    return exception_document(404, "NoSuchJob", f"Lavoro {job_id} inesistente / no job {job_id}")


def job_routes(api: Any, endpoint: Callable[..., Endpoint]) -> list[Route]:
    """/jobs, /jobs/{job_id} (GET, DELETE), /jobs/{job_id}/results for pygeoapi's `api`;
    `endpoint` wraps one of pygeoapi's API functions (ogc/routes.py)."""
    import pygeoapi.api.processes as processes_api
    from pygeoapi.process.base import JobNotFoundError

    get_job = endpoint(processes_api.get_jobs, "job_id")
    list_jobs = endpoint(processes_api.get_jobs)

    async def jobs(request: Request) -> Response:
        """pygeoapi's job list, after checking offset and limit fit a bigint (a larger
        offset reached PostgreSQL: a 500); pygeoapi's own checks do the rest."""
        query_int(request.query_params, "offset", 0)
        query_int(request.query_params, "limit", 0)
        return await list_jobs(request)

    async def job(request: Request) -> Response:
        """A job's status; DELETE dismisses it (its row and results go)."""
        if request.method == "GET":
            return await get_job(request)
        job_id = request.path_params["job_id"]
        try:
            await asyncio.to_thread(api.manager.delete_job, job_id)
        except JobNotFoundError:
            return _no_such_job(job_id)
        doc = {"type": "process", "jobID": job_id, "status": "dismissed",
               "message": "Lavoro annullato / job dismissed", "progress": 100,
               "links": [{"href": f"{api.base_url}/jobs", "rel": "up",
                          "type": "application/json", "title": "Jobs"}]}
        return Response(json.dumps(doc), media_type="application/json")

    async def results(request: Request) -> Response:
        """The output as produced; a failed job's OGC exception with its status; not
        ready or unknown: 404."""
        job_id = request.path_params["job_id"]
        row = await asyncio.to_thread(api.manager.job_result, job_id)
        if row is None:
            return _no_such_job(job_id)
        if row["status"] == "failed":
            error = row["error"] or {}
            return exception_document(int(row["error_status"] or 500),
                                      str(error.get("code", "NoApplicableCode")),
                                      str(error.get("description", "")))
        if row["status"] != "successful":
            return exception_document(404, "ResultNotReady", "Risultati non ancora pronti / "
                                      "results not ready yet")
        return Response(row["output"], media_type=row["mimetype"])

    return [Route("/jobs", jobs),
            Route("/jobs/{job_id}", job, methods=["GET", "DELETE"]),
            Route("/jobs/{job_id}/results", results)]


# Asynchronous execution (OGC API - Processes - Part 1: job-list, dismiss) ---------------
PREFER = {"name": "Prefer", "in": "header", "required": False,
          "description": "`respond-async`: run as a job (201 + Location); otherwise the "
                         "process runs synchronously.",
          "schema": {"type": "string"}}
_NULLABLE_TEXT = {"type": "string", "nullable": True}
_STATUS_INFO = {
    "type": "object", "required": ["jobID", "status"],
    "properties": {
        "type": {"type": "string", "enum": ["process"]},
        "processID": {"type": "string"}, "jobID": {"type": "string"},
        "status": {"type": "string", "enum": ["accepted", "running", "successful", "failed",
                                              "dismissed"]},
        "message": _NULLABLE_TEXT, "progress": {"type": "integer", "nullable": True},
        "created": _NULLABLE_TEXT, "started": _NULLABLE_TEXT, "finished": _NULLABLE_TEXT,
        "updated": _NULLABLE_TEXT,
        "links": {"type": "array", "items": {"type": "object"}}}}
JOB_CREATED = {"description": "A job was created (`Prefer: respond-async`): its status, "
                              "and its URL in `Location`.",
               "headers": {"Location": {"schema": {"type": "string"}}},
               "content": {"application/json": {
                   "schema": {"$ref": "#/components/schemas/statusInfo"}}}}
_JOB_ID = {"name": "jobId", "in": "path", "required": True, "schema": {"type": "string"}}


def job_paths(components: dict[str, Any]) -> dict[str, Any]:
    """The /jobs paths of our OpenAPI document (ogc/openapi.py), and their schemas."""
    from rigenera.ogc.openapi import GEOJSON, _op, _param, _ref, _responses

    components["schemas"]["statusInfo"] = copy.deepcopy(_STATUS_INFO)
    components["schemas"]["jobList"] = {
        "type": "object", "required": ["jobs", "links"],
        "properties": {"jobs": {"type": "array", "items": _ref("schemas", "statusInfo")},
                       "links": {"type": "array", "items": {"type": "object"}}}}
    cached = [_param("If-None-Match")]
    # pygeoapi answers f=jsonld with the JSON document typed application/ld+json.
    status = {"description": "The job's status.",
              "content": {"application/json": {"schema": _ref("schemas", "statusInfo")},
                          "application/ld+json": {"schema": _ref("schemas", "statusInfo")},
                          "text/html": {"schema": {"type": "string"}}}}
    return {
        "/jobs": {"get": _op(
            "getJobs", "The jobs, newest first", ["processes"],
            [_param("f"), _param("limit"), _param("offset"), *cached],
            _responses({"200": {"description": "The job list.", "content": {
                "application/json": {"schema": _ref("schemas", "jobList")},
                "application/ld+json": {"schema": _ref("schemas", "jobList")},
                "text/html": {"schema": {"type": "string"}}}}}, "400", cached=True))},
        "/jobs/{jobId}": {
            "get": _op("getStatus", "A job's status", ["processes"],
                       [_JOB_ID, _param("f"), *cached],
                       _responses({"200": status}, "404", cached=True)),
            "delete": _op("dismiss", "Dismiss a job (its results are deleted)", ["processes"],
                          [_JOB_ID],
                          _responses({"200": {"description": "Dismissed.", "content": {
                              "application/json": {"schema": _ref("schemas", "statusInfo")}}}},
                                     "404"))},
        "/jobs/{jobId}/results": {"get": _op(
            "getResult", "A job's results: the output as the execution asked for it; a failed "
                         "job's exception with its status", ["processes"], [_JOB_ID, *cached],
            _responses({"200": {"description": "The output.", "content": {
                GEOJSON: {"schema": _ref("schemas", "featureCollectionGeoJSON")},
                "application/json": {"schema": {"type": "object"}}}}}, "400", "404",
                cached=True))},
    }
