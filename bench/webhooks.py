#!/usr/bin/env python3
"""Webhook benchmark of oms_ecommerce: Shopify ``orders/create`` deliveries against the channel API.

One run, one throwaway database (``oms_bench_hooks``, dropped at the end unless OMS_BENCH_KEEP=1), one
prefork ``odoo-bin`` (``--workers``, default 4) on a loopback port:

(w) N Shopify ``orders/create`` webhooks (the REST Admin ``Order`` body, signed with
    ``X-Shopify-Hmac-Sha256``, a ``X-Shopify-Webhook-Id`` each) to ``POST /oms/v1/<code>/webhooks``;
(a) the same N orders in our own JSON (API.md) to ``POST /oms/v1/<code>/orders``;

each from S concurrent senders (default 8, one keep-alive connection each). Printed per path: answer time
p50/p95/max, seconds until every order exists in the database, orders per second; then duplicates and
lost orders (must both be 0), and last the ratio of webhook throughput to API throughput.

Settings: ODOO_SRC, ADDONS_PATH, PGHOST, PGPORT, PGUSER, N (default 1000), OMS_BENCH_SENDERS (8),
OMS_BENCH_WORKERS (4), OMS_BENCH_DB, OMS_BENCH_KEEP=1.
"""

import base64
import functools
import hashlib
import hmac
import http.client
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
import intake as base  # the intake bench: database, server and data helpers

ROOT = base.ROOT
SHOPIFY_CODE = "bench-shopify"
SHOPIFY_SECRET = "shpss_bench_secret"
FIXTURE = ROOT / "oms_ecommerce" / "tests" / "data" / "shopify_order.json"


def parse_args():
    parser = common.parser(__doc__.split("\n\n")[0], "oms_bench_hooks", pg=True)
    parser.add_argument("-n", "--orders", type=int, default=common.env_int("N", 1000))
    parser.add_argument("--senders", type=int, default=common.env_int("OMS_BENCH_SENDERS", 8))
    parser.add_argument("--workers", type=int, default=common.env_int("OMS_BENCH_WORKERS", 4))
    args = parser.parse_args()
    if args.orders < 1 or args.senders < 1 or args.workers < 1:
        parser.error("need --orders, --senders and --workers >= 1")
    return args


class PreforkServer(base.Server):
    """The bench database served by ``--workers`` prefork workers."""

    def __init__(self, args):
        super().__init__(args)
        self.gevent_port = base.free_port()

    def start(self, timeout=180):
        self.logfile.write_text("")
        cmd = base.odoo_cmd(
            self.args,
            "-d",
            self.args.db,  # alone, as the intake bench's server (no database listing per request)
            f"--workers={self.args.workers}",
            "--max-cron-threads=0",
            "--limit-time-real=600",
            "--limit-time-cpu=600",
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--gevent-port={self.gevent_port}",
            f"--logfile={self.logfile}",
            "--log-level=warn",
        )
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"odoo-bin exited with {self.proc.returncode}; log: {self.logfile}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/web/health")
                ok = conn.getresponse().status == 200
                conn.close()
                if ok:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"odoo-bin did not answer within {timeout}s; log: {self.logfile}")


def setup_shopify_channel(registry, ctx):
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
        channel = env["oms.channel"].with_context(active_test=False).search([("code", "=", SHOPIFY_CODE)])
        if not channel:
            api_channel = env["oms.channel"].browse(ctx["channel_id"])
            channel = api_channel.copy(
                {"name": "Bench Shopify", "code": SHOPIFY_CODE, "platform": "shopify", "secret": SHOPIFY_SECRET}
            )  # the copy keeps the API channel's shipping-method mapping ("standard")
        channel.confirm_policy = "manual"
        return channel.id


def tax_rates(registry, ctx):
    """{sku or "shipping": rate} of the taxes Odoo applies to the bench's products and its shipping line (percent
    taxes, as the bench database has): what a shop configured like this Odoo charges, so that the bodies' totals
    are Odoo's and no order is held for a total that differs."""
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        products = env["product.product"].search([("default_code", "in", [p[0] for p in base.PRODUCTS])])
        rates = {p.default_code: sum(p.taxes_id.mapped("amount")) / 100 for p in products}
        rates["shipping"] = (
            sum(env["product.product"].browse(ctx["carrier_product_id"]).taxes_id.mapped("amount")) / 100
        )
        return rates


def _tax_lines(amount, rate):
    tax = round(amount * rate + 1e-9, 2)
    return tax, ([{"title": "Tax", "rate": rate, "price": f"{tax:.2f}"}] if rate else [])


def shopify_body(template, tag, i, rates=None):
    """The i-th order as Shopify's ``orders/create`` webhook body: the api path's order, in Shopify's shape, with
    the taxes of ``rates`` (``tax_rates``) per line, as Shopify sends them (taxes not included in the prices)."""
    rates = rates or {}
    body = json.loads(json.dumps(template))
    who = base.customer(i)
    placed = datetime.now(UTC) - timedelta(days=1, minutes=i)
    stamp = placed.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    first, _sep, last = who["name"].partition(" ")
    address = {
        **body["shipping_address"],
        "first_name": first,
        "last_name": last,
        "name": who["name"],
        "address1": f"{i % base.CUSTOMERS + 1} Main St",
        "address2": "",
        "city": "Springfield",
        "zip": "62701",
        "province_code": "IL",
        "country_code": "US",
        "phone": who["phone"],
        "company": None,
    }
    lines = []
    subtotal = total_tax = 0
    for k, (sku, name, _list, price) in enumerate(base.PRODUCTS):
        quantity = 1 + (i + k) % 3
        discount = round(quantity * price * 0.10, 2) if k == 1 else 0
        subtotal += quantity * price - discount
        tax, tax_lines = _tax_lines(quantity * price - discount, rates.get(sku, 0))
        total_tax += tax
        line = json.loads(json.dumps(template["line_items"][0]))
        line.update(
            id=int(f"{1000 + i}{k}"),
            sku=sku,
            title=name,
            name=name,
            quantity=quantity,
            current_quantity=quantity,  # what Shopify's mapping reads (the quantity after edits)
            fulfillable_quantity=quantity,
            price=f"{price:.2f}",
            total_discount=f"{discount:.2f}",
            discount_allocations=[{"amount": f"{discount:.2f}", "discount_application_index": 0}] if discount else [],
            tax_lines=tax_lines,
        )
        lines.append(line)
    shipping = json.loads(json.dumps(template["shipping_lines"][0]))
    shipping_tax, shipping_tax_lines = _tax_lines(base.SHIPPING_PRICE, rates.get("shipping", 0))
    total_tax += shipping_tax
    shipping.update(code="standard", title="Standard", price=f"{base.SHIPPING_PRICE:.2f}", tax_lines=shipping_tax_lines)
    total = round(subtotal + base.SHIPPING_PRICE + total_tax, 2)
    body.update(
        id=6000000000000000000 + int(tag[1:]) % 100000 * 10000 + i,
        name=f"#{tag}-{i}",
        order_number=i + 1,
        email=who["email"],
        contact_email=who["email"],
        created_at=stamp,
        updated_at=stamp,
        processed_at=stamp,
        currency="USD",
        presentment_currency="USD",
        financial_status="paid",
        taxes_included=False,
        total_tax=f"{total_tax:.2f}",
        tax_lines=[{"title": "Tax", "price": f"{total_tax:.2f}"}] if total_tax else [],
        total_price=f"{total:.2f}",
        subtotal_price=f"{subtotal:.2f}",
        current_total_price=f"{total:.2f}",
        line_items=lines,
        shipping_lines=[shipping],
        shipping_address=address,
        billing_address=address,
        note=None,
        note_attributes=[],
    )
    body["customer"] = {**(body.get("customer") or {}), "email": who["email"], "first_name": first, "last_name": last}
    return body


class Sender(threading.Thread):
    """Takes (path, headers, raw) from the queue and posts them over one keep-alive connection."""

    def __init__(self, port, jobs, answers):
        super().__init__(daemon=True)
        self.port, self.jobs, self.answers = port, jobs, answers

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            path, headers, raw = job() if callable(job) else job  # API requests are signed when sent
            start = time.perf_counter()
            try:
                conn.request("POST", path, body=raw, headers=headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
                status, data = 0, str(error).encode()
            self.answers.append((time.perf_counter() - start, status, data[:300]))
        conn.close()


def send_all(port, deliveries, senders):
    jobs = queue.Queue()
    for delivery in deliveries:
        jobs.put(delivery)
    answers = []
    threads = [Sender(port, jobs, answers) for _i in range(senders)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, answers


def count_orders(args, channel_id, prefix_ids):
    conn = base.pg_connect(args, args.db)
    try:
        with conn.cursor() as cr:
            cr.execute(
                "SELECT count(*), count(DISTINCT oms_external_id) FROM sale_order "
                "WHERE oms_channel_id = %s AND oms_external_id = ANY(%s)",
                (channel_id, prefix_ids),
            )
            return cr.fetchone()
    finally:
        conn.close()


def wait_all(args, channel_id, ids, sent_at, timeout=600):
    """Seconds from the first send until every order exists (webhooks are processed before the answer)."""
    deadline = time.monotonic() + timeout
    while True:
        total, distinct = count_orders(args, channel_id, ids)
        if distinct >= len(ids) or time.monotonic() > deadline:
            return time.perf_counter() - sent_at, total, distinct
        time.sleep(0.2)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def describe(name, seconds, answers, until, expected_status):
    times = [answer[0] for answer in answers]
    bad = [answer for answer in answers if answer[1] != expected_status]
    common.say(
        f"  {name:<9} answers p50 {1000 * statistics.median(times):.0f} ms, p95 {1000 * percentile(times, 0.95):.0f} ms, "
        f"max {1000 * max(times):.0f} ms; sent in {seconds:.1f} s; every order exists after {until:.1f} s: "
        f"{len(answers) / until:.1f} orders/s; answers other than {expected_status}: {len(bad)}"
    )
    for answer in bad[:3]:
        common.say(f"    e.g. {answer[1]} {answer[2]!r}")
    return len(answers) / until


def main():
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, base.stop_on_signal)
    args = parse_args()
    n = args.orders
    tag = f"r{int(time.time())}"
    odoo = base.load_odoo(args)
    server = None
    try:
        common.say(f"database {args.db}: installing oms_ecommerce without demo data …")
        common.say(f"database {args.db}: installed in {base.install(args):.0f} s")
        registry = odoo.modules.registry.Registry(args.db)
        ctx = base.setup_data(registry)
        shopify_id = setup_shopify_channel(registry, ctx)
        template = json.loads(FIXTURE.read_text())
        rates = tax_rates(registry, ctx)
        hooks = [shopify_body(template, tag, i, rates) for i in range(n)]
        orders = [base.order_payload(f"{tag}-api", i, ctx["currency"]) for i in range(n)]

        server = PreforkServer(args)
        server.start()
        common.say(
            f"server: odoo-bin --workers {args.workers} (prefork), 127.0.0.1:{server.port}; senders: {args.senders} "
            f"concurrent, one keep-alive connection each; N={n} orders per path, 3 product lines + shipping"
        )
        common.say(f"code: oms_ecommerce from {base.code_version(args.addons_path)}")
        common.say(f"machine: {os.cpu_count()} CPU(s), load average {base.load()} before timing")
        # Warm every worker up (registry, caches) with untimed requests of both paths.
        warm_hooks = [shopify_body(template, f"{tag}9", i, rates) for i in range(2 * args.workers)]
        warm_orders = [base.order_payload(f"{tag}-warm", i, ctx["currency"]) for i in range(2 * args.workers)]
        send_all(server.port, [hook_delivery(body, i) for i, body in enumerate(warm_hooks)], args.senders)
        send_all(
            server.port, [functools.partial(api_delivery, ctx["secret"], order) for order in warm_orders], args.senders
        )

        deliveries = [hook_delivery(body, i) for i, body in enumerate(hooks)]
        start = time.perf_counter()
        hook_seconds, hook_answers = send_all(server.port, deliveries, args.senders)
        hook_ids = [str(body["id"]) for body in hooks]
        hook_until, hook_total, hook_distinct = wait_all(args, shopify_id, hook_ids, start)

        deliveries = [functools.partial(api_delivery, ctx["secret"], order) for order in orders]
        start = time.perf_counter()
        api_seconds, api_answers = send_all(server.port, deliveries, args.senders)
        api_ids = [order["external_id"] for order in orders]
        api_until, api_total, api_distinct = wait_all(args, ctx["channel_id"], api_ids, start)
        common.say("")
        hook_rate = describe("webhooks", hook_seconds, hook_answers, hook_until, 200)
        api_rate = describe("api", api_seconds, api_answers, api_until, 201)
        common.say(f"machine: load average {base.load()} after timing (other work on the machine skews the figures)")
        common.say(
            f"orders: webhooks {hook_distinct}/{n} exist, duplicates {hook_total - hook_distinct}, lost "
            f"{n - hook_distinct}; api {api_distinct}/{n} exist, duplicates {api_total - api_distinct}, lost "
            f"{n - api_distinct}"
        )
        status = 0 if (hook_total, hook_distinct, api_total, api_distinct) == (n, n, n, n) else 1
        common.say(f"ratio webhooks/api={hook_rate / api_rate:.2f}")
        return status
    finally:
        base.cleanup(args, odoo, server, drop=not args.keep)


def hook_delivery(body, i):
    raw = json.dumps(body).encode()
    signature = base64.b64encode(hmac.new(SHOPIFY_SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": signature,
        "X-Shopify-Shop-Domain": "bench-shop.myshopify.com",
        "X-Shopify-API-Version": "2025-10",
        "X-Shopify-Webhook-Id": f"b54557e4-bdd9-4b37-8a5f-{body['id'] % 10**12:012d}",
        "X-Shopify-Event-Id": f"98880550-7158-44d4-b7cd-{body['id'] % 10**12:012d}",
    }
    return (f"/oms/v1/{SHOPIFY_CODE}/webhooks", headers, raw)


def api_delivery(secret, payload):
    raw = json.dumps(payload).encode()
    path = f"/oms/v1/{base.CHANNEL_CODE}/orders"
    timestamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), f"{timestamp}\nPOST\n{path}\n".encode() + raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-OMS-Timestamp": timestamp, "X-OMS-Signature": f"v2={signature}"}
    return (path, headers, raw)


if __name__ == "__main__":
    sys.exit(main())
