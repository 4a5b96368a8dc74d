"""The ``rigenera`` command: the service's own management entry point.

    rigenera run                 cluster (if embedded) + migrate + demo data if empty + serve
    rigenera stop                stop a running server and the embedded cluster
    rigenera db start|stop|status|url
    rigenera migrate
    rigenera load-demo
    rigenera load-open-data DIR  real open data of the Milan metro area (see data/README.md)
    rigenera serve
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path

from rigenera.errors import RigeneraError
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
    from rigenera.loaders.opendata import load_open_data
    from rigenera.migrate import migrate

    dsn = _dsn(settings)
    migrate(dsn)
    counts = load_open_data(dsn, Path(args.directory))
    for table, n in counts.items():
        print(f"{table}: {n}")
    return 0


def _pid_file(settings: Settings) -> Path:
    return settings.runtime_dir / "server.pid"


def cmd_serve(settings: Settings, _: argparse.Namespace) -> int:
    import uvicorn

    from rigenera.factory import create_app

    app = create_app(settings)
    pid_file = _pid_file(settings)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(str(os.getpid()))
    print(f"Rigenera: {settings.base_url}/ogc  (Ctrl-C per fermare / to stop)", flush=True)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                    loop="uvloop", http="httptools", access_log=False)
    finally:
        pid_file.unlink(missing_ok=True)
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    args.if_empty = True
    cmd_load_demo(settings, args)
    return cmd_serve(settings, args)


def cmd_stop(settings: Settings, _: argparse.Namespace) -> int:
    pid_file = _pid_file(settings)
    if pid_file.exists():
        pid = int(pid_file.read_text().strip())
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            for _i in range(50):
                os.kill(pid, 0)
                time.sleep(0.1)
        print(f"server {pid} stopped")
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
    od.set_defaults(func=cmd_load_open_data)
    sub.add_parser("serve", help="serve the API").set_defaults(func=cmd_serve)
    sub.add_parser("run", help="set up everything and serve").set_defaults(func=cmd_run)
    sub.add_parser("stop", help="stop server and embedded cluster").set_defaults(func=cmd_stop)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(settings, args))
    except RigeneraError as exc:
        print(f"rigenera: {exc.description}", file=sys.stderr)
        for e in exc.errors:
            print(f"  {e.get('field')}: {e.get('reason')}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
