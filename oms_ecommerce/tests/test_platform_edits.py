import copy

from odoo import fields
from odoo.tests import new_test_user, tagged

from .test_platform_webhooks import (
    SHOPIFY_ID,
    PlatformWebhookCase,
    TestShopifyWebhooks,
    TestWooCommerceWebhooks,
    fixture,
    shopify_time,
)


class PlatformEditCase(PlatformWebhookCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.saucer = cls.env["product.product"].create(
            {
                "name": "OMS Saucer",
                "default_code": "OMS-SAUCER",
                "type": "consu",
                "is_storable": True,
                "list_price": 7.0,
                "weight": 0.2,
                "taxes_id": [fields.Command.clear()],  # as the other products of these tests
            }
        )
        cls.env["stock.quant"]._update_available_quantity(cls.saucer, cls.warehouse.lot_stock_id, 20)
        cls.accountant = new_test_user(
            cls.env,
            "oms_accountant",
            name="Ada Accountant",
            groups="account.group_account_invoice,oms_ecommerce.group_oms_user",
        )
        (cls.shopify | cls.woo).user_id = cls.accountant

    def moves(self, order):
        """{product: quantity} of the order's delivery moves that still count."""
        result = {}
        for move in order.picking_ids.move_ids.filtered(lambda m: m.state != "cancel" and m.product_uom_qty):
            result[move.product_id] = result.get(move.product_id, 0) + move.product_uom_qty
        return result

    def notes(self, order, text):
        return order.message_ids.filtered(lambda m: text in (m.body or ""))

    def credit_notes(self, order):
        return self.env["account.move"].search(
            [("oms_refund_channel_id", "=", order.oms_channel_id.id), ("invoice_origin", "=", order.name)]
        )

    def invoice(self, order):
        if order.state != "sale":
            order.action_confirm()
        invoice = order._create_invoices()
        invoice.action_post()
        return invoice

    def vat(self, price_include):
        tax = self.env["account.tax"].create(
            {
                "name": f"VAT 21% ({'included' if price_include else 'excluded'})",
                "amount": 21.0,
                "type_tax_use": "sale",
                "price_include_override": "tax_included" if price_include else "tax_excluded",
            }
        )
        (self.mug | self.tea | self.saucer | self.carrier.product_id).write({"taxes_id": [fields.Command.set(tax.ids)]})
        return tax


@tagged("post_install", "-at_install")
class TestShopifyEdits(PlatformEditCase):
    body = TestShopifyWebhooks.body
    post = TestShopifyWebhooks.post
    create_order = TestShopifyWebhooks.create_order

    def edited_body(self, minutes=3, total="54.49"):
        """The order after an edit on Shopify: 3 mugs instead of 2, the tea removed (``current_quantity`` 0, as
        Shopify keeps removed lines), 2 saucers added at 6.00."""
        body = self.body(minutes=minutes, total_price=total, current_total_price=total)
        mug, tea = body["line_items"]
        mug.update(quantity=3, current_quantity=3, fulfillable_quantity=3)
        tea.update(current_quantity=0, fulfillable_quantity=0)
        saucer = copy.deepcopy(mug)
        saucer.update(
            id=9223372036854770003,
            admin_graphql_api_id="gid://shopify/LineItem/9223372036854770003",
            name="OMS Saucer",
            title="OMS Saucer",
            sku="OMS-SAUCER",
            price="6.00",
            quantity=2,
            current_quantity=2,
            fulfillable_quantity=2,
            variant_id=808950812,
            product_id=632910394,
            variant_title=None,
        )
        saucer["price_set"]["shop_money"]["amount"] = saucer["price_set"]["presentment_money"]["amount"] = "6.00"
        body["line_items"].append(saucer)
        return body

    def refund_body(self, **overrides):
        body = fixture("shopify_refund.json")
        body.update(overrides)
        return body

    # ------------------------------------------------------------------
    # Edits
    # ------------------------------------------------------------------
    def test_line_edits_before_packing_reach_the_order_and_its_delivery(self):
        order = self.create_order()
        order.action_confirm()
        self.assertEqual(self.moves(order), {self.mug: 2, self.tea: 1})
        answer = self.assertJson(self.post("orders/updated", self.edited_body()), 200)
        self.assertEqual(answer["state"], "done", self.Intake.browse(answer["intake"]).error_message)
        lines = order.order_line.filtered(lambda line: not line.is_delivery)
        self.assertRecordValues(
            lines.sorted("id"),
            [
                {"product_id": self.mug.id, "product_uom_qty": 3, "price_unit": 12.5},
                {"product_id": self.tea.id, "product_uom_qty": 0, "price_unit": 8.0},
                {"product_id": self.saucer.id, "product_uom_qty": 2, "price_unit": 6.0},
            ],
        )
        self.assertEqual(self.moves(order), {self.mug: 3, self.saucer: 2}, "the delivery follows the lines")
        self.assertEqual(len(order.picking_ids.filtered(lambda p: p.state != "cancel")), 1)
        self.assertRecordValues(order, [{"amount_total": 54.49, "oms_channel_total": 54.49, "oms_hold": False}])
        [note] = self.notes(order, "Updated from the channel")
        for change in ("OMS-MUG: quantity 2 → 3", "OMS-SAUCER added: quantity 2", "OMS-TEA removed"):
            self.assertIn(change, note.body)
        self.assertFalse(self.notes(order, "Extra line with"), "one note lists the changes")
        self.assertFalse(order.activity_ids, "nothing for the desk to do: the order follows the channel")

    def test_a_new_total_that_differs_holds_the_order(self):
        order = self.create_order()
        order.action_confirm()
        self.assertJson(self.post("orders/updated", self.edited_body(total="50.00")), 200)
        self.assertEqual(order.amount_total, 54.49)
        self.assertRecordValues(order, [{"oms_channel_total": 50.0, "oms_hold": True}])
        self.assertIn("50.00 USD", order.oms_hold_reason)

    def test_an_added_line_gets_the_intake_tax_handling(self):
        # Odoo's taxes exclude tax, the shop's prices include it: intake converts, and so does an added line.
        self.vat(price_include=False)
        order = self.create_order(taxes_included=True, total_tax="6.45")
        mug_price = order.order_line.filtered(lambda line: line.product_id == self.mug).price_unit
        self.assertAlmostEqual(mug_price, 12.5 / 1.21, places=2)
        order.action_confirm()
        body = self.edited_body(total="61.69")
        body["line_items"][1].update(current_quantity=1, fulfillable_quantity=1)  # the tea stays
        body.update(taxes_included=True, total_tax="10.71")
        self.assertJson(self.post("orders/updated", body), 200)
        saucer = order.order_line.filtered(lambda line: line.product_id == self.saucer)
        self.assertAlmostEqual(saucer.price_unit, 6.0 / 1.21, places=2)
        mug = order.order_line.filtered(lambda line: line.product_id == self.mug)
        self.assertEqual(mug.price_unit, mug_price, "a line already converted is not converted twice")
        self.assertAlmostEqual(order.amount_total, 61.69, delta=0.011)
        self.assertFalse(order.oms_hold)

    def test_an_unknown_sku_applies_nothing(self):
        order = self.create_order()
        order.action_confirm()
        street = order.partner_shipping_id.street
        body = self.edited_body()
        body["line_items"][2]["sku"] = "OMS-NOPE"
        body["shipping_address"]["address1"] = "1 Elm Street"
        answer = self.assertJson(self.post("orders/updated", body), 200)
        intake = self.Intake.browse(answer["intake"])
        self.assertRecordValues(intake, [{"state": "error", "error_code": "unknown_sku"}])
        self.assertIn("OMS-NOPE", intake.error_message)
        self.assertEqual(order.partner_shipping_id.street, street, "nothing partial")
        self.assertEqual(order.order_line.filtered(lambda line: line.product_id == self.mug).product_uom_qty, 2)
        self.assertEqual(self.moves(order), {self.mug: 2, self.tea: 1})
        self.assertEqual(order.oms_platform_version, self.version(0), "the version was not applied either")

    def test_a_quotation_follows_too(self):
        order = self.create_order()
        self.assertEqual(order.state, "draft")
        self.assertJson(self.post("orders/updated", self.edited_body()), 200)
        self.assertEqual(
            {line.product_id: line.product_uom_qty for line in order.order_line if not line.is_delivery},
            {self.mug: 3, self.saucer: 2},
            "a quotation's removed line goes",
        )

    def test_line_edits_after_packing_only_reach_the_desk(self):
        order = self.create_order()
        order.action_confirm()
        self.pack_all(order.picking_ids)
        self.assertJson(self.post("orders/updated", self.edited_body()), 200)
        self.assertEqual(self.moves(order), {self.mug: 2, self.tea: 1})
        self.assertEqual(order.order_line.filtered(lambda line: line.product_id == self.mug).product_uom_qty, 2)
        self.assertFalse(order.order_line.filtered(lambda line: line.product_id == self.saucer))
        notes = self.activity_notes(order)
        self.assertIn("after it was packed", notes)
        for change in ("OMS-MUG: quantity 2 → 3", "OMS-SAUCER: quantity 0 → 2", "OMS-TEA: quantity 1 → 0"):
            self.assertIn(change, notes)

    # ------------------------------------------------------------------
    # Refunds
    # ------------------------------------------------------------------
    def test_refund_of_an_invoiced_order_prepares_one_credit_note(self):
        # Longer than ~60 lines on purpose: the scenario's steps, end to end.
        self.vat(price_include=True)
        order = self.create_order(taxes_included=True, total_tax="6.45")
        invoice = self.invoice(order)
        self.assertEqual(invoice.amount_total, 37.19)
        # One mug and the shipping refunded, 17.49 paid back: Shopify's published refund shape (API 2024-10 on).
        refund = self.refund_body(
            refund_line_items=[dict(fixture("shopify_refund.json")["refund_line_items"][0], total_tax=2.17)],
            refund_shipping_lines=[
                {
                    "id": 271878346,
                    "shipping_line_id": 271878346596884015,
                    "subtotal_amount_set": {
                        "shop_money": {"amount": "4.99", "currency_code": "USD"},
                        "presentment_money": {"amount": "4.99", "currency_code": "USD"},
                    },
                    "tax_amount_set": {
                        "shop_money": {"amount": "0.87", "currency_code": "USD"},
                        "presentment_money": {"amount": "0.87", "currency_code": "USD"},
                    },
                }
            ],
        )
        refund["transactions"][0]["amount"] = "17.49"
        self.assertJson(self.post("refunds/create", refund), 200)
        credit_note = self.credit_notes(order)
        self.assertRecordValues(
            credit_note,
            [
                {
                    "move_type": "out_refund",
                    "state": "draft",
                    "reversed_entry_id": invoice.id,
                    "oms_platform_refund_id": "929361464",
                    "amount_total": 17.49,
                    "partner_id": order.partner_invoice_id.id,
                }
            ],
        )
        mug_line = order.order_line.filtered(lambda line: line.product_id == self.mug)
        shipping = order.order_line.filtered("is_delivery")
        self.assertRecordValues(
            credit_note.invoice_line_ids.sorted("price_unit"),
            [
                {"sale_line_ids": shipping.ids, "quantity": 1, "price_unit": 4.99, "price_total": 4.99},
                {"sale_line_ids": mug_line.ids, "quantity": 1, "price_unit": 12.5, "price_total": 12.5},
            ],
        )
        self.assertEqual(mug_line.qty_invoiced, 1, "Odoo's invoiced quantity counts the credit note")
        self.assertFalse(
            order.filtered_domain(order._oms_invoice_due_domain()), "the refunded mug is not invoiced again"
        )
        [activity] = credit_note.activity_ids
        self.assertEqual(activity.user_id, self.accountant)
        self.assertIn("929361464", activity.summary)
        note = self.notes(order, "Refund 929361464")
        self.assertIn("Draft credit note of 17.49 USD prepared for Ada Accountant", note.body)
        # The same refund delivered again (another delivery id): still one credit note, one note.
        self.assertJson(self.post("refunds/create", refund), 200)
        self.assertEqual(len(self.credit_notes(order)), 1)
        self.assertEqual(len(self.notes(order, "Refund 929361464")), 1)

    def test_cancellation_after_a_refund_keeps_its_credit_note(self):
        """Shopify refunds part of an invoiced order, then cancels the order: the refund's draft credit note stays
        for the accountant (the money was paid back), it is not cancelled with the order."""
        order = self.create_order()
        self.invoice(order)
        self.assertJson(self.post("refunds/create", self.refund_body()), 200)
        credit_note = self.credit_notes(order)
        self.assertEqual((len(credit_note), credit_note.state), (1, "draft"))
        cancelled_at = shopify_time(self.version(5))
        self.assertJson(self.post("orders/cancelled", self.body(minutes=5, cancelled_at=cancelled_at)), 200)
        self.assertEqual(order.state, "cancel")
        self.assertEqual(credit_note.state, "draft", "the platform's refund is still to be credited")

    def test_refund_with_a_shipping_adjustment_and_discount(self):
        order = self.create_order()
        invoice = self.invoice(order)
        # The tea (8.00 less 10 %) and the shipping, as older API versions send the shipping: an order adjustment.
        refund = self.refund_body(
            refund_line_items=[
                {
                    "id": 104689540,
                    "quantity": 1,
                    "line_item_id": 9223372036854770002,
                    "location_id": None,
                    "restock_type": "no_restock",
                    "subtotal": 7.2,
                    "total_tax": 0.0,
                    "line_item": {"id": 9223372036854770002, "sku": "OMS-TEA", "name": "OMS Tea", "quantity": 1,
                                  "price": "8.00"},
                }
            ],
            order_adjustments=[
                {"id": 1030976842, "order_id": int(SHOPIFY_ID), "refund_id": 929361464, "amount": "-4.99",
                 "tax_amount": "0.00", "kind": "shipping_refund", "reason": "Shipping refund"}
            ],
        )  # fmt: skip
        refund["transactions"][0]["amount"] = "12.19"
        self.assertJson(self.post("refunds/create", refund), 200)
        credit_note = self.credit_notes(order)
        self.assertRecordValues(credit_note, [{"amount_total": 12.19, "reversed_entry_id": invoice.id}])
        self.assertEqual(sorted(credit_note.invoice_line_ids.mapped("price_subtotal")), [4.99, 7.2])

    def test_refund_of_an_order_not_invoiced_is_only_recorded(self):
        order = self.create_order()
        self.assertJson(self.post("refunds/create", self.refund_body()), 200)
        note = self.notes(order, "Refund 929361464")
        self.assertIn("12.50 USD (shopify_payments)", note.body)
        self.assertIn("no posted invoice", note.body)
        self.assertFalse(self.credit_notes(order))
        self.assertFalse(self.env["account.move"].search([("oms_platform_refund_id", "=", "929361464")]))


@tagged("post_install", "-at_install")
class TestWooCommerceRefunds(PlatformEditCase):
    body = TestWooCommerceWebhooks.body
    post = TestWooCommerceWebhooks.post
    create_order = TestWooCommerceWebhooks.create_order

    def test_refunded_order_gets_one_credit_note_of_its_lines(self):
        order = self.create_order()
        invoice = self.invoice(order)
        refunds = [{"id": 726, "reason": "Out of stock", "total": "-37.19"}]
        body = self.body(minutes=5, status="refunded", refunds=refunds)
        self.assertJson(self.post("order.updated", body), 200)
        self.assertEqual(order.state, "cancel", "refunded before it shipped: cancelled")
        credit_note = self.credit_notes(order)
        self.assertRecordValues(
            credit_note,
            [
                {
                    "state": "draft",
                    "amount_total": 37.19,
                    "reversed_entry_id": invoice.id,
                    "oms_platform_refund_id": "726",
                }
            ],
        )
        self.assertEqual(
            {line.sale_line_ids: line.quantity for line in credit_note.invoice_line_ids},
            {line: line.product_uom_qty for line in order.order_line},
            "every invoiced line is credited, linked to its order line",
        )
        self.assertEqual(credit_note.activity_ids.user_id, self.accountant)
        self.assertFalse(
            order.filtered_domain(order._oms_refund_due_domain()), "the accounting cron does not reverse it again"
        )
        # WooCommerce sends the order again (another modification): still one credit note.
        self.assertJson(
            self.post("order.updated", dict(body, date_modified_gmt=self.body(minutes=6)["date_modified_gmt"])), 200
        )
        self.assertEqual(len(self.credit_notes(order)), 1)
        self.assertEqual(len(self.notes(order, "Refund 726")), 1)

    def test_partial_refund_is_one_line_named_after_it(self):
        order = self.create_order()
        self.invoice(order)
        refunds = [{"id": 725, "reason": "Late delivery", "total": "-5.00"}]
        self.assertJson(self.post("order.updated", self.body(minutes=5, refunds=refunds)), 200)
        self.assertEqual(order.state, "sale")
        credit_note = self.credit_notes(order)
        self.assertEqual(credit_note.amount_total, 5.0)
        self.assertRecordValues(credit_note.invoice_line_ids, [{"quantity": 1, "price_unit": 5.0, "sale_line_ids": []}])
        self.assertIn("Late delivery", credit_note.invoice_line_ids.name)
        self.assertIn("725", credit_note.invoice_line_ids.name)

    def test_refund_before_invoicing_is_only_recorded(self):
        order = self.create_order()
        refunds = [{"id": 725, "reason": "Late delivery", "total": "-5.00"}]
        self.assertJson(self.post("order.updated", self.body(minutes=5, refunds=refunds)), 200)
        self.assertIn("no posted invoice", self.notes(order, "Refund 725").body)
        self.assertFalse(self.credit_notes(order))
        self.assertEqual(order.amount_total, 37.19)
