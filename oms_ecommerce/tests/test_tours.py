from odoo.tests import HttpCase, tagged

from .common import OmsCommon, OmsPackingCommon, order_payload


@tagged("post_install", "-at_install")
class TestOrderDeskTours(HttpCase, OmsCommon):
    def test_intake_retry_tour(self):
        [(status, body)] = self.receive(order_payload("TOUR-1001", lines=[{"sku": "TOUR-SKU", "quantity": 2}]))
        self.assertEqual((status, body["error"]["code"]), (422, "unknown_sku"))
        # The order desk fixes the master data; the tour then retries from the intake form.
        self.env["product.product"].create({"name": "Tour Product", "default_code": "TOUR-SKU", "list_price": 7})
        self.start_tour("/odoo/action-oms_ecommerce.oms_intake_action", "oms_intake_retry_tour", login="oms_user")
        intake = self.env["oms.intake"].browse(body["intake"])
        self.assertEqual(intake.state, "done")
        self.assertEqual(intake.order_id.oms_external_id, "TOUR-1001")

    def test_confirm_order_tour(self):
        self.company.email = "shop@example.com"
        [(status, body)] = self.receive(order_payload("TOUR-2001"))
        self.assertEqual(status, 201)
        order = self.env["sale.order"].browse(body["id"])
        self.assertEqual(order.oms_step, "received")
        self.start_tour("/odoo/action-oms_ecommerce.sale_order_action_oms", "oms_confirm_order_tour", login="oms_user")
        self.assertEqual(order.state, "sale")
        confirmed = order.oms_step_ids.filtered(lambda s: s.step == "confirmed")
        self.assertEqual(confirmed.notification, "queued", "a queue job composes it right after")
        self.run_step_email_jobs()
        self.assertEqual(confirmed.notification, "sent")
        self.assertIn("is confirmed and is being prepared", str(confirmed.mail_message_id.body))


@tagged("post_install", "-at_install")
class TestPackingTour(HttpCase, OmsPackingCommon):
    def test_pack_tour(self):
        picking = self.delivery("TOUR-PACK")
        self.start_tour("/odoo/action-oms_ecommerce.oms_delivery_action", "oms_pack_tour", login="oms_team_packer")
        self.assertRecordValues(
            picking.oms_package_ids,
            [{"shipping_weight": 1.02, "oms_tracking_ref": "TOURTRACK1", "oms_expected_weight": 1.0}],
        )
        self.assertEqual(picking.sale_id.oms_step, "packed")
