#!/usr/bin/env python3
"""Intake benchmark of oms_ecommerce: plain Odoo against the channel API, order by order and in batch.

One run, one throwaway database (``oms_bench``, dropped at the end unless OMS_BENCH_KEEP=1):

(a) plain Odoo: per order, in this process, look the customer up by email, ``sale.order.create()``
    with 3 product lines and the shipping line, commit; then confirm it;
(b) the same orders one by one through ``POST /oms/v1/<code>/orders`` of a running ``odoo-bin``,
    each confirmed once the API answered;
(c) the same orders through ``POST /oms/v1/<code>/orders/batch`` (batches of up to 500), then confirmed;
(d) the same orders as Shopify sends them: one ``orders/create`` webhook each (the REST Admin ``Order``
    body, signed with ``X-Shopify-Hmac-Sha256``) to ``POST /oms/v1/<code>/webhooks`` of a Shopify channel with
    its default settings (shipments and stock levels pushed back: the confirmation's reservation enqueues
    the stock pushes of its SKUs), each confirmed once the webhook was answered.

Every path confirms each order the same way: ``sale.order.action_confirm()`` on that one order, in this
process, as admin, in a transaction of its own, right after its creation (for (c): after the batch). The
confirmation is thus the same call on the three paths; what oms_ecommerce adds to the confirmation of
channel orders (its steps, customer email, confirm activity) counts on (b) and (c). Confirming (b) and (c)
through the server's ``/jsonrpc`` would add an HTTP round trip and the RPC dispatch to them only. The
bench channel's confirmation policy is "by hand", so that the intake itself confirms nothing.

Queries are counted in this process with a query hook, and on the server from its access log
(``werkzeug`` INFO lines carry query count, SQL time and remaining time of each request). The intake
path ``oms.intake._receive()`` is also run in this process without HTTP, on fresh external ids.

Settings come from the command line or the environment: ODOO_SRC, ADDONS_PATH, PGHOST, PGPORT, PGUSER,
N (or OMS_BENCH_N), OMS_BENCH_DB, OMS_BENCH_KEEP=1, OMS_BENCH_REUSE=1. The last line printed is the
ratio line, e.g. ``ratio b/a=0.83 c/a=1.05 d/a=0.80`` (throughput of b, c and d over a's, creation +
confirmation).
"""

import contextlib
import cProfile
import hashlib
import hmac
import http.client
import io
import json
import os
import pstats
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path

import common
import psycopg2

ROOT = common.ROOT
CHANNEL_CODE = "bench"
CUSTOMERS = 20
PRODUCTS = [  # sku, name, list price, price the shop sends
    ("BENCH-MUG", "Bench Mug", 15.0, 12.5),
    ("BENCH-TEA", "Bench Tea", 9.0, 8.0),
    ("BENCH-BAG", "Bench Bag", 29.0, 24.9),
]
SHIPPING_METHOD, SHIPPING_PRICE = "standard", 4.99
MAX_BATCH = 500
ACCESS_LOG_RE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) \S+ '
    r"(?P<queries>\d+) (?P<sql>[\d.]+) (?P<other>[\d.]+)"
)
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


def parse_args():
    parser = common.parser(__doc__.split("\n\n")[0], "oms_bench", pg=True)
    parser.add_argument(
        "-n",
        "--orders",
        type=int,
        default=common.env_int("N", common.env_int("OMS_BENCH_N", 200)),
        help="orders per path (env N or OMS_BENCH_N; default 200)",
    )
    parser.add_argument("--batch-size", type=int, default=MAX_BATCH, help="orders per batch request (max 500)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed orders per path before timing (default 3)")
    parser.add_argument(
        "--inprocess",
        type=int,
        default=50,
        help="orders of the in-process intake measurement, per mode (default 50; 0 skips it)",
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary of the in-process intake")
    parser.add_argument(
        "--db-filter",
        action="store_true",
        default=os.environ.get("OMS_BENCH_DB_FILTER") == "1",
        help="serve with --db-filter too, as a server of several databases: Odoo then lists PostgreSQL's databases "
        "for every request without a session (env OMS_BENCH_DB_FILTER=1)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        default=os.environ.get("OMS_BENCH_REUSE") == "1",
        help="reuse the database if oms_ecommerce is installed in it (env OMS_BENCH_REUSE=1)",
    )
    args = parser.parse_args()
    if args.orders < 1 or not 1 <= args.batch_size <= MAX_BATCH or args.warmup < 0 or args.inprocess < 0:
        parser.error("need --orders >= 1, 1 <= --batch-size <= 500, --warmup >= 0, --inprocess >= 0")
    return args


# ----------------------------------------------------------------------------------------------
# Database
# ----------------------------------------------------------------------------------------------
def pg_connect(args, dbname):
    conn = psycopg2.connect(dbname=dbname, host=args.db_host, port=args.db_port, user=args.db_user)
    conn.autocommit = True
    return conn


def module_state(args):
    try:
        conn = pg_connect(args, args.db)
    except psycopg2.OperationalError:
        return None
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT state FROM ir_module_module WHERE name = 'oms_ecommerce'")
            row = cr.fetchone()
            return row and row[0]
    except psycopg2.Error:
        return None
    finally:
        conn.close()


def drop_database(args):
    conn = pg_connect(args, "postgres")
    try:
        with conn.cursor() as cr:
            cr.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    finally:
        conn.close()


def odoo_cmd(args, *extra):
    cmd = [
        sys.executable,
        str(Path(args.odoo_src) / "odoo-bin"),
        f"--addons-path={args.addons_path}",
        f"--db_port={args.db_port}",
    ]
    if args.db_host:
        cmd.append(f"--db_host={args.db_host}")
    if args.db_user:
        cmd.append(f"--db_user={args.db_user}")
    return [*cmd, *extra]


def install(args):
    """A fresh database with oms_ecommerce installed, without demo data."""
    drop_database(args)
    log = Path(tempfile.gettempdir()) / f"{args.db}-install.log"
    start = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(
            odoo_cmd(
                args,
                "-d",
                args.db,
                "-i",
                "oms_ecommerce",
                "--stop-after-init",
                "--workers=0",
                "--max-cron-threads=0",
                "--log-level=warn",
            ),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=1800,
            check=False,
        )
    if done.returncode != 0 or module_state(args) != "installed":
        sys.stderr.write(log.read_text()[-4000:])
        raise SystemExit(f"installing oms_ecommerce in {args.db} failed; log: {log}")
    log.unlink()
    return time.perf_counter() - start


# ----------------------------------------------------------------------------------------------
# Odoo in this process
# ----------------------------------------------------------------------------------------------
def load_odoo(args):
    sys.path.insert(0, args.odoo_src)
    import odoo
    from odoo.tools import config

    options = [
        f"--addons-path={args.addons_path}",
        f"--db_port={args.db_port}",
        "--log-level=warn",
        "--max-cron-threads=0",
        "--http-interface=127.0.0.1",
    ]
    if args.db_host:
        options.append(f"--db_host={args.db_host}")
    if args.db_user:
        options.append(f"--db_user={args.db_user}")
    config.parse_config(options, setup_logging=True)
    return odoo


class SqlMeter:
    """Counts the queries (and their time) run by this thread while active."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, cr, query, params, start, delay):
        self.count += 1
        self.seconds += delay

    @contextlib.contextmanager
    def active(self):
        thread = threading.current_thread()
        previous = getattr(thread, "query_hooks", ())
        thread.query_hooks = (*previous, self)
        try:
            yield self
        finally:
            thread.query_hooks = previous


class Phase:
    """Wall time, queries and SQL time of one phase of one path."""

    def __init__(self):
        self.seconds = 0.0
        self.meter = SqlMeter()

    @contextlib.contextmanager
    def timed(self):
        start = time.perf_counter()
        with self.meter.active():
            yield
        self.seconds += time.perf_counter() - start


def setup_data(registry):
    """Products, carrier, channel and customers of the benchmark (found again when they exist)."""
    from odoo import Command, api

    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
        company = env.ref("base.main_company")
        admin = env.ref("base.user_admin")
        Product = env["product.product"]
        products = {}
        for sku, name, list_price, _price in PRODUCTS:
            products[sku] = Product.search([("default_code", "=", sku)], limit=1) or Product.create(
                {
                    "name": name,
                    "default_code": sku,
                    "type": "consu",
                    "is_storable": True,
                    "list_price": list_price,
                    "weight": 0.5,
                }
            )
        carrier = env["delivery.carrier"].search([("name", "=", "Bench Post")], limit=1)
        if not carrier:
            ship = Product.create({"name": "Bench Shipping", "type": "service", "sale_ok": False, "list_price": 5.0})
            carrier = env["delivery.carrier"].create(
                {"name": "Bench Post", "delivery_type": "fixed", "fixed_price": 5.0, "product_id": ship.id}
            )
        channel = env["oms.channel"].with_context(active_test=False).search([("code", "=", CHANNEL_CODE)])
        if not channel:
            channel = env["oms.channel"].create(
                {
                    "name": "Bench Shop",
                    "code": CHANNEL_CODE,
                    "secret": secrets.token_urlsafe(24),
                    "company_id": company.id,
                    "warehouse_id": env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1).id,
                    "currency_id": company.currency_id.id,
                    "lang": "en_US",
                    "user_id": admin.id,
                    "carrier_map_ids": [Command.create({"method": SHIPPING_METHOD, "carrier_id": carrier.id})],
                }
            )
        if "confirm_policy" in channel._fields:
            channel.confirm_policy = "manual"  # the benchmark confirms every order itself, after its creation
        us = env.ref("base.us")
        state = env["res.country.state"].search([("country_id", "=", us.id), ("code", "=", "IL")], limit=1)
        for i in range(CUSTOMERS):
            values = customer(i)
            if not env["res.partner"].search([("email", "=", values["email"])], limit=1):
                env["res.partner"].create(
                    {
                        "name": values["name"],
                        "email": values["email"],
                        "phone": values["phone"],
                        "street": f"{i + 1} Main St",
                        "city": "Springfield",
                        "zip": "62701",
                        "state_id": state.id,
                        "country_id": us.id,
                        "customer_rank": 1,
                    }
                )
        return {
            "channel_id": channel.id,
            "secret": channel.secret,
            "company_id": company.id,
            "currency": company.currency_id.name,
            "admin_id": admin.id,
            "api_user_id": env.ref("oms_ecommerce.user_oms_api").id,
            "carrier_id": carrier.id,
            "carrier_name": carrier.name,
            "carrier_product_id": carrier.product_id.id,
        }


def customer(i):
    n = i % CUSTOMERS + 1
    return {
        "email": f"bench.customer{n:02d}@example.com",
        "name": f"Bench Customer {n:02d}",
        "phone": f"+1 555 01{n:02d}",
    }


def order_payload(tag, i, currency):
    """The i-th order as a shop sends it: 3 lines, a mapped shipping method, a paid payment."""
    who = customer(i)
    n = i % CUSTOMERS
    placed = datetime(2026, 11, 20, 10, 0, tzinfo=UTC) + timedelta(minutes=i)
    lines = [
        {"sku": sku, "quantity": 1 + (i + k) % 3, "unit_price": price, "discount": 10 if k == 1 else 0}
        for k, (sku, _name, _list, price) in enumerate(PRODUCTS)
    ]
    amount = sum(line["quantity"] * line["unit_price"] * (100 - line["discount"]) / 100 for line in lines)
    return {
        "external_id": f"{tag}-{i:05d}",
        "placed_at": placed.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "currency": currency,
        "customer": who,
        "shipping_address": {
            "name": who["name"],
            "street": f"{n + 1} Main St",
            "street2": "",
            "city": "Springfield",
            "zip": "62701",
            "state_code": "IL",
            "country_code": "US",
            "phone": who["phone"],
        },
        "lines": lines,
        "shipping": {"method": SHIPPING_METHOD, "price": SHIPPING_PRICE},
        "payment": {
            "status": "paid",
            "method": "card",
            "amount": round(amount + SHIPPING_PRICE, 2),
            "reference": f"ch_{tag}_{i}",
        },
    }


def plain_create(env, payload, ctx):
    """What a plain integration does: find the customer and the products, create the order."""
    from odoo import Command

    partner = env["res.partner"].search(
        [("email_normalized", "=", payload["customer"]["email"]), ("parent_id", "=", False)], limit=1
    )
    skus = [line["sku"] for line in payload["lines"]]
    products = {p.default_code: p.id for p in env["product.product"].search([("default_code", "in", skus)])}
    lines = [
        Command.create(
            {
                "product_id": products[line["sku"]],
                "product_uom_qty": line["quantity"],
                "price_unit": line["unit_price"],
                "discount": line["discount"],
            }
        )
        for line in payload["lines"]
    ]
    lines.append(
        Command.create(
            {
                "product_id": ctx["carrier_product_id"],
                "name": ctx["carrier_name"],
                "product_uom_qty": 1,
                "price_unit": payload["shipping"]["price"],
                "is_delivery": True,
            }
        )
    )
    placed = datetime.strptime(payload["placed_at"], "%Y-%m-%dT%H:%M:%SZ")
    order = env["sale.order"].create(
        {
            "partner_id": partner.id,
            "client_order_ref": payload["external_id"],
            "date_order": placed,
            "carrier_id": ctx["carrier_id"],
            "order_line": lines,
        }
    )
    return order.id


def confirm(registry, admin_id, order_id):
    """The confirmation every path uses: action_confirm() on one order, as admin, in its own transaction."""
    from odoo import api

    with registry.cursor() as cr:
        api.Environment(cr, admin_id, {})["sale.order"].browse(order_id).action_confirm()


def run_plain(registry, ctx, payloads):
    from odoo import api

    create, conf = Phase(), Phase()
    for payload in payloads:
        with create.timed(), registry.cursor() as cr:
            order_id = plain_create(api.Environment(cr, ctx["admin_id"], {}), payload, ctx)
        with conf.timed():
            confirm(registry, ctx["admin_id"], order_id)
    return create, conf


def api_env(cr, ctx):
    """The environment the API controller gives the intake: integration user, channel company, UTC."""
    from odoo import api

    return api.Environment(cr, ctx["api_user_id"], {"allowed_company_ids": [ctx["company_id"]], "tz": "UTC"})


def run_inprocess_intake(registry, ctx, single_payloads, batch_payloads, profile=None):
    """``oms.intake._receive()`` without HTTP: one call per order, then one call for all."""
    single, batch = Phase(), Phase()
    for payload in single_payloads:
        body = json.dumps(payload).encode()
        with single.timed(), registry.cursor() as cr:
            env = api_env(cr, ctx)
            if profile:
                profile.enable()
            ((status, _body),) = env["oms.intake"]._receive(env["oms.channel"].browse(ctx["channel_id"]), [body])
            if profile:
                profile.disable()
        if status != HTTPStatus.CREATED:
            raise SystemExit(f"in-process intake answered {status}: {_body}")
    if batch_payloads:
        with batch.timed(), registry.cursor() as cr:
            env = api_env(cr, ctx)
            results = env["oms.intake"]._receive(
                env["oms.channel"].browse(ctx["channel_id"]), batch_payloads, source="batch"
            )
        if any(status != HTTPStatus.CREATED for status, _body in results):
            raise SystemExit(f"in-process batch intake failed: {results[:3]}")
    return single, batch


# ----------------------------------------------------------------------------------------------
# The server
# ----------------------------------------------------------------------------------------------
def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``odoo-bin`` serving the bench database on a free loopback port, threaded (--workers 0)."""

    def __init__(self, args):
        self.args = args
        self.port = free_port()
        self.logfile = Path(tempfile.gettempdir()) / f"{args.db}-server-{os.getpid()}.log"
        self.proc = None

    def start(self, timeout=180):
        self.logfile.write_text("")
        cmd = odoo_cmd(
            self.args,
            # -d alone (no --db-filter): requests without a session (the channels') are served this database
            # without Odoo listing PostgreSQL's databases for each (db_list: ~3 ms a request), see the README.
            "-d",
            self.args.db,
            *([f"--db-filter=^{re.escape(self.args.db)}$"] if getattr(self.args, "db_filter", False) else []),
            "--workers=0",
            "--max-cron-threads=0",
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--logfile={self.logfile}",
            "--log-level=warn",
            "--log-handler=werkzeug:INFO",
        )
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"odoo-bin exited with {self.proc.returncode}; log: {self.logfile}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/web/health")
                if conn.getresponse().status == HTTPStatus.OK:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"odoo-bin did not answer /web/health within {timeout}s; log: {self.logfile}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)

    def log_offset(self):
        return self.logfile.stat().st_size

    def requests_since(self, offset, path_suffix):
        """(queries, sql seconds, other seconds) of each access-log line since ``offset`` for POST …suffix."""
        time.sleep(0.2)  # the access line is written before the body is sent; leave it time to land
        with self.logfile.open("rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", errors="replace")
        found = []
        for line in text.splitlines():
            match = ACCESS_LOG_RE.search(ANSI_RE.sub("", line))
            if match and match["method"] == "POST" and match["path"].endswith(path_suffix):
                found.append((int(match["queries"]), float(match["sql"]), float(match["other"])))
        return found


class ApiClient:
    """Signed requests to the channel API over one keep-alive connection."""

    def __init__(self, port, secret):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
        self.secret = secret.encode()

    def post(self, path, payload):
        body = json.dumps(payload).encode()
        # API.md v2: the timestamp, method, path and body are signed together.
        timestamp = str(int(time.time()))
        message = f"{timestamp}\nPOST\n{path}\n".encode() + body
        signature = hmac.new(self.secret, message, hashlib.sha256).hexdigest()
        self.conn.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "X-OMS-Timestamp": timestamp,
                "X-OMS-Signature": f"v2={signature}",
            },
        )
        response = self.conn.getresponse()
        data = response.read()
        try:
            return response.status, json.loads(data)
        except ValueError:
            return response.status, {"raw": data[:500].decode(errors="replace")}

    def close(self):
        self.conn.close()


def run_single(client, registry, ctx, payloads):
    post, conf = Phase(), Phase()
    for payload in payloads:
        with post.timed():
            status, body = client.post(f"/oms/v1/{CHANNEL_CODE}/orders", payload)
        if status != HTTPStatus.CREATED:
            raise SystemExit(f"POST /orders answered {status}: {body}")
        with conf.timed():
            confirm(registry, ctx["admin_id"], body["id"])
    return post, conf


def run_batch(client, registry, ctx, payloads, batch_size):
    post, conf = Phase(), Phase()
    ids = []
    for start in range(0, len(payloads), batch_size):
        with post.timed():
            status, body = client.post(
                f"/oms/v1/{CHANNEL_CODE}/orders/batch", {"orders": payloads[start : start + batch_size]}
            )
        results = body.get("results") or [{}]
        if status != HTTPStatus.OK or any(r.get("http_status") != HTTPStatus.CREATED for r in results):
            raise SystemExit(f"POST /orders/batch answered {status}: {str(body)[:1000]}")
        ids += [result["id"] for result in body["results"]]
    for order_id in ids:
        with conf.timed():
            confirm(registry, ctx["admin_id"], order_id)
    return post, conf


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------
def code_version(addons_path):
    """The commit of the oms_ecommerce Odoo loads, and whether it has uncommitted changes."""
    folders = [Path(folder) for folder in addons_path.split(",") if (Path(folder) / "oms_ecommerce").is_dir()]
    if not folders:
        return "not found"
    where = folders[0]
    try:
        head = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--", "oms_ecommerce"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{where} (not a git checkout)"
    return f"{where} @ {head}{' + uncommitted changes' if dirty else ''}"


def load():
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def ms(seconds, n):
    return f"{1000 * seconds / n:.1f} ms"


def describe_inprocess(name, phase, n):
    sql = phase.meter.seconds
    return (
        f"  {name:<10} {ms(phase.seconds, n)}/order, {phase.meter.count / n:.1f} queries/order "
        f"(SQL {ms(sql, n)}, Python {ms(phase.seconds - sql, n)})"
    )


def describe_server(requests, n, client_seconds):
    queries = sum(r[0] for r in requests)
    sql = sum(r[1] for r in requests)
    other = sum(r[2] for r in requests)
    return (
        f"  server     {ms(sql + other, n)}/order, {queries / n:.1f} queries/order "
        f"(SQL {ms(sql, n)}, Python {ms(other, n)}; {len(requests)} request(s)); "
        f"client-side HTTP overhead {ms(client_seconds - sql - other, n)}/order"
    )


def bench_plain(registry, ctx, payloads, n, warmup):
    run_plain(registry, ctx, payloads("aw", warmup))
    create, conf = run_plain(registry, ctx, payloads("a", n))
    total = create.seconds + conf.seconds
    common.say(
        f"(a) plain Odoo: per order sale.order.create() from Python as admin (customer searched by email, "
        f"products by SKU), commit, then confirm: {total:.2f} s, {n / total:.1f} orders/s"
    )
    common.say(describe_inprocess("create", create, n))
    common.say(describe_inprocess("confirm", conf, n))
    return create.seconds, total


def report_path(title, post, conf, requests, n):
    """Print a path's line (its title, seconds, orders/s) and its POST, server and confirm figures.

    :return: the path's total seconds (creation + confirmation)
    """
    total = post.seconds + conf.seconds
    common.say(f"{title}: {total:.2f} s, {n / total:.1f} orders/s")
    common.say(f"  POST       {ms(post.seconds, n)}/order as the client sees it")
    common.say(describe_server(requests, n, post.seconds))
    common.say(describe_inprocess("confirm", conf, n))
    return total


def bench_api(server, registry, ctx, payloads, args):
    """(b) then (c); returns their (create seconds, total seconds)."""
    n = args.orders
    client = ApiClient(server.port, ctx["secret"])
    try:
        run_single(client, registry, ctx, payloads("bw", args.warmup))
        offset = server.log_offset()
        b_post, b_conf = run_single(client, registry, ctx, payloads("b", n))
        requests = server.requests_since(offset, "/orders")
        b_total = report_path(
            f"(b) POST /oms/v1/{CHANNEL_CODE}/orders, {n} requests, each order then confirmed",
            b_post,
            b_conf,
            requests,
            n,
        )

        if args.warmup:
            run_batch(client, registry, ctx, payloads("cw", args.warmup), args.batch_size)
        offset = server.log_offset()
        c_post, c_conf = run_batch(client, registry, ctx, payloads("c", n), args.batch_size)
        requests = server.requests_since(offset, "/orders/batch")
        c_total = report_path(
            f"(c) POST /oms/v1/{CHANNEL_CODE}/orders/batch, {len(requests)} request(s) of up to {args.batch_size}, "
            "then each order confirmed",
            c_post,
            c_conf,
            requests,
            n,
        )
    finally:
        client.close()
    return (b_post.seconds, b_total), (c_post.seconds, c_total)


def bench_webhooks(server, registry, ctx, args, tag):
    """(d): Shopify ``orders/create`` webhooks one by one, each order then confirmed; (create, total) seconds."""
    import webhooks  # the webhook bench: the Shopify channel, bodies and signed deliveries (it imports this one)

    from odoo import api

    shopify_id = webhooks.setup_shopify_channel(registry, ctx)
    rates = webhooks.tax_rates(registry, ctx)  # the shop charges Odoo's taxes: its totals are the orders' (no hold)
    template = json.loads(webhooks.FIXTURE.read_text())
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=900)

    def run(prefix, count):
        post, conf = Phase(), Phase()
        for i in range(count):
            body = webhooks.shopify_body(template, prefix, i, rates)
            path, headers, raw = webhooks.hook_delivery(body, i)
            with post.timed():
                conn.request("POST", path, body=raw, headers=headers)
                response = conn.getresponse()
                answer = response.read()
            if response.status != HTTPStatus.OK:
                raise SystemExit(f"POST {path} answered {response.status}: {answer[:500]}")
            with registry.cursor() as cr:
                order = api.Environment(cr, api.SUPERUSER_ID, {})["sale.order"].search(
                    [("oms_channel_id", "=", shopify_id), ("oms_external_id", "=", str(body["id"]))]
                )
            if len(order) != 1:
                raise SystemExit(f"webhook {i}: {len(order)} orders for Shopify order {body['id']}")
            with conf.timed():
                confirm(registry, ctx["admin_id"], order.id)
        return post, conf

    n = args.orders
    try:
        run(f"{tag[1:]}8", max(args.warmup, 1))
        offset = server.log_offset()
        post, conf = run(f"{tag[1:]}7", n)
        requests = server.requests_since(offset, "/webhooks")
    finally:
        conn.close()
    total = report_path(
        f"(d) POST /oms/v1/{webhooks.SHOPIFY_CODE}/webhooks (Shopify orders/create), {n} deliveries, each order "
        "then confirmed",
        post,
        conf,
        requests,
        n,
    )
    return post.seconds, total


def bench_inprocess(registry, ctx, payloads, args):
    m = args.inprocess
    profile = cProfile.Profile() if args.profile else None
    run_inprocess_intake(registry, ctx, payloads("sw", args.warmup), [])
    single, batch = run_inprocess_intake(registry, ctx, payloads("s", m), payloads("m", m), profile)
    common.say(
        f"intake in this process, no HTTP, no confirm, {m} fresh orders per mode "
        "(oms.intake._receive as the integration user, one transaction per call):"
    )
    common.say(describe_inprocess("single", single, m))
    common.say(describe_inprocess("batch", batch, m))
    if profile:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(30)
        common.say(out.getvalue())


def stop_on_signal(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through the finally blocks: server stopped, database dropped


def main():
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop_on_signal)
    args = parse_args()
    n = args.orders
    tag = f"r{int(time.time())}"
    server = None
    odoo = load_odoo(args)
    created = False
    try:
        if args.reuse and module_state(args) == "installed":
            common.say(f"database {args.db}: reused (oms_ecommerce installed)")
        else:
            common.say(f"database {args.db}: installing oms_ecommerce without demo data …")
            seconds = install(args)
            created = True
            common.say(f"database {args.db}: installed in {seconds:.0f} s")
        registry = odoo.modules.registry.Registry(args.db)
        ctx = setup_data(registry)

        def payloads(path, count):
            return [order_payload(f"{tag}-{path}", i, ctx["currency"]) for i in range(count)]

        server = Server(args)
        start = time.perf_counter()
        server.start()
        common.say(
            f"server: odoo-bin -d {args.db}{f' --db-filter=^{args.db}$' if args.db_filter else ''} --workers 0 "
            f"(threaded), 127.0.0.1:{server.port}, up in "
            f"{time.perf_counter() - start:.1f} s; log {server.logfile}"
        )
        common.say(
            f"orders: N={n} per path, 3 product lines + 1 shipping line each, {CUSTOMERS} existing customers "
            f"cycling (found by email on every path), channel '{CHANNEL_CODE}', Odoo {odoo.release.version}"
        )
        common.say(f"code: oms_ecommerce from {code_version(args.addons_path)}")
        common.say(f"warm-up: {args.warmup} untimed order(s) per path before timing (registry, caches, first requests)")
        common.say(
            "confirm: every path confirms each order with action_confirm() on that order alone, in this "
            "process, as admin, one transaction per order; path timings include it"
        )
        common.say(f"machine: {os.cpu_count()} CPU(s), load average {load()} before timing")
        common.say("")

        a_create, a_total = bench_plain(registry, ctx, payloads, n, args.warmup)
        (b_create, b_total), (c_create, c_total) = bench_api(server, registry, ctx, payloads, args)
        d_create, d_total = bench_webhooks(server, registry, ctx, args, tag)
        server.stop()
        if args.inprocess:
            bench_inprocess(registry, ctx, payloads, args)
        common.say(f"machine: load average {load()} after timing (other work on the machine skews the figures)")
        common.say("")
        common.say(
            f"create phase only: b/a={a_create / b_create:.2f} c/a={a_create / c_create:.2f} "
            f"d/a={a_create / d_create:.2f}"
        )
        common.say(f"ratio b/a={a_total / b_total:.2f} c/a={a_total / c_total:.2f} d/a={a_total / d_total:.2f}")
    finally:
        cleanup(args, odoo, server, drop=not args.keep and (created or not args.reuse))


def cleanup(args, odoo, server, drop):
    if server:
        server.stop()
        if not args.keep:
            server.logfile.unlink(missing_ok=True)
    odoo.modules.registry.Registry.delete(args.db)
    odoo.sql_db.close_all()
    if drop:
        drop_database(args)
        shutil.rmtree(odoo.tools.config.filestore(args.db), ignore_errors=True)
    else:
        sys.stderr.write(f"kept database {args.db}\n")


if __name__ == "__main__":
    main()
