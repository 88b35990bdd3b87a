#!/usr/bin/env python3
"""Bulk confirmation benchmark of oms_ecommerce: the order desk's "Confirm channel orders" against
plain Odoo ``action_confirm``, on the same number of orders of the same shape, in one run.

(a) plain Odoo: N draft ``sale.order`` (3 lines + shipping, stock available), then ``action_confirm()``
    on the recordset, committed;
(b) the OMS: the same N orders received through the intake (``oms.intake._receive``, not timed), then
    ``action_oms_confirm()`` on the recordset (steps recorded, reminders closed, the "confirmed" email
    queued for each customer), committed.
Prints seconds and queries per order of each, and the ratio b/a (time) last. Goal: b/a <= 1.3.

Settings: ODOO_SRC, ADDONS_PATH, PGHOST, PGPORT, PGUSER, N (default 200), OMS_BENCH_DB (default
oms_bench_confirm, dropped at the end unless OMS_BENCH_KEEP=1).
"""

import cProfile
import os
import pstats
import time

import common


def parse_args():
    parser = common.parser(__doc__, "oms_bench_confirm")
    parser.add_argument("-n", type=int, default=int(os.environ.get("N", os.environ.get("OMS_BENCH_N", 200))))
    parser.add_argument("--profile", action="store_true", help="print where (b) spends its time (cProfile)")
    return parser.parse_args()


def payload(index):
    return {
        "external_id": f"B-{index:05d}",
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
        "lines": [
            {"sku": "BENCH-MUG", "quantity": 2, "unit_price": 12.5},
            {"sku": "BENCH-TEA", "quantity": 1, "unit_price": 8.0},
            {"sku": "BENCH-BAG", "quantity": 1, "unit_price": 24.9},
        ],
        "shipping": {"method": "standard", "price": 4.99},
        "payment": {"status": "paid", "method": "card", "amount": 63.29, "reference": f"ch_{index}"},
    }


def run(opts):
    registry = common.open_registry(opts)
    from odoo import SUPERUSER_ID, api

    def timed(label, func):
        count, seconds, queries = common.measure(registry, func, {"tracking_disable": False})
        print(
            f"{label}: {count} orders confirmed in {seconds:.2f} s, {count / seconds:.1f} orders/s, "
            f"{queries / count:.1f} queries/order"
        )
        return seconds

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        products = env["product.product"].create(
            [
                {"name": name, "default_code": sku, "type": "consu", "is_storable": True, "list_price": price}
                for sku, name, price in (
                    ("BENCH-MUG", "Mug", 15.0),
                    ("BENCH-TEA", "Tea", 9.0),
                    ("BENCH-BAG", "Bag", 29.0),
                )
            ]
        )
        for product in products:
            env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 100000)
        ship_product = env["product.product"].create({"name": "Bench shipping", "type": "service", "sale_ok": False})
        carrier = env["delivery.carrier"].create(
            {"name": "Bench Post", "delivery_type": "fixed", "product_id": ship_product.id}
        )
        channel = env["oms.channel"].create(
            {
                "name": "Bench",
                "code": "bench-confirm",
                "confirm_policy": "manual",
                "carrier_map_ids": [(0, 0, {"method": "standard", "carrier_id": carrier.id})],
            }
        )
        env.company.email = env.company.email or "shop@example.com"
        # (a) plain Odoo draft orders, the same shape as the channel's.
        partners = env["res.partner"].create(
            [
                {
                    "name": f"Plain Customer {i}",
                    "email": f"plain{i}@example.com",
                    "street": f"{i} Main St",
                    "city": "Springfield",
                    "zip": "62701",
                    "country_id": env.ref("base.us").id,
                }
                for i in range(20)
            ]
        )
        by_sku = {p.default_code: p for p in products}
        plain = env["sale.order"].create(
            [
                {
                    "partner_id": partners[i % 20].id,
                    "carrier_id": carrier.id,
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": by_sku[line["sku"]].id,
                                "product_uom_qty": line["quantity"],
                                "price_unit": line["unit_price"],
                            },
                        )
                        for line in payload(i)["lines"]
                    ]
                    + [(0, 0, {"product_id": ship_product.id, "price_unit": 4.99, "is_delivery": True})],
                }
                for i in range(opts.n)
            ]
        )
        # (b) the same orders received through the intake.
        results = env["oms.intake"]._receive(channel, [payload(i) for i in range(opts.n)])
        oms_ids = [body["id"] for status, body in results if status == 201]
        assert len(oms_ids) == opts.n, results[:3]
        plain_ids = plain.ids
        cr.commit()

    plain_seconds = timed(
        "(a) plain Odoo action_confirm",
        lambda env: len(env["sale.order"].browse(plain_ids).action_confirm() and plain_ids),
    )

    def oms_confirm(env):
        orders = env["sale.order"].browse(oms_ids)
        orders.action_oms_confirm()
        assert set(orders.mapped("state")) == {"sale"}
        return len(orders)

    if opts.profile:
        profiler = cProfile.Profile()
        oms_seconds = timed(
            "(b) OMS bulk confirm (steps, reminders, queued emails)", lambda env: profiler.runcall(oms_confirm, env)
        )
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(
            r"oms_ecommerce|mail_thread|mail_compose|_action_confirm|base_automation", 25
        )
    else:
        oms_seconds = timed("(b) OMS bulk confirm (steps, reminders, queued emails)", oms_confirm)
    # The customer emails of a bulk confirmation are composed by queue jobs right after (run here as queue_job's
    # runner would run them, one after the other).
    from odoo.addons.queue_job.job import Job  # once the addons path is set

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        started = time.perf_counter()
        for record in env["queue.job"].search(
            [("method_name", "=", "_oms_job_notify"), ("state", "=", "pending")], order="id"
        ):
            Job.load(env, record.uuid).perform()
        cr.commit()
        cr.execute(
            "SELECT count(*) FROM mail_mail mm JOIN mail_message m ON m.id = mm.mail_message_id"
            " WHERE m.model = 'sale.order' AND mm.state = 'outgoing' AND m.subject ILIKE %s",
            ["%confirmed%"],
        )
        print(
            f"then the step-email jobs composed {cr.fetchone()[0]} 'confirmed' emails into the mail queue in "
            f"{time.perf_counter() - started:.2f} s (outside the user's request; not in the ratio)"
        )
    print(f"ratio b/a={oms_seconds / plain_seconds:.2f} (goal <= 1.3)")


def main():
    common.with_database(parse_args(), run)


if __name__ == "__main__":
    main()
