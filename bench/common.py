"""What every benchmark shares: its arguments, its throwaway database, Odoo loaded in the process, the
measure of a step (seconds and SQL queries) and the clean-up.

A benchmark parses ``parser(__doc__, "oms_bench_<name>").parse_args()`` (plus its own options), then
``with_database(opts, run)``: a database with oms_ecommerce installed (no demo), ``run(opts)``, the database
dropped unless ``--keep``. Inside ``run``, ``registry = open_registry(opts)`` loads Odoo and ``measure(registry,
func)`` runs ``func(env)`` in its own transaction, committed, and returns (its result, seconds, queries).
"""

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ODOO_SRC = os.environ.get("ODOO_SRC", "/opt/odoo19")


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value else default


def say(*parts):
    print(*parts, flush=True)


def parser(doc, db, pg=False, **kwargs):
    """The benchmark's argument parser: where Odoo and the addons are, the database, ``--keep``; with ``pg``,
    the PostgreSQL server as options (``--db-host``, ``--db-port``, ``--db-user``; default: the PG* variables)."""
    result = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)
    result.add_argument("--odoo-src", default=ODOO_SRC)
    result.add_argument(
        "--addons-path", default=os.environ.get("ADDONS_PATH", f"{ROOT},{ODOO_SRC}/addons,{ODOO_SRC}/odoo/addons")
    )
    result.add_argument("--db", default=os.environ.get("OMS_BENCH_DB") or db)
    result.add_argument(
        "--keep",
        action="store_true",
        default=os.environ.get("OMS_BENCH_KEEP") == "1",
        help="keep the database at the end (env OMS_BENCH_KEEP=1)",
    )
    if pg:
        result.add_argument("--db-host", default=os.environ.get("PGHOST") or None)
        result.add_argument("--db-port", type=int, default=env_int("PGPORT", 5432))
        result.add_argument("--db-user", default=os.environ.get("PGUSER") or None)
    return result


def db_args():
    """odoo-bin's database options from the PG* environment variables."""
    args = []
    for env, flag in (("PGHOST", "--db_host"), ("PGPORT", "--db_port"), ("PGUSER", "--db_user")):
        if os.environ.get(env):
            args.append(f"{flag}={os.environ[env]}")
    return args


def odoo_command(opts, *extra):
    """odoo-bin on the benchmark's database, without workers or crons, quiet."""
    return [
        sys.executable,
        f"{opts.odoo_src}/odoo-bin",
        "-d",
        opts.db,
        f"--addons-path={opts.addons_path}",
        "--workers=0",
        "--max-cron-threads=0",
        "--log-level=warn",
        *db_args(),
        *extra,
    ]


def create_database(opts, template=None):
    """A new database with oms_ecommerce installed (no demo), or a copy of ``template``."""
    subprocess.run(["dropdb", "--if-exists", opts.db], check=True)
    started = time.perf_counter()
    if template:
        subprocess.run(["createdb", "-T", template, opts.db], check=True)
        print(f"database {opts.db}: copied from {template}")
        return
    subprocess.run(odoo_command(opts, "-i", "oms_ecommerce", "--stop-after-init"), check=True)
    print(f"database {opts.db}: oms_ecommerce installed (no demo) in {time.perf_counter() - started:.0f} s")


def drop_database(opts):
    from odoo.sql_db import close_all

    close_all()
    subprocess.run(["dropdb", "--if-exists", opts.db], check=False)


def start_server(opts, purpose="the report styles"):
    """An Odoo server on 127.0.0.1:``opts.port`` (wkhtmltopdf fetches the report styles from it)."""
    server = subprocess.Popen(
        odoo_command(opts, f"--http-port={opts.port}", "--http-interface=127.0.0.1", f"--db-filter=^{opts.db}$"),
        stdout=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", opts.port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError(f"the Odoo server for {purpose} did not start on port {opts.port}")


def with_database(opts, run, server=False, template=None):
    """A throwaway database (and an Odoo server on it if ``server``), ``run(opts)``, then the clean-up."""
    create_database(opts, template)
    process = start_server(opts) if server else None
    try:
        run(opts)
    finally:
        if process:
            process.terminate()
            process.wait(timeout=30)
        if not opts.keep:
            drop_database(opts)


def open_registry(opts):
    """Odoo loaded in this process on the benchmark's database: its registry."""
    sys.path.insert(0, opts.odoo_src)
    import odoo.service.server
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-d", opts.db, f"--addons-path={opts.addons_path}", "--log-level=warn", *db_args()])
    odoo.service.server.load_server_wide_modules()
    return Registry.new(opts.db)


def measure(registry, func, context=None):
    """``func(env)`` as the superuser in a transaction of its own, committed: (its result, seconds, queries)."""
    from odoo import SUPERUSER_ID, api, sql_db

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, context or {})
        env.invalidate_all()
        queries = sql_db.sql_counter
        started = time.perf_counter()
        result = func(env)
        cr.commit()
        seconds = time.perf_counter() - started
        queries = sql_db.sql_counter - queries
    return result, seconds, queries
