# Longer than ~430 lines on purpose: a return's scenarios from the request to the refund share one shipped order's set-up.
import io

import openpyxl

from odoo import fields, http
from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import config
from odoo.tools.pdf import PdfReader

from .common import OmsPackingCommon


class OmsReturnsCommon(OmsPackingCommon):
    """Delivered channel orders of 2 mugs at 12.50 and 1 tea at 8.00 - 10 %, without taxes, invoiced."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        (cls.mug | cls.tea | cls.carrier.product_id).write({"taxes_id": [fields.Command.clear()]})
        journal = cls.env["account.journal"].create(
            {"name": "Test Shop Payments", "code": "TSRPY", "type": "bank", "company_id": cls.company.id}
        )
        cls.channel.write({"invoice_policy": "confirmed", "payment_journal_id": journal.id, "return_window_days": 30})
        cls.scarf = cls.env["product.product"].create(
            {"name": "OMS Scarf", "default_code": "OMS-SCARF", "type": "consu", "is_storable": True, "list_price": 20}
        )
        cls.env["stock.quant"]._update_available_quantity(cls.scarf, cls.warehouse.lot_stock_id, 10)

    def delivered_order(self, external_id="rt-1", invoice=True):
        picking = self.delivery(external_id)
        order = picking.sale_id
        self.ship(picking)
        order.action_oms_mark_delivered()
        self.assertEqual(order.oms_step, "delivered")
        if invoice:
            order._oms_invoice()
            self.assertEqual(order.invoice_ids.mapped("state"), ["posted"])
            self.assertFalse(order.oms_accounting_error)
        return order

    def line(self, order, product):
        return order.order_line.filtered(lambda sol: sol.product_id == product)

    def ask(self, order, *items, **kwargs):
        """Request a return of ``items``: (product, quantity[, resolution[, exchange product]])."""
        lines = []
        for item in items:
            product, qty = item[0], item[1]
            resolution = item[2] if len(item) > 2 else "refund"
            lines.append(
                {
                    "sale_line": self.line(order, product),
                    "quantity": qty,
                    "reason": "does_not_fit",
                    "resolution": resolution,
                    "exchange_product": item[3] if len(item) > 3 else self.env["product.product"],
                    "comment": "too small",
                }
            )
        return order._oms_request_return(lines, **kwargs)

    def customer_emails(self, rmas):
        """The emails to the customer posted on these returns: (subject) per email, in order."""
        messages = self.env["mail.message"].search(
            [("model", "=", "rma"), ("res_id", "in", rmas.ids), ("partner_ids", "in", rmas.partner_id.ids)],
            order="id",
        )
        return messages.mapped("subject")

    def steps(self, rma):
        return rma._oms_lead().oms_step_ids.sorted("id").mapped("step")


@tagged("post_install", "-at_install")
class TestReturns(OmsReturnsCommon):
    # ------------------------------------------------------------------
    # 1. The customer asks
    # ------------------------------------------------------------------
    def test_request_creates_oca_rmas_and_acknowledges_once(self):
        order = self.delivered_order()
        rmas = self.ask(order, (self.mug, 1), (self.tea, 1))
        self.assertEqual(len(rmas), 2)
        lead = rmas[0]
        self.assertRecordValues(
            rmas,
            [
                {
                    "state": "draft",
                    "order_id": order.id,
                    "product_id": self.mug.id,
                    "product_uom_qty": 1,
                    "oms_reason": "does_not_fit",
                    "oms_resolution": "refund",
                    "oms_lead_id": False,
                    "oms_channel_id": self.channel.id,
                },
                {
                    "state": "draft",
                    "order_id": order.id,
                    "product_id": self.tea.id,
                    "product_uom_qty": 1,
                    "oms_reason": "does_not_fit",
                    "oms_resolution": "refund",
                    "oms_lead_id": lead.id,
                    "oms_channel_id": self.channel.id,
                },
            ],
        )
        # OCA's links: the delivered move and its sale line
        self.assertEqual(rmas.sale_line_id, self.line(order, self.mug) | self.line(order, self.tea))
        self.assertEqual(rmas.operation_id, self.env.ref("oms_ecommerce.rma_operation_oms_refund"))
        self.assertEqual(self.steps(lead), ["requested"])
        subjects = self.customer_emails(rmas)
        self.assertEqual(len(subjects), 1, "one acknowledgement for the whole request")
        self.assertIn(lead.name, subjects[0])

    def test_window_and_final_sale(self):
        order = self.delivered_order(invoice=False)
        self.tea.oms_final_sale = True
        with self.assertRaisesRegex(UserError, "final sale"):
            self.ask(order, (self.tea, 1))
        self.channel.return_window_days = 0
        self.assertRegex(order._oms_return_problem(), "return window")
        with self.assertRaisesRegex(UserError, "return window"):
            self.ask(order, (self.mug, 1))
        self.assertFalse(self.env["rma"].search([("order_id", "=", order.id)]))
        # not shipped yet: nothing to return
        picking = self.delivery("rt-open")
        self.assertRegex(picking.sale_id._oms_return_problem(), "shipped")

    def test_quantities_never_above_delivered_with_two_returns(self):
        order = self.delivered_order(invoice=False)
        mug = self.line(order, self.mug)
        self.assertEqual(order._oms_returnable_qty()[mug], 2)
        with self.assertRaisesRegex(UserError, "At most 2"):
            self.ask(order, (self.mug, 3))
        first = self.ask(order, (self.mug, 1))
        self.assertEqual(order._oms_returnable_qty()[mug], 1)
        with self.assertRaisesRegex(UserError, "At most 1"):
            self.ask(order, (self.mug, 2))
        second = self.ask(order, (self.mug, 1))
        self.assertEqual(order._oms_returnable_qty()[mug], 0)
        with self.assertRaisesRegex(UserError, "At most 0"):
            self.ask(order, (self.mug, 1))
        # rma_sale's own form (allowed quantity) follows the same count
        self.assertEqual(mug._get_rma_allowed_quantity(), 0)
        # a refused request gives its quantity back
        second.oms_refuse_reason = "Worn"
        second.action_oms_refuse()
        self.assertEqual(order._oms_returnable_qty()[mug], 1)
        self.assertEqual(first.state, "draft")

    def test_quantities_count_odoo_return_pickings(self):
        order = self.delivered_order(invoice=False)
        picking = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
        wizard = (
            self.env["stock.return.picking"]
            .with_context(active_id=picking.id, active_model="stock.picking")
            .create({"picking_id": picking.id})
        )
        for line in wizard.product_return_moves:
            line.quantity = 1.0 if line.product_id == self.mug else 0.0
        self.ship(self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"]))
        self.assertEqual(order._oms_returnable_qty()[self.line(order, self.mug)], 1)

    # ------------------------------------------------------------------
    # 2. The merchant decides
    # ------------------------------------------------------------------
    def test_manual_approval_sends_the_label_and_the_picking_waits(self):
        order = self.delivered_order()
        rmas = self.ask(order, (self.mug, 2), (self.tea, 1))
        self.assertEqual(set(rmas.mapped("state")), {"draft"})
        rmas[1].action_oms_approve()  # from any line: the whole request
        self.assertEqual(set(rmas.mapped("state")), {"confirmed"})
        receipt = rmas.reception_move_id.picking_id
        self.assertEqual(len(receipt), 1, "one return picking for the request")
        self.assertEqual(receipt.state, "assigned")
        self.assertEqual(receipt.location_dest_id, self.warehouse.rma_loc_id)
        self.assertEqual(self.steps(rmas[0]), ["requested", "approved", "label_sent"])
        self.assertTrue(rmas[0]._oms_label_attachment())
        messages = self.env["mail.message"].search(
            [("model", "=", "rma"), ("res_id", "=", rmas[0].id), ("partner_ids", "in", order.partner_id.ids)],
            order="id",
        )
        self.assertEqual(len(messages), 2)
        self.assertEqual(messages[-1].attachment_ids.mapped("name"), [f"{rmas[0].name}-return-label.pdf"])
        with self.assertRaisesRegex(UserError, "draft"):
            rmas.action_oms_approve()

    def test_refusal_tells_the_customer_why(self):
        order = self.delivered_order()
        rma = self.ask(order, (self.mug, 1))
        with self.assertRaisesRegex(UserError, "reason"):
            rma.action_oms_refuse()
        rma.oms_refuse_reason = "Used item"
        rma.action_oms_refuse()
        self.assertEqual(rma.state, "cancelled")
        self.assertEqual(self.steps(rma), ["requested", "refused"])
        message = self.env["mail.message"].search(
            [("model", "=", "rma"), ("res_id", "=", rma.id), ("partner_ids", "in", order.partner_id.ids)],
            order="id desc",
            limit=1,
        )
        self.assertIn("Used item", message.body)

    def test_auto_approval_by_channel_rule(self):
        self.channel.write({"return_auto_approve": True, "return_auto_approve_max_amount": 100.0})
        order = self.delivered_order("rt-auto")
        rma = self.ask(order, (self.mug, 1))
        self.assertEqual(rma.state, "confirmed")
        self.assertEqual(self.steps(rma), ["requested", "approved", "label_sent"])
        # above the limit: by hand
        self.channel.return_auto_approve_max_amount = 20.0
        order2 = self.delivered_order("rt-auto-2")
        rma2 = self.ask(order2, (self.mug, 1))
        self.assertEqual(rma2.state, "draft")
        self.assertRegex(rma2._oms_auto_approve_problem(), "limit")

    # ------------------------------------------------------------------
    # 3. The parcel comes back
    # ------------------------------------------------------------------
    def test_receipt_by_barcode_into_stock_and_quarantine_and_credit_note(self):
        order = self.delivered_order()
        stock = self.warehouse.lot_stock_id
        mugs_before = self.mug.with_context(location=stock.id).qty_available
        teas_before = self.tea.with_context(location=stock.id).qty_available
        rmas = self.ask(order, (self.mug, 2), (self.tea, 1))
        rmas.action_oms_approve()
        # As in the browser: the scan of the label fills the items (a computed field), then the packer edits them.
        form = Form(self.env["oms.rma.receive"])
        self.assertEqual(len(form.line_ids), 0)
        form.barcode = rmas[0].name
        self.assertEqual(len(form.line_ids), 2, "every approved return of the parcel")
        for index in range(len(form.line_ids)):
            with form.line_ids.edit(index) as line:
                self.assertEqual(line.condition, "resellable")
                if line.rma_id.product_id == self.tea:
                    line.condition = "damaged"
                else:
                    self.assertEqual(line.quantity, 2)
                    line.quantity = 1  # one mug of the two came back
        wizard = form.save()
        self.assertEqual(wizard.line_ids.rma_id, rmas)
        wizard.action_receive()
        quarantine = self.warehouse.oms_quarantine_location_id
        self.assertEqual(quarantine.usage, "internal")
        self.assertEqual(self.mug.with_context(location=stock.id).qty_available, mugs_before + 1)
        self.assertEqual(self.tea.with_context(location=stock.id).qty_available, teas_before)
        self.assertEqual(self.tea.with_context(location=quarantine.id).qty_available, 1)
        self.assertEqual(order.oms_step, "returned")
        self.assertIn("returned", order.oms_step_ids.mapped("step"))
        # the order's credit of returned quantities, once, to the cent: 1 x 12.50 + 1 x 8.00 - 10 %
        refunds = order.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(len(refunds), 1)
        self.assertEqual(refunds.state, "posted")
        self.assertAlmostEqual(refunds.amount_total, 19.70, places=2)
        self.assertRecordValues(rmas, [{"state": "refunded", "refund_id": refunds.id, "product_uom_qty": 1}] * 2)
        order._oms_refund()
        self.assertEqual(len(order.invoice_ids.filtered(lambda m: m.move_type == "out_refund")), 1)
        self.assertEqual(self.steps(rmas[0]), ["requested", "approved", "label_sent", "received", "refunded"])
        # one email per step that emails: requested, approved (label), received, refunded
        self.assertEqual(len(self.customer_emails(rmas)), 4)
        # the mug not sent back can still be returned
        self.assertEqual(order._oms_returnable_qty()[self.line(order, self.mug)], 1)

    def test_exchange_sends_a_replacement_delivery(self):
        order = self.delivered_order()
        rma = self.ask(order, (self.mug, 1, "exchange", self.scarf))
        rma.action_oms_approve()
        self.env["rma"]._oms_receive([(rma, 1, "resellable")])
        self.assertEqual(rma.state, "waiting_replacement")
        replacement = rma.delivery_move_ids.picking_id
        self.assertEqual(len(replacement), 1)
        self.assertRecordValues(
            replacement,
            [
                {
                    "picking_type_code": "outgoing",
                    "carrier_id": self.carrier.id,
                    "partner_id": order.partner_shipping_id.id,
                }
            ],
        )
        self.assertEqual(replacement.move_ids.product_id, self.scarf)
        # no credit note for an exchange
        self.assertFalse(order.invoice_ids.filtered(lambda m: m.move_type == "out_refund"))
        self.ship(replacement)
        self.assertEqual(rma.state, "replaced")
        self.assertEqual(self.steps(rma), ["requested", "approved", "label_sent", "received", "exchanged"])
        self.assertEqual(len(self.customer_emails(rma)), 4)

    def test_receiving_more_than_returned_is_refused(self):
        order = self.delivered_order()
        rma = self.ask(order, (self.mug, 1))
        with self.assertRaisesRegex(UserError, "not waiting"):
            self.env["rma"]._oms_receive([(rma, 1, "resellable")])
        rma.action_oms_approve()
        with self.assertRaisesRegex(UserError, "only 1"):
            self.env["rma"]._oms_receive([(rma, 2, "resellable")])
        self.assertEqual(rma.state, "confirmed")

    # ------------------------------------------------------------------
    # The desk
    # ------------------------------------------------------------------
    def test_desk_opens_a_return_from_a_ticket(self):
        order = self.delivered_order()
        ticket = self.env["oms.ticket"].create(
            {"subject": "Too small", "order_id": order.id, "partner_id": order.partner_id.id}
        )
        wizard = (
            self.env["oms.rma.request"].with_user(self.oms_user).with_context(default_ticket_id=ticket.id).create({})
        )
        self.assertEqual(wizard.order_id, order)
        wizard.line_ids.filtered(lambda line: line.product_id == self.mug).write(
            {"quantity": 1, "reason": "does_not_fit"}
        )
        wizard.action_request()
        rma = self.env["rma"].search([("oms_ticket_id", "=", ticket.id)])
        self.assertRecordValues(rma, [{"product_id": self.mug.id, "product_uom_qty": 1, "state": "draft"}])
        # the XLSX export, read back
        workbook = openpyxl.load_workbook(io.BytesIO(rma._oms_xlsx()))
        rows = list(workbook.active.iter_rows(values_only=True))
        self.assertEqual(rows[0][:4], ("RMA", "Date", "Channel", "Order"))
        self.assertEqual(rows[1][0], rma.name)
        self.assertEqual(rows[1][3], order.name)
        self.assertEqual(rows[1][4], ticket.name)
        self.assertEqual(rows[1][8], "Does not fit")
        self.assertEqual(rows[1][7], 1)

    def test_return_rate_per_channel_product_and_reason(self):
        order = self.delivered_order()
        rma = self.ask(order, (self.mug, 1))
        rma.action_oms_approve()
        self.env["rma"]._oms_receive([(rma, 1, "resellable")])
        self.env.flush_all()
        Report = self.env["oms.return.report"]
        [(_product, delivered, returned, rate)] = [
            row
            for row in Report._read_group(
                [("channel_id", "=", self.channel.id)],
                ["product_id"],
                ["qty_delivered:sum", "qty_returned:sum", "return_rate:sum"],
            )
            if row[0] == self.mug
        ]
        self.assertEqual((delivered, returned), (2.0, 1.0))
        self.assertAlmostEqual(rate, 50.0)
        by_reason = dict(Report._read_group([("channel_id", "=", self.channel.id)], ["reason"], ["qty_returned:sum"]))
        self.assertEqual(by_reason["does_not_fit"], 1.0)


@tagged("post_install", "-at_install")
class TestReturnsPortal(HttpCase, OmsReturnsCommon):
    """The label read back from the PDF, the portal form over HTTP, and another customer's return (404)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("report.url", f"http://127.0.0.1:{config['http_port']}")

    def test_label_pdf_and_zpl_content(self):
        order = self.delivered_order()
        rmas = self.ask(order, (self.mug, 1), (self.tea, 1))
        rmas.action_oms_approve()
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        pdf, _kind = Report._render_qweb_pdf("oms_ecommerce.action_report_rma_label", rmas.ids)
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
        self.assertEqual(len(pages), 1, "one label per request")
        text = " ".join(pages[0].split())
        warehouse_partner = self.warehouse.partner_id
        self.assertIn("SHIP TO", text)
        self.assertIn(warehouse_partner.name, text)
        self.assertIn("FROM Ann Lee", text)
        self.assertIn("Springfield", text)
        self.assertIn(rmas[0].name, text)
        self.assertIn(order.name, text)
        zpl, _kind = Report._render_qweb_text("oms_ecommerce.action_report_rma_label_zpl", rmas.ids)
        zpl = zpl.decode()
        self.assertEqual(zpl.count("^XA"), 1)
        self.assertIn(f"^BCN,160,Y,N,N^FD{rmas[0].name}^FS", zpl)
        self.assertIn(f"^BQN,2,4^FDQA,{rmas[0].get_base_url()}/my/rmas/{rmas[0].id}", zpl)

    def test_portal_request_and_label_download_and_404(self):
        order = self.delivered_order()
        ann = new_test_user(self.env, "ann_portal", groups="base.group_portal", partner_id=order.partner_id.id)
        self.assertTrue(ann)
        self.authenticate("ann_portal", "ann_portal")
        page = self.url_open(f"/my/orders/{order.id}")
        self.assertIn(f"/my/orders/{order.id}/return", page.text)
        form = self.url_open(f"/my/orders/{order.id}/return")
        self.assertEqual(form.status_code, 200)
        mug = self.line(order, self.mug)
        data = {
            "csrf_token": http.Request.csrf_token(self),
            f"qty-{mug.id}": "3",
            f"reason-{mug.id}": "damaged",
            f"resolution-{mug.id}": "refund",
        }
        too_many = self.url_open(f"/my/orders/{order.id}/return", data=data)
        self.assertEqual(too_many.status_code, 400)
        self.assertIn("At most 2", too_many.text)
        data[f"qty-{mug.id}"] = "1"
        done = self.url_open(
            f"/my/orders/{order.id}/return", data=data, files={"photos": ("broken.png", b"\x89PNG fake", "image/png")}
        )
        self.assertEqual(done.status_code, 200)
        rma = self.env["rma"].search([("order_id", "=", order.id)])
        self.assertRecordValues(rma, [{"product_uom_qty": 1, "oms_reason": "damaged", "state": "draft"}])
        self.assertEqual(
            self.env["ir.attachment"].search([("res_model", "=", "rma"), ("res_id", "=", rma.id)]).mapped("name"),
            ["broken.png"],
        )
        rma.with_context(force_report_rendering=True).action_oms_approve()
        label = self.url_open(f"/my/rmas/{rma.id}/label")
        self.assertEqual(label.status_code, 200)
        self.assertEqual(label.headers["Content-Type"], "application/pdf")
        self.assertTrue(label.content.startswith(b"%PDF"))
        self.assertIn("Download the return label", self.url_open(f"/my/rmas/{rma.id}").text)
        # another customer: 404, for the page, the label and the order's return form
        self.authenticate("oms_portal", "oms_portal")
        self.assertEqual(self.url_open(f"/my/rmas/{rma.id}").status_code, 404)
        self.assertEqual(self.url_open(f"/my/rmas/{rma.id}/label").status_code, 404)
        self.assertEqual(self.url_open(f"/my/orders/{order.id}/return").status_code, 404)

    def test_portal_return_tour(self):
        self.channel.write({"return_auto_approve": True, "return_auto_approve_max_amount": 0.0})
        order = self.delivered_order()
        new_test_user(self.env, "ann_portal", groups="base.group_portal", partner_id=order.partner_id.id)
        self.start_tour(f"/my/orders/{order.id}", "oms_portal_return_tour", login="ann_portal")
        rma = self.env["rma"].search([("order_id", "=", order.id)])
        self.assertRecordValues(rma, [{"product_id": self.mug.id, "product_uom_qty": 1, "oms_reason": "damaged"}])
        self.assertEqual(rma.state, "confirmed")
        self.assertTrue(rma._oms_label_attachment())
