"""The ``rigenera`` command: the service's own management entry point.

    rigenera run [--workers N]   cluster (if embedded) + migrate + demo data if empty + serve
    rigenera stop                stop a running server and the embedded cluster
    rigenera db start|stop|status|url
    rigenera migrate
    rigenera load-demo
    rigenera load-open-data DIR [--keep-demo] [--regis-scope FILE] [--dry-run]
                                 every built-in source found in DIR (imports/sources/)
    rigenera demo remove         delete the invented demo rows (history keeps them)
    rigenera import FILE --collection C [--layer L] [--mapping M.yml] [--crs EPSG:N]
                    [--dry-run] [--skip-invalid] [--rejected R.csv] [--json]
    rigenera serve [--workers N]   N API processes (default RIGENERA_WORKERS, 1)
    rigenera user add USERNAME --role ROLE [--comuni ISTAT,...] [--password-stdin]
    rigenera user passwd|disable|enable USERNAME;  rigenera user list
    rigenera user set USERNAME [--role ROLE] [--comuni ISTAT,...]
    rigenera token issue USERNAME [--days 90];  token list USERNAME;  token revoke ID
    rigenera styles [--check] [--lang it|en]   QML/SLD/MapLibre from styles/rigenera.yaml
    rigenera export COLLECTION --format gpkg|geojson|csv|xlsx [--filter CQL2] [--comuni ...] [-o FILE]
    rigenera report [--by comune|programme|status|phase|year] [--comuni ...] [--programme CODE]
                    [--lang it|en] --format json|csv|xlsx|gpkg|pdf [-o FILE]
    rigenera backup [-o PATH]            pg_dump + stored files + manifest, one .tar
    rigenera restore PATH [--force] [-j N]  verified, into an empty database, checked
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from rigenera.errors import RigeneraError, UsageError
from rigenera.settings import Settings

LOG = logging.getLogger("rigenera")


def _cluster(settings: Settings):  # type: ignore[no-untyped-def]  # noqa: ANN202
    from rigenera.cluster import LocalCluster

    return LocalCluster(settings.state_dir, settings.pg_port, settings.pg_database)


def _dsn(settings: Settings) -> str:
    from rigenera.factory import resolve_dsn

    return resolve_dsn(settings)


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    if settings.database_url and args.action != "url":
        print("DATABASE_URL is set: the embedded cluster is not used.", file=sys.stderr)
        return 0 if args.action in {"status", "stop"} else 1
    cluster = _cluster(settings)
    if args.action == "start":
        cluster.ensure()
        print(f"PostGIS cluster running on 127.0.0.1:{settings.pg_port} ({cluster.datadir})")
    elif args.action == "stop":
        print("stopped" if cluster.stop() else "not running")
    elif args.action == "status":
        running = cluster.running()
        print(f"{'running' if running else 'stopped'}: {cluster.datadir} port {settings.pg_port}")
        return 0 if running else 3
    elif args.action == "url":
        print(settings.database_url or cluster.dsn)
    return 0


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    from rigenera.migrate import migrate

    applied = migrate(_dsn(settings))
    print("applied: " + ", ".join(applied) if applied else "schema up to date")
    return 0


def cmd_load_demo(settings: Settings, args: argparse.Namespace) -> int:
    from rigenera.loaders.demo import is_empty, load_demo
    from rigenera.migrate import migrate

    dsn = _dsn(settings)
    migrate(dsn)
    if args.if_empty and not is_empty(dsn):
        print("database already has data: demo not loaded")
        return 0
    counts = load_demo(dsn)
    print("demo loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def cmd_load_open_data(settings: Settings, args: argparse.Namespace) -> int:
    """Every built-in source of the folder in one transaction; a summary per source."""
    from rigenera.imports.sources import load_open_data
    from rigenera.migrate import migrate

    dsn = _dsn(settings)
    migrate(dsn)
    result = load_open_data(dsn, Path(args.directory), keep_demo=args.keep_demo,
                            scope=Path(args.regis_scope) if args.regis_scope else None,
                            dry_run=args.dry_run)
    if result.demo_removed:
        print("demo rimosso / demo removed: "
              + ", ".join(f"{k} {v}" for k, v in result.demo_removed.items()))
    if result.demo_kept:
        print("ATTENZIONE: dati dimostrativi mantenuti accanto ai dati reali (--keep-demo) / "
              "WARNING: demo rows kept next to real data: "
              + ", ".join(f"{k} {v}" for k, v in result.demo_kept.items()))
    for batch, report in result.reports:
        c = report.counts
        print(f"{batch.source.name} -> {batch.collection}: read {c['read']}, created "
              f"{c['created']}, updated {c['updated']}, unchanged {c['unchanged']}"
              + (f" (import {report.id})" if report.id else ""))
        for note in report.notes:
            print(f"  {note.code}: {note.message}"
                  + (f" [{note.count}]" if note.count is not None else "")
                  + (f": {', '.join(map(str, note.items[:10]))}"
                     + (" ..." if len(note.items) > 10 else "") if note.items else ""))
    for table, n in result.counts().items():
        print(f"{table}: {n}")
    print(f"{'dry run, nothing written / ' if args.dry_run else ''}{result.seconds:.1f} s")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """`demo remove`: the invented rows go (in history as deletions); real rows stay."""
    import psycopg2

    from rigenera.imports.sources.demo import remove_demo
    from rigenera.migrate import migrate

    dsn = _dsn(settings)
    migrate(dsn)
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            removed = remove_demo(cur)
    finally:
        conn.close()
    print("demo rimosso / demo removed: "
          + (", ".join(f"{k} {v}" for k, v in removed.items()) or "nessuna riga / no rows"))
    return 0


def _read_password(args: argparse.Namespace) -> str:
    import getpass

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Ripeti / repeat: ") != password:
            raise UsageError("le password non coincidono / passwords differ")
    return password


def _db(settings: Settings):  # type: ignore[no-untyped-def]  # noqa: ANN202
    import psycopg2

    from rigenera.migrate import migrate

    dsn = _dsn(settings)
    migrate(dsn)
    return psycopg2.connect(dsn)


def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    """Accounts: add (with role and comuni), passwd, set (role, comuni), list, disable, enable.

    Every change takes effect on the next request in every server process (migration 0008).
    """
    import psycopg2

    from rigenera.auth import hash_password

    conn = _db(settings)
    try:
        with conn, conn.cursor() as cur:
            if args.action == "list":
                cur.execute("""SELECT a.username, a.role, a.active,
                                      string_agg(c.istat_code, ',' ORDER BY c.istat_code)
                                 FROM rigenera.accounts a LEFT JOIN rigenera.account_comuni c
                                USING (username) GROUP BY a.username ORDER BY a.username""")
                for username, role, active, comuni in cur.fetchall():
                    print(f"{username}\t{role}\t{'active' if active else 'disabled'}\t{comuni or ''}")
                return 0
            if not args.username:
                raise UsageError("USERNAME richiesto / required")
            if args.action in ("disable", "enable"):
                # Takes effect on the next request in every server process (migration 0008).
                cur.execute("UPDATE rigenera.accounts SET active = %s, updated_at = now()"
                            " WHERE username = %s", (args.action == "enable", args.username))
                if cur.rowcount == 0:
                    raise UsageError(f"utente {args.username} inesistente / no such user")
                if args.action == "disable":
                    cur.execute("UPDATE rigenera.tokens SET revoked_at = now() WHERE username = %s"
                                " AND revoked_at IS NULL", (args.username,))
                print(f"{args.username} {args.action}d")
                return 0
            if args.action == "set":
                return _set_account(cur, args)
            try:
                password_hash = hash_password(_read_password(args))
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            if args.action == "passwd":
                cur.execute("UPDATE rigenera.accounts SET password_hash = %s, updated_at = now()"
                            " WHERE username = %s", (password_hash, args.username))
                if cur.rowcount == 0:
                    raise UsageError(f"utente {args.username} inesistente / no such user")
                print(f"password of {args.username} changed")
                return 0
            if not args.role:
                raise UsageError("--role richiesto / required")
            comuni = [c.strip() for c in (args.comuni or "").split(",") if c.strip()]
            if args.role == "technician" and not comuni:
                raise UsageError("un tecnico ha almeno un comune (--comuni) / a technician "
                                      "needs --comuni")
            cur.execute("INSERT INTO rigenera.accounts (username, full_name, role, password_hash)"
                        " VALUES (%s, %s, %s, %s)",
                        (args.username, args.full_name, args.role, password_hash))
            for code in comuni:
                cur.execute("INSERT INTO rigenera.account_comuni VALUES (%s, %s)",
                            (args.username, code))
            print(f"{args.username} ({args.role}) added")
    except psycopg2.Error as exc:
        raise UsageError(f"rifiutato dal database / refused: {exc.diag.message_primary}"
                              + (f" ({exc.diag.constraint_name})" if exc.diag.constraint_name
                                 else "")) from None
    finally:
        conn.close()
    return 0


def _set_account(cur: Any, args: argparse.Namespace) -> int:
    """`user set USERNAME [--role R] [--comuni A,B]`: a new role and/or set of comuni."""
    if not args.role and args.comuni is None:
        raise UsageError("--role o --comuni richiesto / --role or --comuni required")
    cur.execute("SELECT role FROM rigenera.accounts WHERE username = %s FOR UPDATE",
                (args.username,))
    row = cur.fetchone()
    if row is None:
        raise UsageError(f"utente {args.username} inesistente / no such user")
    role = args.role or row[0]
    if args.role:
        cur.execute("UPDATE rigenera.accounts SET role = %s WHERE username = %s",
                    (role, args.username))
    if args.comuni is not None:
        comuni = [c.strip() for c in args.comuni.split(",") if c.strip()]
        cur.execute("DELETE FROM rigenera.account_comuni WHERE username = %s"
                    " AND NOT istat_code = ANY(%s)", (args.username, comuni))
        for code in comuni:
            cur.execute("INSERT INTO rigenera.account_comuni VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        (args.username, code))
    cur.execute("SELECT count(*) FROM rigenera.account_comuni WHERE username = %s",
                (args.username,))
    if role == "technician" and cur.fetchone()[0] == 0:
        raise UsageError("un tecnico ha almeno un comune (--comuni) / a technician needs --comuni")
    print(f"{args.username} updated")
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    """Bearer tokens: issue (printed once), list, revoke."""
    from rigenera.auth import new_token

    conn = _db(settings)
    try:
        with conn, conn.cursor() as cur:
            if args.action == "issue":
                token, digest = new_token()
                cur.execute(
                    "INSERT INTO rigenera.tokens (username, token_hash, label, expires_at)"
                    " SELECT username, %s, %s, now() + make_interval(days => %s)"
                    " FROM rigenera.accounts WHERE username = %s AND active RETURNING id",
                    (digest, args.label, args.days, args.target))
                row = cur.fetchone()
                if row is None:
                    raise UsageError(f"utente {args.target} inesistente o disattivato / "
                                          "no such active user")
                print(token)
            elif args.action == "list":
                cur.execute("SELECT id, username, label, created_at, expires_at, revoked_at"
                            " FROM rigenera.tokens WHERE username = %s ORDER BY id", (args.target,))
                for row in cur.fetchall():
                    print("\t".join("" if v is None else str(v) for v in row))
            else:
                cur.execute("UPDATE rigenera.tokens SET revoked_at = now()"
                            " WHERE id::text = %s AND revoked_at IS NULL", (args.target,))
                if cur.rowcount == 0:
                    raise UsageError(f"token {args.target} inesistente o già revocato / "
                                          "no such active token")
                print(f"token {args.target} revoked")
    finally:
        conn.close()
    return 0


def cmd_styles(_: Settings, args: argparse.Namespace) -> int:
    """Generate the map styles (styles/README.md); --check: exit 1 if the files are stale."""
    from rigenera.styles import LANGS, STYLES_DIR, build, stale, write

    outputs = build([args.lang] if args.lang else LANGS)
    if args.check:
        old = stale(outputs, STYLES_DIR, all_langs=not args.lang)
        for rel in old:
            print(f"stale: styles/{rel}", file=sys.stderr)
        if old:
            print("run `rigenera styles` to regenerate them", file=sys.stderr)
        return 1 if old else 0
    changed = write(outputs, STYLES_DIR)
    print(f"{len(outputs)} style files in {STYLES_DIR}, {len(changed)} written"
          + "".join(f"\n  {rel}" for rel in changed))
    return 0


def _pid_file(settings: Settings) -> Path:
    return settings.runtime_dir / "server.pid"


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from rigenera.exports.cli import run

    return run(_dsn(settings), args)


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from rigenera.reports.cli import run

    return run(_dsn(settings), args)


def _workers(settings: Settings, args: argparse.Namespace) -> int:
    """--workers N, else RIGENERA_WORKERS (settings.workers)."""
    workers = getattr(args, "workers", None)
    if workers is None:
        return settings.workers
    if not 1 <= workers <= 64:  # the bounds of settings.workers
        raise UsageError("--workers: da 1 a 64 / from 1 to 64")
    return int(workers)


def _database(settings: Settings) -> str:
    """resolve_dsn without importing the web app (8 s of imports on this machine)."""
    return settings.database_url or str(_cluster(settings).ensure())


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from rigenera.backup.cli import run_backup

    return run_backup(settings, _database(settings), args)


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """The target is resolved (the embedded cluster started) only once the archive is
    verified: a damaged backup touches nothing."""
    from rigenera.backup.cli import run_restore

    return run_restore(settings, lambda: _database(settings), args)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Migrate and prepare once, then serve with N worker processes (rigenera/workers.py)."""
    from rigenera import workers

    count = _workers(settings, args)
    pid_file = _pid_file(settings)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(str(os.getpid()))
    print(f"Rigenera: sito / website {settings.base_url}/  ·  OGC API {settings.base_url}/ogc  "
          f"· {count} worker{'s' if count > 1 else ''}  (Ctrl-C per fermare / to stop)",
          flush=True)
    try:
        workers.serve(settings, count)
    finally:
        pid_file.unlink(missing_ok=True)
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    args.if_empty = True
    cmd_load_demo(settings, args)
    return cmd_serve(settings, args)


def cmd_stop(settings: Settings, _: argparse.Namespace) -> int:
    """The server (its parent process, which ends its workers; then any worker left), then
    the embedded cluster."""
    from rigenera import workers

    pid_file = _pid_file(settings)
    parent = int(pid_file.read_text().strip()) if pid_file.exists() else None
    if parent is not None or workers.registered(settings):
        left = workers.stop(settings, parent)
        if left:
            print(f"server still running: {', '.join(map(str, left))}", file=sys.stderr)
            return 1
        print(f"server {parent} stopped" if parent else "server workers stopped")
        pid_file.unlink(missing_ok=True)
    if not settings.database_url:
        cluster = _cluster(settings)
        print("PostGIS cluster " + ("stopped" if cluster.stop() else "was not running"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rigenera", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="embedded PostGIS cluster")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.set_defaults(func=cmd_db)
    sub.add_parser("migrate", help="apply schema migrations").set_defaults(func=cmd_migrate)
    demo = sub.add_parser("load-demo", help="load the demo data set")
    demo.add_argument("--if-empty", action="store_true", help="only into an empty database")
    demo.set_defaults(func=cmd_load_demo)
    od = sub.add_parser("load-open-data", help="load the real open data files of a folder")
    od.add_argument("directory")
    od.add_argument("--keep-demo", action="store_true",
                    help="keep the invented demo rows next to the real ones (default: removed)")
    od.add_argument("--regis-scope", metavar="FILE",
                    help="YAML listing the PNRR measures to import (default: "
                         "imports/sources/regis_scope.yml)")
    od.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    dm = sub.add_parser("demo", help="the demo data set: remove")
    dm.add_argument("action", choices=["remove"])
    dm.set_defaults(func=cmd_demo)
    od.set_defaults(func=cmd_load_open_data)
    from rigenera.imports.cli import add_parser as add_import

    add_import(sub)
    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--workers", type=int, metavar="N",
                       help="API worker processes (default RIGENERA_WORKERS, 1)")
    serve.set_defaults(func=cmd_serve)
    user = sub.add_parser("user", help="accounts: add, passwd, set (role, comuni), list, "
                                       "disable, enable")
    user.add_argument("action", choices=["add", "passwd", "set", "list", "disable", "enable"])
    user.add_argument("username", nargs="?")
    user.add_argument("--role", choices=["admin", "coordinator", "technician", "volunteer"])
    user.add_argument("--comuni", help="ISTAT codes, comma-separated (technicians)")
    user.add_argument("--full-name")
    user.add_argument("--password-stdin", action="store_true",
                      help="read the password from standard input")
    user.set_defaults(func=cmd_user)
    tok = sub.add_parser("token", help="bearer tokens: issue USERNAME, list USERNAME, revoke ID")
    tok.add_argument("action", choices=["issue", "list", "revoke"])
    tok.add_argument("target", help="USERNAME (issue, list) or token ID (revoke)")
    tok.add_argument("--label")
    tok.add_argument("--days", type=int, default=90, help="validity (default 90 days)")
    tok.set_defaults(func=cmd_token)
    styles = sub.add_parser("styles", help="generate QML, SLD and MapLibre styles from styles/rigenera.yaml")
    styles.add_argument("--check", action="store_true", help="exit 1 if the files on disk are stale")
    styles.add_argument("--lang", choices=["it", "en"], help="only this language (default: both)")
    styles.set_defaults(func=cmd_styles)
    from rigenera.exports.cli import add_parser as add_export_parser

    add_export_parser(sub).set_defaults(func=cmd_export)
    # issue 11, reports
    from rigenera.reports.cli import add_parser as add_report_parser

    add_report_parser(sub).set_defaults(func=cmd_report)
    # issue 13, backups
    from rigenera.backup.cli import add_parsers as add_backup_parsers

    backup, restore = add_backup_parsers(sub)
    backup.set_defaults(func=cmd_backup)
    restore.set_defaults(func=cmd_restore)
    run = sub.add_parser("run", help="set up everything and serve")
    run.add_argument("--workers", type=int, metavar="N",
                     help="API worker processes (default RIGENERA_WORKERS, 1)")
    run.set_defaults(func=cmd_run)
    sub.add_parser("stop", help="stop server and embedded cluster").set_defaults(func=cmd_stop)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    from rigenera.observability import configure_logging

    configure_logging(settings)  # text or JSON, redacted, with request ids
    try:
        return int(args.func(settings, args))
    except RigeneraError as exc:
        print(f"rigenera: {exc.description}", file=sys.stderr)
        for e in exc.errors:
            print(f"  {e.get('field')}: {e.get('reason')}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
