import json
from unittest.mock import patch

import psycopg2.errors

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import OmsCommon, order_payload, placed_days_ago


@tagged("post_install", "-at_install")
class TestIntake(OmsCommon):
    def test_created_order_maps_the_payload(self):
        # Longer than ~60 lines on purpose: every field of the payload checked on the order.
        [(status, body)] = self.receive(order_payload())
        self.assertEqual(status, 201)
        self.assertEqual(body["status"], "created")
        intake = self.Intake.browse(body["intake"])
        order = self.env["sale.order"].browse(body["id"])
        self.assertEqual(body["order"], order.name)
        self.assertRecordValues(
            intake,
            [{"state": "done", "external_id": "1001", "order_id": order.id, "error_code": False, "source": "api"}],
        )
        self.assertEqual(json.loads(intake.payload)["external_id"], "1001", "the payload is stored as it came")
        self.assertRecordValues(
            order,
            [
                {
                    "oms_channel_id": self.channel.id,
                    "oms_external_id": "1001",
                    "state": "draft",
                    "oms_step": "received",
                    "oms_customer_note": "Leave at the door",
                    "oms_payment_status": "paid",
                    "oms_payment_reference": "ch_123",
                    "carrier_id": self.carrier.id,
                    "warehouse_id": self.warehouse.id,
                    "client_order_ref": "1001",
                    "date_order": placed_days_ago(),
                    "oms_placed_at": placed_days_ago(),
                }
            ],
        )
        customer = order.partner_id
        self.assertRecordValues(
            customer,
            [
                {
                    "name": "Ann Lee",
                    "email": "ann@example.com",
                    "lang": "en_US",
                    "city": "Springfield",
                    "parent_id": False,
                }
            ],
        )
        self.assertEqual((customer.state_id.code, customer.country_id.code), ("IL", "US"))
        self.assertEqual(order.partner_shipping_id, customer, "same address as the customer: no extra contact")
        product_lines = order.order_line.filtered(lambda line: not line.is_delivery)
        self.assertRecordValues(
            product_lines,
            [
                {"product_id": self.mug.id, "product_uom_qty": 2, "price_unit": 12.5, "discount": 0},
                {"product_id": self.tea.id, "product_uom_qty": 1, "price_unit": 8.0, "discount": 10},
            ],
        )
        delivery_line = order.order_line.filtered("is_delivery")
        self.assertRecordValues(delivery_line, [{"product_id": self.carrier.product_id.id, "price_unit": 4.99}])
        self.assertEqual(order.oms_step_ids.mapped("step"), ["received"])
        self.assertIn(
            "through intake", order.message_ids.mapped("body")[-1] + "".join(order.message_ids.mapped("body"))
        )
        self.assertFalse(
            intake.message_ids.filtered(lambda m: order.name in (m.body or "")),
            "the intake's state and order say it: one chatter line per order received, the order's",
        )

    def test_delivery_and_invoice_contacts(self):
        payload = order_payload(
            billing_address={
                "name": "Ann Lee",
                "street": "9 Office Park",
                "city": "Chicago",
                "zip": "60601",
                "state_code": "IL",
                "country_code": "US",
            }
        )
        payload["shipping_address"].update(name="Bob Lee", street="5 Elm St")
        [(status, body)] = self.receive(payload)
        self.assertEqual(status, 201)
        order = self.env["sale.order"].browse(body["id"])
        customer = order.partner_id
        self.assertEqual(customer.street, "9 Office Park", "a new customer gets the billing address")
        self.assertRecordValues(
            order.partner_shipping_id,
            [{"type": "delivery", "parent_id": customer.id, "name": "Bob Lee", "street": "5 Elm St"}],
        )
        self.assertEqual(order.partner_invoice_id, customer)
        # The next order of the same customer (email in another case) reuses the customer and the contact.
        payload2 = dict(payload, external_id="1002", customer=dict(payload["customer"], email="ANN@example.com"))
        [(status, body)] = self.receive(payload2)
        order2 = self.env["sale.order"].browse(body["id"])
        self.assertEqual(order2.partner_id, customer)
        self.assertEqual(order2.partner_shipping_id, order.partner_shipping_id)

    def test_product_by_barcode(self):
        payload = order_payload(lines=[{"sku": "9990000000024", "quantity": 3}])
        [(status, body)] = self.receive(payload)
        self.assertEqual(status, 201)
        line = self.env["sale.order"].browse(body["id"]).order_line.filtered(lambda line: not line.is_delivery)
        self.assertRecordValues(line, [{"product_id": self.tea.id, "product_uom_qty": 3, "price_unit": 9.0}])

    def test_duplicate_never_makes_a_second_order(self):
        [(_s, first)] = self.receive(order_payload())
        [(status, body)] = self.receive(order_payload())
        self.assertEqual(status, 200)
        self.assertEqual(body, {"status": "duplicate", "order": first["order"], "id": first["id"]})
        self.assertEqual(self.env["sale.order"].search_count([("oms_external_id", "=", "1001")]), 1)
        intakes = self.Intake.search([("external_id", "=", "1001")])
        self.assertEqual(sorted(intakes.mapped("state")), ["done", "duplicate"], "every payload is kept")
        # Even a direct second insert is refused by the database.
        order = self.env["sale.order"].browse(first["id"])
        with self.assertRaises(psycopg2.errors.UniqueViolation), self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
            order.copy({"oms_channel_id": self.channel.id, "oms_external_id": "1001"})

    def test_error_codes(self):
        self.env.ref("base.EUR").active = True
        self.env["product.product"].create({"name": "Old", "default_code": "OMS-OLD", "active": False})
        cases = [
            ("unknown_sku", order_payload("e1", lines=[{"sku": "NOPE-1", "quantity": 1}]), "NOPE-1"),
            (
                "unknown_country",
                order_payload("e2", shipping_address=dict(order_payload()["shipping_address"], country_code="XX")),
                "XX",
            ),
            ("unknown_currency", order_payload("e3", currency="XYZ"), "XYZ"),
            ("inactive_product", order_payload("e4", lines=[{"sku": "OMS-OLD", "quantity": 1}]), "OMS-OLD"),
            ("mapping_error", order_payload("e5", shipping={"method": "teleport", "price": 1}), "teleport"),
        ]
        for code, payload, named in cases:
            with self.subTest(code=code):
                [(status, body)] = self.receive(payload)
                self.assertEqual(status, 422)
                self.assertEqual(body["status"], "error")
                self.assertEqual(body["error"]["code"], code)
                self.assertIn(named, body["error"]["message"], "the message names what to fix")
                intake = self.Intake.browse(body["intake"])
                self.assertRecordValues(
                    intake,
                    [{"state": "error", "error_code": code, "order_id": False, "external_id": payload["external_id"]}],
                )
                self.assertEqual(json.loads(intake.payload), payload, "the payload stays")
        self.assertFalse(self.env["sale.order"].search([("oms_external_id", "in", ["e1", "e2", "e3", "e4", "e5"])]))
        # A currency Odoo knows but that is not active, and one without a pricelist.
        self.env.ref("base.EUR").active = False
        [(_s, body)] = self.receive(order_payload("e6", currency="EUR"))
        self.assertEqual(body["error"]["code"], "unknown_currency")
        self.assertIn("not active", body["error"]["message"])

    def test_invalid_payloads_name_the_field(self):
        base = order_payload()
        cases = [
            ({k: v for k, v in base.items() if k != "external_id"}, "external_id"),
            (dict(base, customer={"name": "x"}), "customer.email"),
            (dict(base, customer={"email": "not-an-email"}), "customer.email"),
            (dict(base, shipping_address={"name": "x", "street": "y", "city": "z"}), "shipping_address.country_code"),
            (dict(base, lines=[]), "lines"),
            (dict(base, lines=[{"sku": "OMS-MUG", "quantity": 0}]), "lines[0].quantity"),
            (dict(base, lines=[{"sku": "OMS-MUG", "quantity": 1}, {"quantity": 1}]), "lines[1].sku"),
            (dict(base, payment={"status": "maybe"}), "payment.status"),
            (dict(base, placed_at="yesterday"), "placed_at"),
        ]
        for payload, field in cases:
            with self.subTest(field=field):
                [(status, body)] = self.receive(payload)
                self.assertEqual(status, 400)
                self.assertEqual(body["status"], "invalid")
                self.assertEqual(body["error"]["code"], "invalid_payload")
                self.assertEqual(body["error"]["field"], field)
        [(status, body)] = self.receive("{not json")
        self.assertEqual((status, body["error"]["code"]), (400, "invalid_payload"))
        stored = self.Intake.search([("payload", "=", "{not json")])
        self.assertRecordValues(stored, [{"state": "error", "error_code": "invalid_payload"}])

    def test_retry_after_fixing(self):
        [(_s, body)] = self.receive(order_payload("r1", lines=[{"sku": "NEW-SKU", "quantity": 2}]))
        [(_s, body2)] = self.receive(order_payload("r2", lines=[{"sku": "NEW-SKU", "quantity": 1}]))
        intakes = self.Intake.browse([body["intake"], body2["intake"]])
        self.assertEqual(intakes.mapped("state"), ["error", "error"])
        intakes.with_user(self.oms_user).action_retry()
        self.assertEqual(intakes.mapped("state"), ["error", "error"], "nothing fixed yet")
        self.assertEqual(intakes.mapped("attempt_count"), [2, 2])
        self.env["product.product"].create({"name": "New", "default_code": "NEW-SKU", "list_price": 3.0})
        result = intakes.with_user(self.oms_user).action_retry()  # bulk retry from the list
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(intakes.mapped("state"), ["done", "done"])
        self.assertRecordValues(
            intakes.order_id.sorted("oms_external_id"),
            [
                {"oms_external_id": "r1", "oms_channel_id": self.channel.id},
                {"oms_external_id": "r2", "oms_channel_id": self.channel.id},
            ],
        )
        self.assertEqual(intakes[0].order_id.create_uid, self.oms_user)
        for intake in intakes:  # under its errors, the retry that created the order
            self.assertIn(f"Order {intake.order_id.name} created.", intake.message_ids[0].body)

    def test_corrected_payload_and_resend_supersede_errors(self):
        payload = order_payload("c1", shipping_address=dict(order_payload()["shipping_address"], country_code="XX"))
        [(_s, body)] = self.receive(payload)
        intake = self.Intake.browse(body["intake"])
        # The channel sends the corrected order again: the old intake is superseded, not left in error.
        [(status, body2)] = self.receive(order_payload("c1"))
        self.assertEqual(status, 201)
        self.assertRecordValues(intake, [{"state": "duplicate", "order_id": body2["id"]}])
        # The order desk can also correct the payload of an intake in error and retry it.
        [(_s, body3)] = self.receive(order_payload("c2", currency="QQQ"))
        bad = self.Intake.browse(body3["intake"])
        bad.payload = json.dumps(order_payload("c2"))
        bad.action_retry()
        self.assertEqual(bad.state, "done")

    def test_cancel_before_creation_is_kept(self):
        [(_s, body)] = self.receive(order_payload("x1", lines=[{"sku": "LATER", "quantity": 1}]))
        intake = self.Intake.browse(body["intake"])
        intake.cancel_requested = True
        self.env["product.product"].create({"name": "Later", "default_code": "LATER"})
        intake.action_retry()
        self.assertEqual(intake.order_id.state, "cancel")
        self.assertEqual(intake.order_id.oms_step, "cancelled")

    @mute_logger("odoo.addons.oms_ecommerce.models.oms_intake")
    def test_unexpected_failure_keeps_the_payload(self):
        """A bug in mapping or in the confirmation policy never loses the order nor shows a traceback."""
        Intake = type(self.Intake)
        with patch.object(Intake, "_prepare_order_values", side_effect=RuntimeError("mapping bug")):
            [(status, body)] = self.receive(order_payload("boom-1"))
        self.assertEqual(status, 422)
        self.assertEqual(body["error"]["code"], "mapping_error")
        self.assertIn("mapping bug", body["error"]["message"])
        intake = self.Intake.browse(body["intake"])
        self.assertRecordValues(intake, [{"state": "error", "order_id": False}])
        self.assertEqual(json.loads(intake.payload)["external_id"], "boom-1")
        intake.action_retry()  # fixed: the same payload creates the order
        self.assertEqual(intake.state, "done")
        SaleOrder = type(self.env["sale.order"])
        real_confirm = SaleOrder._oms_confirm_safely

        def confirm_then_fail(orders):
            real_confirm(orders)  # the orders are confirmed, steps and pickings made, then the policy breaks
            raise RuntimeError("policy bug")

        # The policy fails choosing the orders (reads only, no savepoint), or after confirming them: its savepoint
        # takes the confirmation back, the order stays received.
        self.channel.confirm_policy = "all"
        for method, patched, external_id in (
            ("_oms_auto_confirmable", {"side_effect": RuntimeError("policy bug")}, "boom-2"),
            ("_oms_confirm_safely", {"new": confirm_then_fail}, "boom-3"),
        ):
            with patch.object(SaleOrder, method, **patched):
                [(status, body)] = self.receive(order_payload(external_id))
            self.assertEqual(status, 201, "the order exists even if its confirmation policy failed")
            order = self.env["sale.order"].browse(body["id"])
            self.assertEqual(order.state, "draft")
            self.assertFalse(order.picking_ids)
            self.assertEqual(order.oms_step_ids.mapped("step"), ["received"])
            self.assertIn("confirm this order by hand", " ".join(order.message_ids.mapped("body")))

    def test_batch_of_orders_in_bounded_queries(self):
        """Intake costs a bounded number of queries per order, whatever the batch size."""
        self.receive(order_payload("warm"))  # customer exists afterwards, as for most repeat buyers
        payloads = [order_payload(f"q{i}") for i in range(10)]
        self.env.invalidate_all()
        # 390 measured (398 with a search then a read per look-up and a savepoint for a confirmation policy that
        # confirms nothing; 414 with the step automation run inside the request and a chatter line on each intake):
        # 10 orders of 2 lines + shipping; the emails by a queue job
        with self.assertQueryCount(392):
            results = self.receive(*payloads)
        self.assertEqual([s for s, _b in results], [201] * 10)
