"""Configuration, read once from the environment and injected everywhere.

Following tipg, settings are a pydantic-settings object handed to the app
factory, so tests can build app variants without touching the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """All knobs of the service; environment variables use the RIGENERA_ prefix."""

    model_config = SettingsConfigDict(env_prefix="RIGENERA_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "RIGENERA_DATABASE_URL"),
        description="PostgreSQL/PostGIS DSN. Unset: use the project's own embedded cluster.",
    )
    # Issue 13: streaming replicas for reads (database.py). Comma-separated DSNs in
    # DATABASE_READ_URLS; unset, every read goes to DATABASE_URL (or the embedded cluster).
    database_read_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=AliasChoices("DATABASE_READ_URLS", "RIGENERA_DATABASE_READ_URLS"),
        description="Streaming replicas' DSNs (comma-separated) for reads.",
    )
    replica_max_lag_bytes: int = Field(
        default=16 * 1024 * 1024, ge=0,
        description="A replica further behind the primary's WAL than this is out of rotation.")
    replica_max_lag_seconds: float = Field(
        default=5.0, gt=0,
        description="... or one whose replay has not caught up for this long.")
    replica_check_seconds: float = Field(
        default=1.0, gt=0, description="How often each replica's replay position is read.")
    replica_wait_ms: int = Field(
        default=300, ge=0,
        description="Read-your-writes: how long a read waits for a replica to replay the "
        "caller's last write before it is served by the primary instead.")
    read_mark_seconds: int = Field(
        default=300, ge=1,
        description="How long after a write the writer's reads follow their write's LSN.")
    workers: int = Field(default=1, ge=1, le=64,
                         description="API worker processes (`rigenera serve --workers N`).")
    # Set by `rigenera serve` for its workers, never by hand (rigenera/workers.py): the
    # parent has migrated the database and written pygeoapi's documents under runtime_dir,
    # so each worker reads them instead of measuring and writing them again.
    prepared_by_parent: bool = False
    worker_header: bool = Field(
        default=False,
        description="Debug: name the answering worker's PID in an X-Rigenera-Worker header "
        "(load-balancing checks, the tests). Off in production: it tells the outside how "
        "many processes run.")
    # Issue 13: the tile cache (ogc/tilecache.py): generated tiles kept in memory and on
    # disk under tile_cache_dir (default STATE_DIR/tiles), valid until an edit touches them.
    tile_cache: bool = True
    tile_cache_dir: Path | None = None
    tile_cache_memory_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    tile_cache_disk_bytes: int = Field(default=1024 * 1024 * 1024, ge=0)
    # The tiles of the metro area (the comuni's extent) up to this zoom are built after
    # start-up and rebuilt every tile_cache_refresh_seconds when an edit or an import made
    # them stale, so a first drawing never waits for PostGIS (-1: no prewarming).
    tile_cache_prewarm_zoom: int = Field(default=12, ge=-1, le=16)
    tile_cache_refresh_seconds: float = Field(default=10.0, gt=0)
    # rigenera.tile_changes keeps the edits of the last one to two of these periods; a
    # cached tile not checked for that long is rebuilt once (migration 0032).
    tile_cache_prune_seconds: float = Field(default=600.0, gt=0)
    # Issue 13: observability and headers (observability.py, security headers).
    log_format: str = Field(default="text", pattern="^(text|json)$",
                            description="json: one JSON object per line, with request id.")
    metrics: bool = Field(default=True, description="Prometheus metrics at /metrics.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*"],
        description="Origins whose web pages may read our feeds (comma-separated; '*' any, "
        "the default for open data; empty: none). Reads only, never with credentials: "
        "writes are never allowed cross-site.")
    hsts: bool | None = Field(
        default=None,
        description="Strict-Transport-Security (default: when public_url starts with https).")
    # Who may read /metrics (routes/metrics.py): a client on the loopback interface (the
    # host's own Prometheus or an operator's curl), or one sending this bearer token (a
    # Prometheus on another host or container). The reverse proxy never forwards /metrics.
    metrics_token: SecretStr | None = Field(
        default=None, min_length=16,
        description="Bearer token that opens /metrics to non-loopback scrapers "
        "(RIGENERA_METRICS_TOKEN; at least 16 characters).")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(
        default=None, description="Base URL clients see (default http://HOST:PORT)."
    )
    state_dir: Path = Field(
        default=PROJECT_ROOT / ".rigenera",
        description="Embedded cluster data, generated pygeoapi config, PID files.",
    )
    pg_port: int = Field(
        default=25432,
        description="Port of the embedded cluster on 127.0.0.1 (below Linux's ephemeral range, "
        "so outgoing connections never hold it).",
    )
    pg_database: str = "rigenera"
    read_pool_size: int = 8
    write_pool_size: int = 4
    write_attempts: int = Field(
        default=3, ge=1,
        description="Runs of a write transaction that deadlocked or could not be serialised "
        "before answering 409 with Retry-After.",
    )
    ogc_default_items: int = 100
    ogc_max_items: int = 10000
    fast_reads: bool = Field(
        default=True,
        description="Serve GeoJSON items from SQL-built pages (False: pygeoapi for everything).",
    )
    log_level: str = "info"
    # Issue 12, the website (web/): login sessions last `web_session_hours` (a working day);
    # the session cookie is Secure when the public URL is https (or when forced).
    web_session_hours: int = Field(default=12, ge=1, le=24 * 30)
    web_cookie_secure: bool | None = Field(
        default=None, description="Secure cookies (default: when public_url starts with https).")
    web_basemap_url: str | None = Field(
        default=None, pattern=r"^https?://\S+\{z\}\S*$",
        description="Optional raster background for the public map, an XYZ template "
        "(https://.../{z}/{x}/{y}.png). Unset: only our own layers, no outside request.")
    web_basemap_attribution: str | None = None
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Addresses of reverse proxies whose X-Forwarded-For names the client "
        "(login throttling is per client address).",
    )

    # Request bodies, in bytes: refused with 413 while they are read, before they are held
    # (limits.py). Writes authenticate first: an anonymous writer's body is never read.
    body_limit_default: int = 64 * 1024  # GET, DELETE, reviews, revert, everything else
    body_limit_feature: int = 5 * 1024 * 1024  # Part 4 POST/PUT/PATCH of one feature
    body_limit_changeset: int = 50 * 1024 * 1024  # POST /api/changesets
    body_limit_query_anonymous: int = 256 * 1024  # CQL2-JSON queries, process executions
    body_limit_query: int = 1024 * 1024  # the same, with credentials
    authorization_max_bytes: int = 4096  # a longer Authorization header: 431
    # Import files (imports/files.py): POST /api/imports is bounded by import_max_bytes while
    # it is received (plus room for the multipart envelope and a mapping); a zip or XLSX may
    # unpack to import_max_unpacked_bytes, no member over 1 MiB (nor the whole) inflating
    # more than import_max_ratio times, with at most import_max_members members.
    import_max_bytes: int = 200 * 1024 * 1024
    import_max_unpacked_bytes: int = 1024 * 1024 * 1024
    import_max_ratio: int = 500
    import_max_members: int = 100
    import_workers: int = Field(
        default=2, ge=1,
        description="Imports run at once by the API (threads); more are answered 503 + "
        "Retry-After.",
    )

    # Failed logins, counted in PostgreSQL (shared by every server process): a key that
    # reaches its limit within the window is refused with 429 for login_block_seconds,
    # doubled for each block in a row up to login_block_max_seconds. The account-wide
    # limit spares the address where the account last logged in (no lock-out by others).
    login_window_seconds: int = 60
    login_failures_per_account_address: int = 5
    login_failures_per_address: int = 20
    login_failures_per_account: int = 30
    login_block_seconds: int = 60
    login_block_max_seconds: int = 900
    # Password hashing (argon2, ~50 ms of CPU) runs in its own small thread pool at low
    # CPU priority; beyond this many waiting checks, 503 with Retry-After at once.
    password_workers: int = 1
    password_queue: int = 16

    # Issue 11, monitoring: project documents (monitoring/storage.py). `documents_storage`
    # chooses the backend ("folder": files under documents_dir, default STATE_DIR/documents);
    # an upload is bounded by documents_max_bytes while it is received (413).
    documents_storage: str = Field(default="folder", pattern="^folder$")
    documents_dir: Path | None = None
    documents_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1)

    # Issue 13, backups (backup/): `rigenera backup` writes its archives here unless told
    # --output (default STATE_DIR/backups); `rigenera restore` runs pg_restore with this many
    # parallel jobs (default: the machine's cores, at most 4).
    backup_dir: Path | None = None
    restore_jobs: int | None = Field(default=None, ge=1, le=32)

    @field_validator("database_read_urls", "cors_origins", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        """Lists come from the environment as comma-separated text (DSNs hold no commas)."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def base_url(self) -> str:
        """The URL prefix every link we emit starts with."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def ogc_url(self) -> str:
        """pygeoapi needs the mount prefix inside server.url."""
        return f"{self.base_url}/ogc"

    @property
    def runtime_dir(self) -> Path:
        return self.state_dir / "run"
