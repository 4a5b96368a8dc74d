"""Versioned SQL migrations: ``migrations/NNNN_name.sql``, applied in order.

Plain SQL keeps the schema readable by anyone who knows PostGIS; each file
runs in its own transaction under an advisory lock (two services starting at
once cannot both migrate), and its checksum is recorded so an edited,
already-applied file is reported instead of silently ignored.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources

import psycopg2

from rigenera.errors import MigrationError

LOG = logging.getLogger(__name__)
_LOCK_ID = 0x52494745  # "RIGE"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    """The migrations shipped with this code, in order."""
    found = []
    for entry in resources.files("rigenera.migrations").iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text()))
    return sorted(found, key=lambda m: m.version)


def migrate(dsn: str, target: int | None = None) -> list[str]:
    """Apply pending migrations (up to version `target`, if given); return the names applied.

    A target lets tests build a database as an older release left it, then upgrade it."""
    applied_now: list[str] = []
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
            cur.execute("CREATE SCHEMA IF NOT EXISTS rigenera")
            cur.execute(
                """CREATE TABLE IF NOT EXISTS rigenera.schema_migrations (
                     version integer PRIMARY KEY, name text NOT NULL,
                     checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            cur.execute("SELECT version, checksum FROM rigenera.schema_migrations")
            done = dict(cur.fetchall())
        shipped = available()
        newest = max((m.version for m in shipped), default=0)
        ahead = [v for v in done if v > newest]
        if ahead:
            raise MigrationError(
                f"the database has migrations {ahead} that this code does not know: upgrade Rigenera"
            )
        for m in shipped:
            if target is not None and m.version > target:
                break
            if m.version in done:
                if done[m.version] != m.checksum:
                    LOG.warning("migration %04d_%s changed after it was applied", m.version, m.name)
                continue
            try:
                with conn, conn.cursor() as cur:
                    cur.execute(m.sql)
                    cur.execute(
                        "INSERT INTO rigenera.schema_migrations (version, name, checksum)"
                        " VALUES (%s, %s, %s)",
                        (m.version, m.name, m.checksum),
                    )
            except psycopg2.Error as exc:
                raise MigrationError(
                    f"migration {m.version:04d}_{m.name} failed: {exc.pgerror or exc}"
                ) from exc
            LOG.info("applied migration %04d_%s", m.version, m.name)
            applied_now.append(f"{m.version:04d}_{m.name}")
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
        conn.commit()
        conn.close()
    return applied_now
