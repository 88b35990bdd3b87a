#!/usr/bin/env python3
"""Returns benchmark of oms_ecommerce: N returns received and credited in one go, against Odoo's own
return wizard and credit note for the same quantities, in one run.

Both sides start from N shipped, invoiced orders of the same shape (2 mugs, 1 tea, 1 bag; invoiced on
delivered quantities) and return 1 mug and 1 tea of each: N returns of 2 items.
(a) plain Odoo: per order, ``stock.return.picking`` (1 mug, 1 tea), the return picking validated, then
    ``_create_invoices(final=True)`` (the credit note of the returned quantities) posted; committed;
(b) the OMS: N channel orders with an approved return request each (OCA RMAs, portal path; not timed),
    then ``rma._oms_receive`` on all 2N RMAs at once: the reception into stock, the RMA states and
    steps, the "received" and "refunded" emails queued, the order's "returned" step and its credit note
    (``_oms_credit_returns``), committed.
Prints seconds and queries per returned item of each, and the ratio b/a (time) last.

The setup approves the requests without rendering their return label PDFs (``rma._oms_attach_label`` is
patched out while it runs): the label is not part of what is measured (bench/labels.py measures label PDFs),
and one wkhtmltopdf call per request would add about 2.5 s each on a loaded machine.

Settings: ODOO_SRC, ADDONS_PATH, PGHOST, PGPORT, PGUSER, N (default 200), OMS_BENCH_DB (default
oms_bench_returns, dropped at the end unless OMS_BENCH_KEEP=1).
"""

import cProfile
import os
import pstats
import time
from unittest import mock

import common


def parse_args():
    parser = common.parser(__doc__, "oms_bench_returns")
    parser.add_argument("-n", type=int, default=int(os.environ.get("N", os.environ.get("OMS_BENCH_N", 200))))
    parser.add_argument("--profile", action="store_true", help="print where (b) spends its time (cProfile)")
    return parser.parse_args()


def payload(index):
    return {
        "external_id": f"R-{index:05d}",
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


def ship(pickings):
    for move in pickings.move_ids:
        move.quantity = move.product_uom_qty
    pickings.move_ids.picked = True
    pickings.with_context(skip_backorder=True, skip_sms=True)._action_done()


def run(opts):
    registry = common.open_registry(opts)
    from odoo import SUPERUSER_ID, api

    def timed(label, func):
        count, seconds, queries = common.measure(registry, func, {"tracking_disable": False})
        print(
            f"{label}: {opts.n} returns ({count} items) received and credited in {seconds:.2f} s, "
            f"{count / seconds:.1f} items/s, {queries / count:.1f} queries/item"
        )
        return seconds

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        products = env["product.product"].create(
            [
                {
                    "name": name,
                    "default_code": sku,
                    "type": "consu",
                    "is_storable": True,
                    "list_price": price,
                    "invoice_policy": "delivery",
                    "taxes_id": [(5, 0, 0)],
                }
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
        journal = env["account.journal"].create({"name": "Bench Payments", "code": "BNPAY", "type": "bank"})
        channel = env["oms.channel"].create(
            {
                "name": "Bench",
                "payment_journal_id": journal.id,
                "code": "bench-returns",
                "confirm_policy": "manual",
                "invoice_policy": "shipped",
                "return_window_days": 30,
                "carrier_map_ids": [(0, 0, {"method": "standard", "carrier_id": carrier.id})],
            }
        )
        env.company.email = env.company.email or "shop@example.com"
        by_sku = {p.default_code: p for p in products}
        mug, tea = by_sku["BENCH-MUG"], by_sku["BENCH-TEA"]
        # (a) plain Odoo orders, the same shape as the channel's, shipped and invoiced.
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
        plain = env["sale.order"].create(
            [
                {
                    "partner_id": partners[i % 20].id,
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
                    ],
                }
                for i in range(opts.n)
            ]
        )
        plain.action_confirm()
        ship(plain.picking_ids)
        plain._create_invoices().action_post()
        # (b) the same orders through the channel, shipped, invoiced, each with an approved return request.
        results = env["oms.intake"]._receive(channel, [payload(i) for i in range(opts.n)])
        orders = env["sale.order"].browse([body["id"] for status, body in results if status == 201])
        assert len(orders) == opts.n, results[:3]
        orders.action_oms_confirm()
        ship(orders.picking_ids)
        orders._oms_invoice()
        rma_ids = []
        started = time.perf_counter()
        # The approvals' label PDFs are not rendered (see above): the RMAs, steps and emails are.
        no_label = mock.patch.object(registry["rma"], "_oms_attach_label", lambda rma: rma.env["ir.attachment"])
        with no_label:
            for order in orders:
                lines = order.order_line
                rmas = order._oms_request_return(
                    [
                        {
                            "sale_line": lines.filtered(lambda sol, p=product: sol.product_id == p),
                            "quantity": 1,
                            "reason": "does_not_fit",
                            "resolution": "refund",
                        }
                        for product in (mug, tea)
                    ]
                )
                rmas.action_oms_approve()
                rma_ids += rmas.ids
        setup_seconds = time.perf_counter() - started
        plain_ids = plain.ids
        cr.commit()
    print(
        f"setup: {opts.n} plain orders and {opts.n} channel orders shipped and invoiced; {len(rma_ids)} RMAs "
        f"requested and approved ({setup_seconds:.0f} s for the requests)"
    )

    def plain_returns(env):
        count = 0
        for order in env["sale.order"].browse(plain_ids):
            picking = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
            wizard = (
                env["stock.return.picking"]
                .with_context(active_id=picking.id, active_model="stock.picking")
                .create({"picking_id": picking.id})
            )
            for line in wizard.product_return_moves:
                line.quantity = 1.0 if line.product_id in (mug | tea) else 0.0
            returned = env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
            ship(returned)
            order._create_invoices(final=True).action_post()
            count += 2
        return count

    def oms_returns(env):
        rmas = env["rma"].browse(rma_ids)
        env["rma"]._oms_receive([(rma, rma.product_uom_qty, "resellable") for rma in rmas])
        assert set(rmas.mapped("state")) == {"refunded"}, set(rmas.mapped("state"))
        return len(rmas)

    plain_seconds = timed("(a) plain Odoo return wizard + credit note, order by order", plain_returns)
    if opts.profile:
        profiler = cProfile.Profile()
        oms_seconds = timed(
            "(b) OMS: RMAs received at once (stock, steps, emails, credit notes)",
            lambda env: profiler.runcall(oms_returns, env),
        )
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"oms_ecommerce|rma", 30)
    else:
        oms_seconds = timed("(b) OMS: RMAs received at once (stock, steps, emails, credit notes)", oms_returns)
    with registry.cursor() as cr:
        cr.execute(
            "SELECT count(*), sum(amount_total) FROM account_move WHERE move_type = 'out_refund' AND state = 'posted'"
        )
        count, total = cr.fetchone()
        print(f"credit notes posted: {count} for {total:.2f} in total (both sides: {opts.n} x 20.50 each)")
        assert count == 2 * opts.n and round(total, 2) == round(2 * opts.n * 20.50, 2), (count, total)
    print(f"ratio b/a={oms_seconds / plain_seconds:.2f}")


def main():
    common.with_database(parse_args(), run)


if __name__ == "__main__":
    main()
