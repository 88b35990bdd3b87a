#!/usr/bin/env python3
"""Shipping label benchmark of oms_ecommerce, against Odoo's own delivery slip, in one run.

Setup (not timed): N_PDF + N_ZPL channel orders received through the intake, confirmed, reserved and
packed on the packing service (one weighed parcel with a tracking number each). An Odoo HTTP server
on the bench database serves the report styles to wkhtmltopdf, as in production.

(a) Odoo's delivery slip (``stock.action_report_delivery``) of the N_PDF deliveries: one PDF;
(b) our 4 x 6 in shipping labels (``oms_ecommerce.action_report_shipping_label``) of the same N_PDF
    deliveries: one PDF, one page per parcel (Code 128 and QR images, print logged);
(c) our ZPL labels (``oms_ecommerce.action_report_shipping_label_zpl``) of N_ZPL deliveries: one file.
Prints seconds, pages and labels per second of each; last, the ratio of seconds per page b/a
(goal <= 1.0) and the ZPL rate (goal >= 500 labels/s).

Settings: ODOO_SRC, ADDONS_PATH, PGHOST, PGPORT, PGUSER, N_PDF (default 200), N_ZPL (default 1000),
OMS_BENCH_DB (default oms_bench_labels, dropped at the end unless OMS_BENCH_KEEP=1),
OMS_BENCH_PORT (default 8369).
"""

import io
import os
import time

import common


def parse_args():
    parser = common.parser(__doc__, "oms_bench_labels")
    parser.add_argument("--n-pdf", type=int, default=int(os.environ.get("N_PDF", 200)))
    parser.add_argument("--n-zpl", type=int, default=int(os.environ.get("N_ZPL", 1000)))
    parser.add_argument("--port", type=int, default=int(os.environ.get("OMS_BENCH_PORT", 8369)))
    return parser.parse_args()


def payload(index):
    return {
        "external_id": f"L-{index:05d}",
        "currency": "USD",
        "customer": {"email": f"label.customer{index % 50}@example.com", "name": f"Label Customer {index % 50}"},
        "shipping_address": {
            "name": f"Label Customer {index % 50}",
            "street": f"{index % 50 + 1} Main St",
            "city": "Springfield",
            "zip": "62701",
            "state_code": "IL",
            "country_code": "US",
            "phone": "+1 555 0100",
        },
        "lines": [
            {"sku": "LBL-MUG", "quantity": 2, "unit_price": 12.5},
            {"sku": "LBL-TEA", "quantity": 1, "unit_price": 8.0},
        ],
        "shipping": {"method": "standard", "price": 4.99},
        "payment": (
            {"status": "cod", "method": "cod", "amount": 0}
            if index % 4 == 0
            else {"status": "paid", "method": "card", "amount": 38.0, "reference": f"ch_{index}"}
        ),
        "gift_message": "Enjoy!" if index % 7 == 0 else "",
    }


def setup_pickings(env, count):
    """Channel deliveries, each packed in one weighed parcel with a tracking number."""
    warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
    products = env["product.product"].create(
        [
            {"name": "Label Mug", "default_code": "LBL-MUG", "type": "consu", "is_storable": True, "weight": 0.35},
            {"name": "Label Tea", "default_code": "LBL-TEA", "type": "consu", "is_storable": True, "weight": 0.1},
        ]
    )
    for product in products:
        env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 100000)
    ship_product = env["product.product"].create({"name": "Label shipping", "type": "service", "sale_ok": False})
    carrier = env["delivery.carrier"].create(
        {
            "name": "Label Post",
            "delivery_type": "fixed",
            "product_id": ship_product.id,
            "tracking_url": "https://track.example.com/p/<shipmenttrackingnumber>",
        }
    )
    box = env["stock.package.type"].create({"name": "Label Box", "base_weight": 0.2})
    channel = env["oms.channel"].create(
        {
            "name": "Labels",
            "code": "bench-labels",
            "carrier_map_ids": [(0, 0, {"method": "standard", "carrier_id": carrier.id})],
        }
    )
    results = env["oms.intake"]._receive(channel, [payload(i) for i in range(count)])
    orders = env["sale.order"].browse([body["id"] for status, body in results if status == 201])
    assert len(orders) == count, results[:3]
    orders.action_confirm()
    pickings = orders.picking_ids.filtered(lambda p: p.state == "assigned").sorted("id")
    for index, picking in enumerate(pickings):
        lines = [(ml, ml.quantity) for ml in picking.move_line_ids if ml.quantity]
        picking._oms_pack([{"lines": lines, "package_type": box, "weight": 1.0, "tracking_ref": f"1ZBENCH{index:06d}"}])
    assert len(pickings) == count
    return pickings


def run(opts):
    registry = common.open_registry(opts)
    from odoo import SUPERUSER_ID, api
    from odoo.tools.pdf import PdfReader

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param("report.url", f"http://127.0.0.1:{opts.port}")
        started = time.perf_counter()
        pickings = setup_pickings(env, max(opts.n_pdf, opts.n_zpl))
        picking_ids = pickings.ids
        cr.commit()
        print(
            f"setup: {len(picking_ids)} deliveries received, confirmed and packed in {time.perf_counter() - started:.0f} s"
        )

    def timed(report, ids, render):
        (content, _type), seconds, _queries = common.measure(
            registry, lambda env: getattr(env["ir.actions.report"], render)(report, ids)
        )
        return content, seconds

    pdf_ids = picking_ids[: opts.n_pdf]
    # Warm up both templates and wkhtmltopdf once (asset bundle generation is not what we measure).
    timed("stock.action_report_delivery", pdf_ids[:2], "_render_qweb_pdf")
    timed("oms_ecommerce.action_report_shipping_label", pdf_ids[:2], "_render_qweb_pdf")

    slip, slip_seconds = timed("stock.action_report_delivery", pdf_ids, "_render_qweb_pdf")
    slip_pages = len(PdfReader(io.BytesIO(slip)).pages)
    print(
        f"(a) Odoo delivery slips, {len(pdf_ids)} deliveries: {slip_seconds:.2f} s, {slip_pages} pages, "
        f"{slip_pages / slip_seconds:.1f} pages/s, {slip_seconds / slip_pages * 1000:.0f} ms/page"
    )
    labels, label_seconds = timed("oms_ecommerce.action_report_shipping_label", pdf_ids, "_render_qweb_pdf")
    label_pages = len(PdfReader(io.BytesIO(labels)).pages)
    assert label_pages == len(pdf_ids), (label_pages, len(pdf_ids))
    print(
        f"(b) OMS shipping labels PDF, {len(pdf_ids)} labels: {label_seconds:.2f} s, {label_pages} pages, "
        f"{label_pages / label_seconds:.1f} labels/s, {label_seconds / label_pages * 1000:.0f} ms/page"
    )
    zpl_ids = picking_ids[: opts.n_zpl]
    zpl, zpl_seconds = timed("oms_ecommerce.action_report_shipping_label_zpl", zpl_ids, "_render_qweb_text")
    zpl_text = zpl.decode() if isinstance(zpl, bytes) else str(zpl)
    blocks = zpl_text.count("^XA")
    assert blocks == len(zpl_ids) == zpl_text.count("^XZ"), (blocks, len(zpl_ids))
    print(f"(c) OMS shipping labels ZPL, {blocks} labels: {zpl_seconds:.2f} s, {blocks / zpl_seconds:.0f} labels/s")
    per_page = (label_seconds / label_pages) / (slip_seconds / slip_pages)
    print(
        f"ratio seconds per page b/a={per_page:.2f} (goal <= 1.0); "
        f"ZPL {blocks / zpl_seconds:.0f} labels/s (goal >= 500)"
    )


def main():
    common.with_database(parse_args(), run, server=True)


if __name__ == "__main__":
    main()
