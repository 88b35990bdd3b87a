# Longer than ~480 lines on purpose: the webhooks of Shopify and WooCommerce, in their published shapes, share their signing helpers.
import json
from datetime import timedelta
from pathlib import Path

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..tools.webhooks import sign
from .common import OmsPackingCommon, placed_days_ago

DATA = Path(__file__).parent / "data"
SHOPIFY_ID = "5990123456789012345"  # above 2^53: a float would have turned it into ...2344
WOO_ID = "9007199254740993"  # 2^53 + 1


def fixture(name):
    """A body as the platform's documentation shows it (ids kept as Python's exact ints)."""
    return json.loads((DATA / name).read_text())


def shopify_time(moment):
    """``moment`` (naive UTC) as Shopify writes it: the shop's local time with its offset (New York, -05:00)."""
    return (moment - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S-05:00")


class PlatformWebhookCase(HttpCase, OmsPackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        (cls.mug | cls.tea | cls.carrier.product_id).write({"taxes_id": [fields.Command.clear()]})
        carrier_map = [(0, 0, {"method": "standard", "carrier_id": cls.carrier.id})]
        cls.shopify = cls.env["oms.channel"].create(
            {"name": "Shopify Shop", "code": "shopify-shop", "platform": "shopify", "secret": "shpss_key",
             "carrier_map_ids": carrier_map}
        )  # fmt: skip
        cls.woo = cls.env["oms.channel"].create(
            {"name": "Woo Shop", "code": "woo-shop", "platform": "woocommerce", "secret": "woo_key",
             "carrier_map_ids": carrier_map}
        )  # fmt: skip
        cls.placed = placed_days_ago()
        cls.counter = 0

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)

    def version(self, minutes):
        return self.placed + timedelta(minutes=minutes)

    def send(self, code, raw, headers, secret=None, signature_header=None):
        raw = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
        headers = {"Content-Type": "application/json", **headers}
        if secret:
            headers[signature_header] = sign(secret, raw)
        response = self.url_open(f"/oms/v1/{code}/webhooks", data=raw, headers=headers, method="POST")
        self.env.invalidate_all()
        return response

    def assertJson(self, response, status):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.headers["Content-Type"].split(";")[0], "application/json")
        return response.json()

    def intakes(self, channel):
        return self.Intake.search([("channel_id", "=", channel.id)])

    def order_of(self, channel, external_id):
        return self.env["sale.order"].search(
            [("oms_channel_id", "=", channel.id), ("oms_external_id", "=", external_id)]
        )

    def state(self, code):
        return self.env["res.country.state"].search([("code", "=", code), ("country_id.code", "=", "US")])

    def activity_notes(self, order):
        return " ".join(f"{a.summary} {a.note}" for a in order.activity_ids)


@tagged("post_install", "-at_install")
class TestShopifyWebhooks(PlatformWebhookCase):
    def body(self, minutes=0, **overrides):
        body = fixture("shopify_order.json")
        body.update(created_at=shopify_time(self.placed), updated_at=shopify_time(self.version(minutes)))
        body.update(overrides)
        return body

    def post(self, topic, body, webhook_id=None, event_id=None, secret="shpss_key", headers=None):
        type(self).counter += 1
        all_headers = {
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": "example-shop.myshopify.com",
            "X-Shopify-API-Version": "2025-10",
            "X-Shopify-Webhook-Id": webhook_id or f"b54557e4-bdd9-4b37-8a5f-{self.counter:012d}",
            "X-Shopify-Event-Id": event_id or f"98880550-7158-44d4-b7cd-{self.counter:012d}",
            "X-Shopify-Triggered-At": fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            **(headers or {}),
        }
        return self.send("shopify-shop", body, all_headers, secret, "X-Shopify-Hmac-Sha256")

    def create_order(self, **overrides):
        answer = self.assertJson(self.post("orders/create", self.body(**overrides)), 200)
        self.assertEqual(answer["status"], "received")
        return self.order_of(self.shopify, SHOPIFY_ID)

    # ------------------------------------------------------------------
    def test_orders_create_maps_the_shopify_order(self):
        order = self.create_order()
        self.assertEqual(len(order), 1)
        self.assertRecordValues(
            order,
            [
                {
                    "oms_external_id": SHOPIFY_ID,
                    "client_order_ref": "#1001",
                    "oms_placed_at": self.placed,
                    "oms_platform_version": self.version(0),
                    "oms_payment_status": "paid",
                    "oms_payment_method": "shopify_payments",
                    "oms_customer_note": "Please ring twice\ngift_wrap: yes",
                    "oms_shipping_method": "Standard",
                    "carrier_id": self.carrier.id,
                    "amount_total": 37.19,
                    "oms_channel_total": 37.19,
                    "oms_hold": False,
                }
            ],
        )
        self.assertEqual(order.partner_id.email, "bob.norman@mail.example.com")
        self.assertRecordValues(
            order.partner_shipping_id,
            [
                {
                    "name": "Bob Norman",
                    "street": "Chestnut Street 92",
                    "street2": "Apt 3",
                    "city": "Louisville",
                    "zip": "40202",
                    "state_id": self.state("KY").id,
                    "country_id": self.env.ref("base.us").id,
                }
            ],
        )
        self.assertEqual(order.partner_invoice_id.street2, "Suite 400")
        lines = order.order_line.filtered(lambda line: not line.is_delivery)
        self.assertRecordValues(
            lines,
            [
                {"product_id": self.mug.id, "product_uom_qty": 2, "price_unit": 12.5, "discount": 0},
                {"product_id": self.tea.id, "product_uom_qty": 1, "price_unit": 8.0, "discount": 10},
            ],
        )
        self.assertEqual(order.order_line.filtered("is_delivery").price_unit, 4.99)
        intake = self.intakes(self.shopify)
        self.assertRecordValues(
            intake,
            [{"state": "done", "source": "webhook", "webhook_topic": "orders/create", "external_id": SHOPIFY_ID}],
        )
        self.assertIn('"id": 5990123456789012345', intake.payload, "the body is kept byte for byte")
        self.assertIn("browser_ip", intake.payload, "fields we ignore stay in the stored body")

    def test_repeated_delivery_and_two_subscriptions_apply_once(self):
        body = self.body()
        self.assertJson(self.post("orders/create", body, webhook_id="wh-1", event_id="ev-1"), 200)
        # Shopify retries the same delivery: same webhook id.
        answer = self.assertJson(self.post("orders/create", body, webhook_id="wh-1", event_id="ev-1"), 200)
        self.assertEqual(answer["status"], "duplicate")
        # The same event through a second subscription: another webhook id, the same event id.
        answer = self.assertJson(self.post("orders/create", body, webhook_id="wh-2", event_id="ev-1"), 200)
        self.assertEqual(answer["status"], "duplicate")
        self.assertEqual(len(self.intakes(self.shopify)), 1)
        self.assertEqual(len(self.order_of(self.shopify, SHOPIFY_ID)), 1)

    def test_out_of_order_versions(self):
        order = self.create_order()
        self.assertJson(self.post("orders/updated", self.body(minutes=10, note="Version ten")), 200)
        self.assertEqual(order.oms_customer_note, "Version ten\ngift_wrap: yes")
        # Version five arrives last: stored, stale, not applied.
        answer = self.assertJson(self.post("orders/updated", self.body(minutes=5, note="Version five")), 200)
        self.assertEqual(answer["state"], "stale")
        self.assertEqual(order.oms_customer_note, "Version ten\ngift_wrap: yes")
        self.assertEqual(order.oms_platform_version, self.version(10))
        stale = self.Intake.browse(answer["intake"])
        self.assertRecordValues(stale, [{"state": "stale", "order_id": order.id, "webhook_version": self.version(5)}])

    def test_updates_before_packing_are_applied(self):
        order = self.create_order()
        order.action_confirm()
        self.assertEqual(order.oms_step, "processing")
        body = self.body(minutes=3, note="New note", total_price="49.69")
        body["shipping_address"].update(address1="1 Elm Street", address2="", zip="40203")
        body["line_items"][0].update(quantity=3, current_quantity=3)
        self.assertJson(self.post("orders/updated", body), 200)
        self.assertEqual(order.partner_shipping_id.street, "1 Elm Street")
        self.assertEqual(order.picking_ids.partner_id, order.partner_shipping_id, "the delivery follows")
        self.assertEqual(order.oms_customer_note, "New note\ngift_wrap: yes")
        self.assertEqual(order.order_line.filtered(lambda line: line.product_id == self.mug).product_uom_qty, 3)
        self.assertEqual(order.picking_ids.move_ids.filtered(lambda m: m.product_id == self.mug).product_uom_qty, 3)
        self.assertFalse(order.activity_ids)

    def test_updates_after_packing_only_reach_the_desk(self):
        order = self.create_order()
        order.action_confirm()
        self.pack_all(order.picking_ids)
        self.assertEqual(order.oms_step, "packed")
        street = order.partner_shipping_id.street
        body = self.body(minutes=3)
        body["shipping_address"]["address1"] = "1 Elm Street"
        self.assertJson(self.post("orders/updated", body), 200)
        self.assertEqual(order.partner_shipping_id.street, street, "no silent change once packed")
        self.assertIn("1 Elm Street", self.activity_notes(order))
        self.assertIn("after it was packed", self.activity_notes(order))

    def test_orders_paid_confirms_under_the_paid_policy(self):
        self.shopify.confirm_policy = "paid"
        order = self.create_order(financial_status="pending")
        self.assertRecordValues(order, [{"state": "draft", "oms_payment_status": "pending"}])
        # The header alone proves nothing: a body still pending changes nothing.
        self.assertJson(self.post("orders/paid", self.body(minutes=1, financial_status="pending")), 200)
        self.assertRecordValues(order, [{"state": "draft", "oms_payment_status": "pending"}])
        self.assertJson(self.post("orders/paid", self.body(minutes=2, financial_status="paid")), 200)
        self.assertRecordValues(order, [{"state": "sale", "oms_payment_status": "paid"}])

    def test_cash_on_delivery(self):
        order = self.create_order(
            financial_status="pending",
            gateway="Cash on Delivery (COD)",
            payment_gateway_names=["Cash on Delivery (COD)"],
        )
        self.assertEqual(order.oms_payment_status, "cod")

    def test_orders_cancelled_needs_cancelled_at(self):
        order = self.create_order()
        self.assertJson(self.post("orders/cancelled", self.body(minutes=1)), 200)
        self.assertEqual(order.state, "draft", "the topic header alone cancels nothing")
        cancelled_at = shopify_time(self.version(2))
        self.assertJson(self.post("orders/cancelled", self.body(minutes=2, cancelled_at=cancelled_at)), 200)
        self.assertEqual(order.state, "cancel")

    def test_cancelled_after_shipping_asks_the_desk(self):
        order = self.create_order()
        order.action_confirm()
        self.ship(order.picking_ids)
        cancelled_at = shopify_time(self.version(2))
        self.assertJson(self.post("orders/cancelled", self.body(minutes=2, cancelled_at=cancelled_at)), 200)
        self.assertEqual(order.state, "sale")
        self.assertIn("already shipped", self.activity_notes(order))

    def test_refund_is_recorded(self):
        order = self.create_order()
        refund = fixture("shopify_refund.json")
        self.assertJson(self.post("refunds/create", refund), 200)
        note = order.message_ids.filtered(lambda m: "Refund 929361464" in (m.body or ""))
        self.assertTrue(note)
        self.assertIn("12.50 USD (shopify_payments)", note.body)
        self.assertIn("Mug arrived broken", note.body)

    def test_refund_before_its_order_waits_on_the_desk(self):
        answer = self.assertJson(self.post("refunds/create", fixture("shopify_refund.json")), 200)
        intake = self.Intake.browse(answer["intake"])
        self.assertRecordValues(intake, [{"state": "error", "error_code": "mapping_error", "external_id": SHOPIFY_ID}])
        order = self.create_order()
        self.assertRecordValues(intake, [{"state": "done", "order_id": order.id}])
        self.assertTrue(order.message_ids.filtered(lambda m: "Refund 929361464" in (m.body or "")))

    def test_tax_included_total(self):
        vat = self.env["account.tax"].create(
            {"name": "VAT 21%", "amount": 21.0, "type_tax_use": "sale", "price_include_override": "tax_included"}
        )
        (self.mug | self.tea | self.carrier.product_id).write({"taxes_id": [fields.Command.set(vat.ids)]})
        order = self.create_order(taxes_included=True, total_tax="6.45")
        self.assertRecordValues(order, [{"amount_total": 37.19, "oms_hold": False}])
        self.assertTrue(order.amount_tax)

    def test_line_without_sku(self):
        body = self.body()
        body["line_items"][1]["sku"] = ""
        answer = self.assertJson(self.post("orders/create", body), 200)
        intake = self.Intake.browse(answer["intake"])
        self.assertRecordValues(
            intake, [{"state": "error", "error_code": "invalid_payload", "error_field": "line_items[1].sku"}]
        )
        self.assertIn("OMS Tea", intake.error_message)
        self.assertFalse(self.order_of(self.shopify, SHOPIFY_ID))

    @mute_logger("odoo.addons.oms_ecommerce.controllers.platform_webhooks")
    def test_signatures(self):
        body = self.body()
        for secret, headers in (
            (None, {}),
            ("wrong", {}),
            (None, {"X-Shopify-Hmac-Sha256": "not base64"}),
        ):
            answer = self.assertJson(self.post("orders/create", body, secret=secret, headers=headers), 401)
            self.assertEqual(answer["error"]["code"], "bad_signature")
        self.assertFalse(self.intakes(self.shopify), "401 stores nothing")
        # A rotation: Shopify keeps signing with the previous secret for up to an hour.
        self.shopify.secret = "shpss_new"
        self.assertJson(self.post("orders/create", body, secret="shpss_key"), 200)
        self.assertJson(self.post("orders/updated", self.body(minutes=1), secret="shpss_new"), 200)
        self.shopify.secret_replaced_at = fields.Datetime.now() - timedelta(minutes=61)
        self.assertJson(self.post("orders/updated", self.body(minutes=2), secret="shpss_key"), 401)
        self.assertEqual(len(self.intakes(self.shopify)), 2)

    def test_a_manager_types_in_the_platform_secret(self):
        with self.assertRaises(AccessError):
            self.shopify.with_user(self.oms_user).action_set_secret()
        action = self.shopify.with_user(self.oms_manager).action_set_secret()
        wizard = (
            self.env["oms.channel.secret.set"]
            .with_user(self.oms_manager)
            .with_context(**action["context"])
            .create({"secret": " shpss_typed "})
        )
        wizard.action_set()
        self.assertFalse(wizard.secret, "the typed secret is not kept in the wizard")
        self.assertEqual(self.shopify._webhook_secrets(), ["shpss_typed", "shpss_key"])
        self.assertJson(self.post("orders/create", self.body(), secret="shpss_typed"), 200)

    def test_garbage_is_kept_in_error(self):
        for raw in (b"not json at all", b"[1, 2, 3]", b'{"id": 1}', '{"id": "\u00e9"'.encode()):
            answer = self.assertJson(self.post("orders/create", raw), 200)
            intake = self.Intake.browse(answer["intake"])
            self.assertEqual((intake.state, intake.error_code), ("error", "invalid_payload"), raw)
            self.assertTrue(intake.error_message)

    def test_unknown_channel_other_platform_and_too_large(self):
        body = json.dumps(self.body()).encode()
        headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": sign("shpss_key", body)}
        for code in ("no-such-shop", "test-shop", "woo-shop"):
            self.assertEqual(self.assertJson(self.send(code, body, headers), 404), {"status": "not_found"})
        self.shopify.active = False
        self.assertJson(self.send("shopify-shop", body, headers), 404)
        self.shopify.active = True
        big = b'{"note": "' + b"x" * (1024 * 1024) + b'"}'
        answer = self.assertJson(self.post("orders/create", big), 413)
        self.assertEqual(answer, {"status": "too_large"})
        self.assertFalse(self.intakes(self.shopify))


@tagged("post_install", "-at_install")
class TestWooCommerceWebhooks(PlatformWebhookCase):
    def body(self, minutes=0, **overrides):
        body = fixture("woocommerce_order.json")
        body.update(
            date_created_gmt=self.placed.strftime("%Y-%m-%dT%H:%M:%S"),
            date_modified_gmt=self.version(minutes).strftime("%Y-%m-%dT%H:%M:%S"),
        )
        body.update(overrides)
        return body

    def post(self, topic, body, secret="woo_key", headers=None):
        resource, event = topic.split(".")
        all_headers = {
            "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
            "X-WC-Webhook-Source": "https://example.com/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-ID": "12",
            "X-WC-Webhook-Delivery-ID": "4711",
            **(headers or {}),
        }
        return self.send("woo-shop", body, all_headers, secret, "X-WC-Webhook-Signature")

    def create_order(self, **overrides):
        answer = self.assertJson(self.post("order.created", self.body(**overrides)), 200)
        self.assertEqual(answer["status"], "received", answer)
        return self.order_of(self.woo, WOO_ID)

    # ------------------------------------------------------------------
    def test_order_created_maps_the_woocommerce_order(self):
        order = self.create_order()
        self.assertRecordValues(
            order,
            [
                {
                    "oms_external_id": WOO_ID,
                    "client_order_ref": "727",
                    "oms_placed_at": self.placed,
                    "oms_platform_version": self.version(0),
                    "oms_payment_status": "paid",
                    "oms_payment_method": "Credit Card (Stripe)",
                    "oms_payment_reference": "ch_3QAbc123",
                    "oms_customer_note": "Leave it with the neighbour",
                    "oms_shipping_method": "Standard",
                    "carrier_id": self.carrier.id,
                    "amount_total": 37.19,
                    "oms_hold": False,
                }
            ],
        )
        self.assertEqual(order.partner_id.email, "john.doe@example.com")
        self.assertRecordValues(
            order.partner_shipping_id,
            [
                {
                    "street": "969 Market",
                    "street2": "Floor 2",
                    "zip": "94103",
                    "state_id": self.state("CA").id,
                }
            ],
        )
        lines = order.order_line.filtered(lambda line: not line.is_delivery)
        self.assertRecordValues(
            lines,
            [
                {"product_id": self.mug.id, "product_uom_qty": 2, "price_unit": 12.5, "discount": 0},
                {"product_id": self.tea.id, "product_uom_qty": 1, "price_unit": 8.0, "discount": 10},
            ],
        )

    def test_ping_creates_nothing(self):
        response = self.send("woo-shop", b"webhook_id=12", {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(self.assertJson(response, 200), {"status": "ok"})
        self.assertFalse(self.intakes(self.woo))

    def test_repeated_delivery(self):
        body = self.body()
        self.create_order()
        answer = self.assertJson(self.post("order.created", body), 200)
        self.assertEqual(answer["status"], "duplicate")
        self.assertEqual(len(self.intakes(self.woo)), 1)

    def test_later_payment_and_out_of_order(self):
        self.woo.confirm_policy = "paid"
        order = self.create_order(status="pending", date_paid=None, date_paid_gmt=None)
        self.assertRecordValues(order, [{"state": "draft", "oms_payment_status": "pending"}])
        self.assertJson(self.post("order.updated", self.body(minutes=5)), 200)
        self.assertRecordValues(order, [{"state": "sale", "oms_payment_status": "paid"}])
        answer = self.assertJson(self.post("order.updated", self.body(minutes=2, status="on-hold")), 200)
        self.assertEqual(answer["state"], "stale")
        self.assertEqual(order.oms_payment_status, "paid")

    def test_cancelled_refunded_and_deleted(self):
        order = self.create_order()
        self.assertJson(self.post("order.updated", self.body(minutes=1, status="cancelled")), 200)
        self.assertEqual(order.state, "cancel")
        # Refunded before shipping cancels too.
        other = self.body(id=9007199254740995, number="728")
        self.assertJson(self.post("order.created", other), 200)
        second = self.order_of(self.woo, "9007199254740995")
        other = dict(other, status="refunded", date_modified_gmt=self.version(3).strftime("%Y-%m-%dT%H:%M:%S"))
        self.assertJson(self.post("order.updated", other), 200)
        self.assertEqual(second.state, "cancel")
        # order.deleted sends only the id.
        self.assertJson(self.post("order.created", self.body(id=9007199254740997, number="729")), 200)
        third = self.order_of(self.woo, "9007199254740997")
        self.assertJson(self.post("order.deleted", {"id": 9007199254740997}), 200)
        self.assertEqual(third.state, "cancel")

    def test_restored_order_is_an_update(self):
        order = self.create_order()
        self.assertJson(self.post("order.restored", self.body(minutes=4, customer_note="Restored")), 200)
        self.assertEqual(order.oms_customer_note, "Restored")

    def test_prices_include_tax(self):
        vat = self.env["account.tax"].create(
            {"name": "VAT 20%", "amount": 20.0, "type_tax_use": "sale", "price_include_override": "tax_included"}
        )
        (self.mug | self.tea | self.carrier.product_id).write({"taxes_id": [fields.Command.set(vat.ids)]})
        body = self.body(prices_include_tax=True, total="37.19", total_tax="6.20")
        # WooCommerce's line and shipping totals are without tax, their taxes beside them.
        mug, tea = body["line_items"]
        mug.update(subtotal="20.83", subtotal_tax="4.17", total="20.83", total_tax="4.17")
        tea.update(subtotal="6.67", subtotal_tax="1.33", total="6.00", total_tax="1.20")
        body["shipping_lines"][0].update(total="4.16", total_tax="0.83")
        self.assertJson(self.post("order.created", body), 200)
        order = self.order_of(self.woo, WOO_ID)
        self.assertRecordValues(order, [{"amount_total": 37.19, "oms_hold": False}])

    def test_empty_sku_and_bad_signature(self):
        body = self.body()
        body["line_items"][0]["sku"] = ""
        answer = self.assertJson(self.post("order.created", body), 200)
        intake = self.Intake.browse(answer["intake"])
        self.assertEqual((intake.state, intake.error_field), ("error", "line_items[0].sku"))
        self.assertIn("OMS Mug - White", intake.error_message)
        with mute_logger("odoo.addons.oms_ecommerce.controllers.platform_webhooks"):
            self.assertJson(self.post("order.created", self.body(minutes=1), secret="wrong"), 401)
            self.assertJson(self.post("order.created", self.body(minutes=1), secret=None), 401)
        self.assertEqual(len(self.intakes(self.woo)), 1)
