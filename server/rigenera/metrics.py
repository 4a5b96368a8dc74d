"""Prometheus metrics: every counter, histogram and gauge the service exposes at /metrics.

One module holds them all so a dashboard's author finds every name in one place, and
rooms only import the object they bump (``metrics.EDITS.labels(...).inc()``). Names
follow Prometheus' conventions: ``rigenera_`` prefix, base units (seconds, bytes),
``_total`` for counters. Labels are bounded sets (route templates, never raw paths or
user names: no personal data ever reaches a label).

With several workers (``rigenera serve --workers N``) prometheus_client runs in its
multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by the CLI before any worker imports
this module), so a scrape of any worker sums all of them (observability.py).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# HTTP, by route template (e.g. /ogc/collections/{collection_id}/items) and method.
REQUESTS = Counter("rigenera_http_requests_total", "HTTP requests answered",
                   ["route", "method", "status"])
LATENCY = Histogram("rigenera_http_request_duration_seconds", "Time to answer a request",
                    ["route", "method"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

# Database pools (database.py): size and connections in use, per pool (primary-write,
# primary-read, replica:<n>); replicas' lag and whether they are in rotation.
POOL_SIZE = Gauge("rigenera_db_pool_connections", "Connections open in a pool", ["pool"],
                  multiprocess_mode="livesum")
POOL_IN_USE = Gauge("rigenera_db_pool_in_use", "Connections of a pool in use", ["pool"],
                    multiprocess_mode="livesum")
REPLICA_LAG_BYTES = Gauge("rigenera_replica_lag_bytes",
                          "WAL bytes a replica has not replayed yet", ["replica"],
                          multiprocess_mode="max")
REPLICA_IN_ROTATION = Gauge("rigenera_replica_in_rotation",
                            "1 while a replica serves reads, 0 while it is out", ["replica"],
                            multiprocess_mode="min")
READS_ROUTED = Counter("rigenera_db_reads_total",
                       "Reads by where they were served (replica, primary) and why",
                       ["target", "reason"])

# Editing (editing/service.py and every write path that goes through errors.py).
EDITS = Counter("rigenera_edits_total", "Features written", ["collection", "operation"])
CONFLICTS = Counter("rigenera_edit_conflicts_total",
                    "Writes refused because the stored version changed (409/412)", ["kind"])
LOGIN_FAILURES = Counter("rigenera_login_failures_total", "Failed logins", ["reason"])

# Caches (ogc/tilecache.py, web/render.py): hits, misses, invalidations.
CACHE = Counter("rigenera_cache_requests_total", "Cache look-ups", ["cache", "result"])
CACHE_INVALIDATED = Counter("rigenera_cache_invalidated_total",
                            "Cache entries dropped because an edit touched them", ["cache"])
