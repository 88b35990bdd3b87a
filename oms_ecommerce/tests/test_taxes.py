import json

from odoo import fields
from odoo.tests import tagged

from .common import OmsPackingCommon, order_payload


@tagged("post_install", "-at_install")
class TestChannelTotals(OmsPackingCommon):
    """The amount the customer was told is the amount: taxes mapped as the channel priced, totals compared.

    Two mugs at 12.50 and shipping at 4.99: a US shop sends them tax excluded (a 10 % sales tax is added),
    an EU shop with VAT 21 % included (the customer pays 29.99).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Tax = cls.env["account.tax"]
        common = {"amount_type": "percent", "type_tax_use": "sale", "company_id": cls.company.id}
        cls.sales_tax = Tax.create(
            {"name": "OMS Sales Tax 10%", "amount": 10.0, "price_include_override": "tax_excluded", **common}
        )
        cls.vat = Tax.create(
            {"name": "OMS VAT 21%", "amount": 21.0, "price_include_override": "tax_excluded", **common}
        )
        cls.ship_product = cls.carrier.product_id
        cls.channel.write({"confirm_policy": "all", "invoice_policy": "confirmed"})

    def set_taxes(self, taxes):
        (self.mug | self.ship_product).write({"taxes_id": [fields.Command.set(taxes.ids)]})

    def payload(self, ext, total=None, status="paid", **overrides):
        payload = order_payload(
            ext,
            lines=[{"sku": "OMS-MUG", "quantity": 2, "unit_price": 12.5}],
            payment={"status": status, "method": "card" if status == "paid" else "cod", "amount": total or 0},
            **overrides,
        )
        if total is not None:
            payload["total"] = total
        return payload

    def order(self, payload):
        [(status, body)] = self.receive(payload)
        self.assertEqual(status, 201, body)
        return self.env["sale.order"].browse(body["id"])

    # ------------------------------------------------------------------
    def test_us_shop_tax_excluded_adds_the_sales_tax(self):
        self.set_taxes(self.sales_tax)
        # 25.00 + 2.50 tax, shipping 4.99 + 0.50 tax
        order = self.order(self.payload("us-1", total=32.99, taxes_included=False))
        self.assertRecordValues(
            order,
            [
                {
                    "amount_untaxed": 29.99,
                    "amount_tax": 3.0,
                    "amount_total": 32.99,
                    "oms_channel_total": 32.99,
                    "oms_hold": False,
                    "state": "sale",
                }
            ],
        )
        self.assertEqual(order.order_line.mapped("price_unit"), [12.5, 4.99], "tax-excluded prices kept as sent")

    def test_eu_shop_vat_included_without_price_included_taxes(self):
        """Odoo's VAT is tax-excluded and the channel has no fiscal position: the prices are converted."""
        self.set_taxes(self.vat)
        order = self.order(self.payload("eu-1", total=29.99, status="cod", taxes_included=True))
        self.assertEqual(order.amount_total, 29.99, "2 x 12.50 + 4.99, tax included")
        self.assertAlmostEqual(order.amount_untaxed, 29.99 / 1.21, delta=0.01)
        self.assertEqual(order.order_line.tax_ids, self.vat)
        mug_line, ship_line = order.order_line
        self.assertAlmostEqual(mug_line.price_unit, 12.5 / 1.21, places=6, msg="12.50 with its VAT taken out")
        self.assertAlmostEqual(ship_line.price_unit, 4.99 / 1.21, places=6)
        self.assertFalse(order.oms_hold)
        self.assertEqual(order._oms_cod_amount(), 29.99)
        self.assertTrue(any("were converted" in body for body in order.message_ids.mapped("body")))

    def test_eu_shop_fiscal_position_maps_to_price_included_vat(self):
        """The merchant's mapping: Odoo's price-included VAT takes the tax out of the channel's prices.
        A cash-on-delivery label collects what the customer was told; the invoice says the same."""
        self.set_taxes(self.vat)
        position = self.env["account.fiscal.position"].create({"name": "EU shop, prices with VAT"})
        vat_included = self.vat.copy(
            {
                "name": "OMS VAT 21% included",
                "price_include_override": "tax_included",
                "fiscal_position_ids": [fields.Command.set(position.ids)],
                "original_tax_ids": [fields.Command.set(self.vat.ids)],
            }
        )
        self.channel.write({"fiscal_position_id": position.id, "confirm_policy": "manual"})
        payload = self.payload("eu-2", total=29.99, status="cod", taxes_included=True)
        del payload["external_id"]
        picking = self.delivery("eu-2", **payload)
        order = picking.sale_id
        self.assertEqual(order.fiscal_position_id, position)
        self.assertEqual(order.order_line.tax_ids, vat_included)
        self.assertEqual(order.order_line.mapped("price_unit"), [12.5, 4.99], "gross prices kept as sent")
        self.assertRecordValues(order, [{"amount_total": 29.99, "oms_hold": False}])
        self.assertAlmostEqual(order.amount_untaxed, 29.99 / 1.21, delta=0.01)
        self.assertEqual(order._oms_cod_amount(), 29.99)
        self.pack_all(picking, tracking_ref="1ZTAX0001")
        [label] = picking._oms_label_values(images=False)
        self.assertEqual((label["cod"], label["cod_amount"]), (True, 29.99))

        invoice = order._oms_invoice().invoice_ids
        self.assertRecordValues(
            invoice, [{"state": "posted", "amount_total": 29.99, "amount_untaxed": order.amount_untaxed}]
        )

    def test_total_that_differs_holds_the_order_with_both_amounts(self):
        self.set_taxes(self.sales_tax)
        # The channel did not add the 10 % sales tax that Odoo adds: 29.99 told, 32.99 computed.
        order = self.order(self.payload("us-2", total=29.99, status="cod", taxes_included=False))
        self.assertRecordValues(order, [{"oms_hold": True, "oms_step": "on_hold", "state": "draft"}])
        self.assertIn("29.99 USD", order.oms_hold_reason)
        self.assertIn("32.99 USD", order.oms_hold_reason)
        notes = [body for body in order.message_ids.mapped("body") if "Put on hold" in body]
        self.assertTrue(notes and "29.99 USD" in notes[0], "a chatter note names the amounts")
        self.assertEqual(order._oms_cod_amount(), 29.99, "the courier never collects an amount not told")
        # Confirmed by hand while on hold: the accounting cron does not invoice it.
        order.action_confirm()
        self.assertFalse(order.filtered_domain(order._oms_invoice_due_domain()))
        order.action_oms_release()
        self.assertTrue(order.filtered_domain(order._oms_invoice_due_domain()))

        # One cent is rounding, not a different amount.
        close = self.order(self.payload("us-3", total=32.98, taxes_included=False))
        self.assertRecordValues(close, [{"oms_hold": False, "state": "sale"}])

    def test_taxes_included_and_total_are_checked(self):
        cases = [
            ({"taxes_included": "yes"}, "taxes_included"),
            ({"taxes_included": 1}, "taxes_included"),
            ({"total": -1}, "total"),
            ({"total": "29.99"}, "total"),
            ({"total": True}, "total"),
        ]
        for index, (override, field) in enumerate(cases):
            with self.subTest(override=override):
                [(status, body)] = self.receive(order_payload(f"bad-{index}", **override))
                self.assertEqual((status, body["error"]["field"]), (400, field))
        # Python's JSON reader accepts NaN and Infinity: they are no amount.
        for value in ("NaN", "Infinity"):
            raw = json.dumps(order_payload(f"bad-{value}", total=0)).replace('"total": 0', f'"total": {value}')
            [(status, body)] = self.receive(raw)
            self.assertEqual((status, body["error"]["field"]), (400, "total"), value)
