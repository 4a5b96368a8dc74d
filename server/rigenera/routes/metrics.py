"""/metrics: the Prometheus exposition of metrics.py, for the operators' scraper only.

Who may read it, and why so: the metrics name routes, pool sizes, failed logins and edit
rates - nothing personal, but a map of the service's load that the public has no use for.
A client on the loopback interface (Prometheus or curl on the same host) reads it freely;
anyone else needs ``Authorization: Bearer <RIGENERA_METRICS_TOKEN>`` (a scraper in another
container or host), compared in constant time. Not an account role: an argon2 check per
scrape (every 15 s, per worker) would be spent for nothing, and Prometheus' own
``authorization`` setting sends a static bearer token. The reverse proxy in production
does not forward /metrics at all (README, "Metrics").

Several workers (PROMETHEUS_MULTIPROC_DIR set by ``rigenera serve --workers N``): each
writes its values to files there and a scrape of any worker sums them
(prometheus_client's MultiProcessCollector). Database pools are sampled at scrape time
and, with several workers, every few seconds by each worker, so the sum is current.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.responses import Response

from rigenera.errors import Forbidden
from rigenera.settings import Settings

router = APIRouter(tags=["health"], include_in_schema=False)

# How often each worker writes its pools' use to the shared files (multiprocess mode).
SAMPLE_SECONDS = 5.0


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def sample_pools(state: Any) -> None:
    """Pool sizes and connections in use (database.Pools.publish_sizes: no query)."""
    pools = getattr(state, "pools", None)
    if pools is not None:
        pools.publish_sizes()


@contextlib.asynccontextmanager
async def pool_sampler(app: FastAPI) -> AsyncIterator[None]:
    """In multiprocess mode, each worker writes its pools' use every SAMPLE_SECONDS (a scrape
    reaches one worker; the others' values must not be stale)."""
    if multiprocess_dir() is None:
        yield
        return

    async def loop() -> None:
        while True:
            sample_pools(app.state)
            await asyncio.sleep(SAMPLE_SECONDS)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _loopback(request: Request) -> bool:
    client = request.client
    if client is None:
        return False
    try:
        return ipaddress.ip_address(client.host).is_loopback
    except ValueError:
        return False


def _allowed(request: Request, settings: Settings) -> bool:
    token = settings.metrics_token
    if token is not None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
                value.strip().encode(), token.get_secret_value().encode()):
            return True
    return _loopback(request)


def _forget_dead_workers(directory: str) -> None:
    """A worker that crashed and was replaced leaves its files (gauge_livesum_<pid>.db...):
    its last pool sizes would be summed in for ever. uvicorn's supervisor has no child-exit
    hook, so the scrape drops the live gauges of processes that no longer exist."""
    from prometheus_client import multiprocess

    pids = {path.stem.rsplit("_", 1)[-1] for path in Path(directory).glob("*_*.db")}
    for pid in pids:
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(int(pid), directory)  # type: ignore[no-untyped-call]
        except PermissionError:
            pass  # alive, another user's


def exposition() -> bytes:
    """The text format of every metric: this process's, or all workers' summed."""
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY)
    from prometheus_client import multiprocess

    _forget_dead_workers(directory)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


@router.get("/metrics")
async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format (loopback clients, or the metrics bearer token)."""
    settings: Settings = request.app.state.settings
    if not _allowed(request, settings):
        raise Forbidden("Metriche riservate: dall'host stesso o con il token delle metriche / "
                        "metrics are reserved: from the host itself or with the metrics token",
                        errors=[{"field": "Authorization", "reason": "metrics token required"}])
    sample_pools(request.app.state)
    body = await asyncio.to_thread(exposition)  # files to read with several workers
    return Response(body, media_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})
