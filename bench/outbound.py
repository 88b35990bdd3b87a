#!/usr/bin/env python3
"""Outbound sync benchmark of oms_ecommerce: shipments and stock levels pushed to a stand-in Shopify through
OCA queue_job's real job runner, with 10 % of the stand-in's answers HTTP 429 or 500.

(a) plain Odoo: N deliveries of a channel without a platform validated (nothing to push);
(b) the OMS: N deliveries of a Shopify channel validated (one push job enqueued each), same shape;
then an Odoo server with the job runner (``--load=base,rpc,web,queue_job``, ``root:4``) pushes them;
then M stock moves (receipts) on S SKUs in bursts of B moves per transaction, stock push on, and the runner
pushes the stock levels (merged per channel and SKU).
Prints: seconds until every job is done, jobs retried, calls made per stock push asked (the merge ratio),
duplicate fulfillments (must be 0), and the ratio b/a of validating the deliveries (time) last.

Settings: ODOO_SRC, ADDONS_PATH, PGHOST, PGPORT, PGUSER, N (1000 deliveries), M (5000 moves), S (200 SKUs),
B (250 moves per transaction), FAULTS (0.10), OMS_BENCH_DB (oms_bench_outbound, dropped at the end unless
OMS_BENCH_KEEP=1), OMS_BENCH_TEMPLATE (copy this database, with oms_ecommerce installed, instead of
installing), OMS_BENCH_PORT (8181, the runner's Odoo).
"""

import importlib.util
import os
import random
import subprocess
import time

import common

STANDIN = common.ROOT / "oms_ecommerce" / "tests" / "platform_standin.py"


def parse_args():
    parser = common.parser(__doc__, "oms_bench_outbound")
    parser.add_argument("-n", type=int, default=int(os.environ.get("N", 1000)))
    parser.add_argument("-m", type=int, default=int(os.environ.get("M", 5000)))
    parser.add_argument("-s", type=int, default=int(os.environ.get("S", 200)))
    parser.add_argument("-b", type=int, default=int(os.environ.get("B", 250)))
    parser.add_argument("--faults", type=float, default=float(os.environ.get("FAULTS", 0.10)))
    parser.add_argument("--template", default=os.environ.get("OMS_BENCH_TEMPLATE"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("OMS_BENCH_PORT", 8181)))
    return parser.parse_args()


def load_standin():
    spec = importlib.util.spec_from_file_location("platform_standin", STANDIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def payload(index, sku):
    return {
        "external_id": str(900000 + index),
        "currency": "USD",
        "customer": {"email": f"bench.customer{index % 20}@example.com", "name": f"Bench Customer {index % 20}"},
        "shipping_address": {
            "name": f"Bench Customer {index % 20}",
            "street": f"{index % 20} Main St",
            "city": "Springfield",
            "zip": "62701",
            "state_code": "IL",
            "country_code": "US",
        },
        "lines": [{"sku": sku, "quantity": 2, "unit_price": 12.5}],
        "shipping": {"method": "standard", "price": 4.99},
        "payment": {"status": "paid", "method": "card", "amount": 29.99, "reference": f"ch_{index}"},
    }


def run(opts):
    standin_module = load_standin()
    standin = standin_module.PlatformStandin(fault_rate=0.0, seed=7).start()
    registry = common.open_registry(opts)
    from odoo import SUPERUSER_ID, api

    rng = random.Random(11)
    skus = [f"BENCH-{i:04d}" for i in range(opts.s)]

    # ---------------------------------------------------------------- set-up (not timed)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        products = env["product.product"].create(
            [{"name": sku, "default_code": sku, "type": "consu", "is_storable": True, "list_price": 10} for sku in skus]
        )
        for product in products:
            env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 100000)
        ship_product = env["product.product"].create({"name": "Bench shipping", "type": "service", "sale_ok": False})
        carrier = env["delivery.carrier"].create(
            {
                "name": "Bench Post",
                "delivery_type": "fixed",
                "product_id": ship_product.id,
                "tracking_url": "https://track.example.com/p/<shipmenttrackingnumber>",
            }
        )
        channel_values = {
            "confirm_policy": "manual",
            "carrier_map_ids": [(0, 0, {"method": "standard", "carrier_id": carrier.id})],
            "notify_received": False,
            "notify_confirmed": False,
            "notify_shipped": False,
            "sync_stock": False,
        }
        plain = env["oms.channel"].create({"name": "Bench plain", "code": "bench-plain", **channel_values})
        shop = env["oms.channel"].create(
            {
                "name": "Bench Shopify",
                "code": "bench-shopify",
                "platform": "shopify",
                "shopify_shop": standin.url,
                "shopify_access_token": standin_module.SHOPIFY_TOKEN,
                "shopify_location_id": "gid://shopify/Location/1",
                "platform_timeout": 5,
                **channel_values,
            }
        )
        env["oms.channel.product"].create([{"channel_id": shop.id, "product_id": p.id} for p in products])
        for sku in skus:
            standin.add_variant(sku)
        order_ids = {}
        for channel, offset in ((plain, 0), (shop, opts.n)):
            chosen = [skus[rng.randrange(len(skus))] for __ in range(opts.n)]
            results = env["oms.intake"]._receive(channel, [payload(offset + i, chosen[i]) for i in range(opts.n)])
            ids = [body["id"] for status, body in results if status == 201]
            assert len(ids) == opts.n, results[:2]
            orders = env["sale.order"].browse(ids)
            orders.action_confirm()
            order_ids[channel.code] = ids
            if channel == shop:
                for i, sku in enumerate(chosen):
                    standin.add_shopify_order(str(900000 + offset + i), {sku: 2})
        cr.commit()
        shop_id = shop.id
    print(f"set-up: {opts.s} SKUs, {opts.n} orders per channel confirmed")

    def validate(code):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            pickings = env["sale.order"].browse(order_ids[code]).picking_ids
            for index, picking in enumerate(pickings):
                picking.carrier_tracking_ref = f"TRK{picking.id}A,TRK{picking.id}B"
                picking.move_ids.quantity = 2
                picking.move_ids.picked = True
                del index
            started = time.perf_counter()
            pickings.button_validate()
            cr.commit()
            seconds = time.perf_counter() - started
            assert set(pickings.mapped("state")) == {"done"}
        return seconds

    plain_seconds = validate("bench-plain")
    print(f"(a) plain Odoo: {opts.n} deliveries validated in {plain_seconds:.2f} s")
    oms_seconds = validate("bench-shopify")
    print(f"(b) OMS: {opts.n} channel deliveries validated, one push job each enqueued, in {oms_seconds:.2f} s")

    def job_states(cr):
        cr.execute("SELECT state, count(*) FROM queue_job WHERE channel LIKE 'root.oms%%' GROUP BY state")
        return dict(cr.fetchall())

    def run_runner(label, expected):
        standin.fault_rate = opts.faults
        calls_before = len(standin.requests)
        env_vars = dict(os.environ, ODOO_QUEUE_JOB_CHANNELS="root:4")
        started = time.perf_counter()
        server = subprocess.Popen(
            common.odoo_command(opts, "--load=base,rpc,web,queue_job", f"--http-port={opts.port}"),
            env=env_vars,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                time.sleep(1)
                with registry.cursor() as cr:
                    states = job_states(cr)
                if not any(states.get(s) for s in ("pending", "enqueued", "started", "wait_dependencies")):
                    break
                if time.perf_counter() - started > 1800:
                    print(f"{label}: gave up after 30 min: {states}")
                    break
        finally:
            server.terminate()
            server.wait(30)
        seconds = time.perf_counter() - started
        with registry.cursor() as cr:
            states = job_states(cr)
            cr.execute(
                "SELECT coalesce(sum(retry - 1), 0) FROM queue_job WHERE channel LIKE 'root.oms%%' AND retry > 1"
            )
            retries = cr.fetchone()[0]
        standin.fault_rate = 0.0
        calls = standin.requests[calls_before:]
        print(
            f"{label}: {expected} asked, jobs {states}, all done {seconds:.1f} s after the runner started "
            f"(server start-up included), {retries} retries, {len(calls)} calls to the stand-in"
        )
        return calls

    run_runner("shipments", f"{opts.n} pushes")
    per_order = {}
    for fulfillment in standin.fulfillments:
        per_order[fulfillment["order"]] = per_order.get(fulfillment["order"], 0) + 1
    duplicates = sum(count - 1 for count in per_order.values() if count > 1)
    print(
        f"shipments: {len(standin.fulfillments)} fulfillments for {opts.n} deliveries, duplicates: {duplicates}, "
        f"tracking numbers per fulfillment: {len(standin.fulfillments[0]['trackingInfo']['numbers']) if standin.fulfillments else 0}"
    )

    # ---------------------------------------------------------------- stock moves
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["oms.channel"].browse(shop_id).sync_stock = True
        cr.execute("DELETE FROM queue_job WHERE channel LIKE 'root.oms%%'")
        cr.commit()
    asked = 0
    started = time.perf_counter()
    for start in range(0, opts.m, opts.b):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
            supplier = env.ref("stock.stock_location_suppliers")
            products = env["product.product"].search([("default_code", "in", skus)])
            count = min(opts.b, opts.m - start)
            moves = env["stock.move"].create(
                [
                    {
                        "product_id": products[rng.randrange(len(products))].id,
                        "product_uom_qty": 1,
                        "location_id": supplier.id,
                        "location_dest_id": warehouse.lot_stock_id.id,
                    }
                    for __ in range(count)
                ]
            )
            moves._action_confirm()
            moves.quantity = 1
            moves.picked = True
            moves._action_done()
            asked += count
            cr.commit()
    print(
        f"stock: {opts.m} receipt moves on {opts.s} SKUs done in bursts of {opts.b} in {time.perf_counter() - started:.1f} s"
    )
    calls = run_runner("stock levels", f"{asked} pushes (one per move)")
    sets = [c for c in calls if "inventorySetQuantities" in (c.get("query") or "")]
    print(
        f"stock: {len(sets)} inventorySetQuantities calls for {asked} pushes asked: {len(sets) / asked:.3f} calls per push asked"
    )
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        shop = env["oms.channel"].browse(shop_id)
        free = shop._oms_available_to_sell(shop.product_map_ids.product_id)
        wrong = [
            p.default_code
            for p, qty in free.items()
            if standin.inventory.get((standin.variants[p.default_code], "gid://shopify/Location/1")) != qty
        ]
    print(f"stock: {len(free) - len(wrong)} of {len(free)} SKUs at Odoo's latest figure on the stand-in")
    standin.stop()
    print(f"ratio b/a={oms_seconds / plain_seconds:.2f} (validating deliveries with the push enqueued vs plain)")


def main():
    opts = parse_args()
    common.with_database(opts, run, template=opts.template)


if __name__ == "__main__":
    main()
