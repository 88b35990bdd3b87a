from decimal import Decimal

from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import OmsAccountingCommon, OmsJobsMixin, order_payload
from .platform_standin import SHOPIFY_TOKEN, WOO_KEY, WOO_SECRET, PlatformStandin
from .test_returns import OmsReturnsCommon

# 2 mugs at 12.50 + 1 tea at 8.00 - 10 % + 4.99 shipping, without taxes
ORDER_TOTAL = "37.19"
# 1 mug and 1 tea returned: 12.50 + 7.20
CREDITED = "19.70"


@tagged("post_install", "-at_install")
class TestRefundPush(OmsJobsMixin, OmsReturnsCommon, OmsAccountingCommon):
    """The credit note of received returns pushed as a refund through queue_job to a stand-in Shopify and
    WooCommerce over real HTTP; jobs trapped with queue_job's ``trap_jobs`` and run as its runner would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standin = PlatformStandin(timeout_sleep=2.0).start()
        cls.addClassCleanup(cls.standin.stop)
        common = {
            "company_id": cls.company.id,
            "warehouse_id": cls.warehouse.id,
            "currency_id": cls.usd.id,
            "lang": "en_US",
            "carrier_map_ids": [(0, 0, {"method": "standard", "carrier_id": cls.carrier.id})],
            "invoice_policy": "confirmed",
            "payment_journal_id": cls.channel.payment_journal_id.id,
            "return_window_days": 30,
            "platform_timeout": 1,
            "sync_shipments": False,
            "sync_stock": False,
        }
        cls.shopify = cls.env["oms.channel"].create(
            {
                **common,
                "name": "Refund Shopify",
                "code": "refund-shopify",
                "platform": "shopify",
                "shopify_shop": cls.standin.url,
                "shopify_access_token": SHOPIFY_TOKEN,
            }
        )
        cls.woo = cls.env["oms.channel"].create(
            {
                **common,
                "name": "Refund Woo",
                "code": "refund-woo",
                "platform": "woocommerce",
                "woo_url": cls.standin.url,
                "woo_consumer_key": WOO_KEY,
                "woo_consumer_secret": WOO_SECRET,
            }
        )

    def setUp(self):
        super().setUp()
        self.standin.reset()

    # ------------------------------------------------------------------ helpers

    def platform_order(self, channel, external_id, paid=ORDER_TOTAL):
        """A delivered, invoiced channel order (2 mugs, 1 tea) known to the stand-in."""
        [(status, body)] = self.receive(order_payload(external_id), channel=channel)
        self.assertEqual(status, 201, body)
        order = self.env["sale.order"].browse(body["id"])
        lines = {"OMS-MUG": 2, "OMS-TEA": 1}
        if channel.platform == "shopify":
            self.standin.add_shopify_order(external_id, lines, paid=paid)
        else:
            self.standin.add_woo_order(external_id, lines)
        order.action_confirm()
        self.ship(order.picking_ids)
        order.action_oms_mark_delivered()
        order._oms_invoice()
        self.assertEqual(order.invoice_ids.mapped("state"), ["posted"])
        return order

    def return_received(self, order):
        """1 mug and 1 tea returned and received: the order's credit note refunds them (jobs left trapped)."""
        rmas = self.ask(order, (self.mug, 1), (self.tea, 1))
        rmas.action_oms_approve()
        self.env["rma"]._oms_receive([(rma, 1, "resellable") for rma in rmas])
        credit_note = order.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(len(credit_note), 1)
        self.assertEqual(f"{credit_note.amount_total:.2f}", CREDITED)
        self.assertRecordValues(rmas, [{"state": "refunded", "refund_id": credit_note.id}] * 2)
        return rmas, credit_note

    def refund_inputs(self):
        return [r["json"]["variables"]["input"] for r in self.standin.calls("refundCreate")]

    def shopify_line(self, external_id, sku):
        return next(line["id"] for line in self.standin.orders[external_id]["line_items"] if line["sku"] == sku)

    # ------------------------------------------------------------------ Shopify

    def test_shopify_refund_pushed_once_with_lines_and_amount(self):
        # Longer than ~60 lines on purpose: the scenario's steps, end to end.
        order = self.platform_order(self.shopify, "2001")
        with trap_jobs() as trap:
            __, credit_note = self.return_received(order)
            trap.assert_jobs_count(1, only=credit_note._oms_job_push_refund)
            trap.assert_enqueued_job(
                credit_note._oms_job_push_refund,
                properties={"channel": "root.oms.refund-shopify", "identity_key": f"oms-refund:{credit_note.id}"},
            )
            self.assertEqual(credit_note.oms_sync_state, "pending")
            [job] = trap.enqueued_jobs
            self.assertEqual(self.run_jobs(trap)[0][0], "done")

            [sent] = self.refund_inputs()
            self.assertEqual(sent["orderId"], "gid://shopify/Order/2001")
            self.assertEqual(
                sent["refundLineItems"],
                [
                    {"lineItemId": self.shopify_line("2001", "OMS-MUG"), "quantity": 1, "restockType": "NO_RESTOCK"},
                    {"lineItemId": self.shopify_line("2001", "OMS-TEA"), "quantity": 1, "restockType": "NO_RESTOCK"},
                ],
            )
            sale = self.standin.orders["2001"]["transactions"][0]
            self.assertEqual(
                sent["transactions"],
                [
                    {
                        "orderId": "gid://shopify/Order/2001",
                        "parentId": sale["id"],
                        "gateway": "shopify_payments",
                        "kind": "REFUND",
                        "amount": CREDITED,
                    }
                ],
            )
            self.assertIn(credit_note.name, sent["note"])
            self.assertFalse(sent["notify"], "Odoo's own 'refunded' email is on: Shopify stays silent")
            self.assertEqual(sale["refunded"], Decimal(CREDITED))
            [refund] = self.standin.orders["2001"]["refunds"]
            self.assertRecordValues(credit_note, [{"oms_sync_state": "done", "oms_pushed_refund_id": refund["id"]}])
            self.assertIn("19.70 USD refunded", credit_note.message_ids[:1].body)

            # The worker died after Shopify answered, before its transaction committed: the job runs again.
            credit_note.write({"oms_pushed_refund_id": False, "oms_sync_state": "pending"})
            self.assertEqual(job.perform(), f"already: {refund['id']}")
        self.assertEqual(len(self.refund_inputs()), 1, "no second refund")
        self.assertEqual(credit_note.oms_pushed_refund_id, refund["id"])
        self.assertEqual(sale["refunded"], Decimal(CREDITED))

        # Shopify's refunds/create webhook of this very refund prepares no second credit note.
        summary = order._oms_record_platform_refund(
            {
                "id": refund["id"].rsplit("/", 1)[-1],
                "note": refund["note"],
                "transactions": [(Decimal(CREDITED), "USD", "shopify_payments")],
                "amount": Decimal(CREDITED),
                "items": [],
                "shipping": Decimal(0),
                "shipping_tax": Decimal(0),
            }
        )
        self.assertIn(credit_note.name, summary)
        self.assertEqual(order.invoice_ids.filtered(lambda m: m.move_type == "out_refund"), credit_note)

    def test_shopify_429_then_refunded(self):
        order = self.platform_order(self.shopify, "2002")
        self.standin.fail_next("429", match="refundCreate")
        with trap_jobs() as trap:
            __, credit_note = self.return_received(order)
            outcomes = [self.run_jobs(trap)[0] for __ in range(2)]
        self.assertEqual(outcomes[0], ("retry", 2), "a 429 waits for its Retry-After")
        self.assertEqual(outcomes[1][0], "done")
        self.assertEqual(len(self.standin.orders["2002"]["refunds"]), 1)
        self.assertEqual(self.standin.orders["2002"]["transactions"][0]["refunded"], Decimal(CREDITED))
        self.assertEqual(credit_note.oms_sync_state, "done")

    @mute_logger("odoo.addons.oms_ecommerce.models.oms_sync_mixin")
    def test_shopify_user_errors_visible_failure_and_retry(self):
        order = self.platform_order(self.shopify, "2003")
        self.standin.fail_next("user_errors", match="refundCreate")
        with trap_jobs() as trap:
            __, credit_note = self.return_received(order)
            [(outcome, message)] = self.run_jobs(trap)
        self.assertEqual(outcome, "failed")
        self.assertIn("must be less than or equal to the refundable amount", message)
        self.assertEqual((credit_note.state, credit_note.oms_sync_state), ("posted", "error"))
        self.assertIn("Shopify refused the refund: transactions: Refund amount", credit_note.oms_sync_error)
        self.assertTrue(order.oms_sync_failed)
        self.assertIn(credit_note.name, order.oms_sync_problem)
        activity_type = self.env.ref("oms_ecommerce.mail_activity_type_oms_sync")
        activity = order.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        self.assertEqual(len(activity), 1)
        self.assertIn(credit_note.name, activity.summary)
        self.assertFalse(self.standin.orders["2003"]["refunds"])

        # The order desk retries from the order, without accounting rights.
        self.assertFalse(self.oms_user.has_group("account.group_account_invoice"))
        with trap_jobs() as trap:
            order.with_user(self.oms_user).action_oms_sync_retry()
            trap.assert_enqueued_job(
                credit_note._oms_job_push_refund, properties={"identity_key": f"oms-refund:{credit_note.id}"}
            )
            self.assertEqual(credit_note.oms_sync_state, "pending")
            self.assertEqual(self.run_jobs(trap)[0][0], "done")
        self.assertEqual(len(self.standin.orders["2003"]["refunds"]), 1)
        self.assertEqual(credit_note.oms_sync_state, "done")
        self.assertFalse(order.oms_sync_failed)
        self.assertFalse(order.activity_ids.filtered(lambda a: a.activity_type_id == activity_type))

    def test_shopify_order_without_payment_refunds_the_items(self):
        order = self.platform_order(self.shopify, "2004", paid=None)
        with trap_jobs() as trap:
            __, credit_note = self.return_received(order)
            self.run_jobs(trap)
        [sent] = self.refund_inputs()
        self.assertNotIn("transactions", sent)
        self.assertEqual([item["quantity"] for item in sent["refundLineItems"]], [1, 1])
        self.assertEqual(credit_note.oms_sync_state, "done")
        self.assertIn("outside Shopify", credit_note.message_ids[:1].body)

    # ------------------------------------------------------------------ WooCommerce

    def test_woo_refund_recorded_for_the_gateway(self):
        order = self.platform_order(self.woo, "8001")
        with trap_jobs() as trap:
            __, credit_note = self.return_received(order)
            trap.assert_enqueued_job(
                credit_note._oms_job_push_refund,
                properties={"channel": "root.oms.refund-woo", "identity_key": f"oms-refund:{credit_note.id}"},
            )
            [job] = trap.enqueued_jobs
            self.run_jobs(trap)
            lines = {line["sku"]: line["id"] for line in self.standin.woo_orders["8001"]["line_items"]}
            [refund] = self.standin.woo_refunds
            self.assertEqual(refund["order"], "8001")
            body = refund["body"]
            self.assertEqual(
                body,
                {
                    "amount": CREDITED,
                    "reason": body["reason"],
                    "api_refund": False,
                    "api_restock": False,
                    "line_items": [
                        {"id": lines["OMS-MUG"], "quantity": 1, "refund_total": 12.5},
                        {"id": lines["OMS-TEA"], "quantity": 1, "refund_total": 7.2},
                    ],
                },
            )
            self.assertIn(credit_note.name, body["reason"])
            self.assertRecordValues(
                credit_note, [{"oms_sync_state": "done", "oms_pushed_refund_id": str(refund["id"])}]
            )
            self.assertIn("on the payment gateway", credit_note.message_ids[:1].body)
            # Rerun after a lost commit: the refund naming this credit note is found, none is added.
            credit_note.write({"oms_pushed_refund_id": False})
            job.perform()
        self.assertEqual(len(self.standin.woo_refunds), 1)
        self.assertEqual(credit_note.oms_pushed_refund_id, str(refund["id"]))

        # The channel lets WooCommerce refund the money through its gateway.
        self.woo.woo_api_refund = True
        order = self.platform_order(self.woo, "8002")
        with trap_jobs() as trap:
            self.return_received(order)
            self.run_jobs(trap)
        self.assertTrue(self.standin.woo_refunds[-1]["body"]["api_refund"])

    # ------------------------------------------------------------------ never echoed

    def test_platform_refund_never_pushed_back(self):
        order = self.platform_order(self.shopify, "2005")
        # Shopify's refunds/create webhook: a draft credit note for the accountant, who posts it.
        order._oms_record_platform_refund(
            {
                "id": "990001",
                "note": "Damaged in transit",
                "transactions": [(Decimal("12.50"), "USD", "shopify_payments")],
                "amount": Decimal("12.50"),
                "items": [{"sku": "OMS-MUG", "name": "Mug", "quantity": 1, "subtotal": Decimal("12.50"), "tax": 0}],
                "shipping": Decimal(0),
                "shipping_tax": Decimal(0),
            }
        )
        platform_note = order.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(platform_note.oms_platform_refund_id, "990001")
        with trap_jobs() as trap:
            platform_note.action_post()
            self.assertFalse(platform_note._oms_push_refunds())
            self.env["rma"]._oms_push_refund(platform_note)
            trap.assert_jobs_count(0)
        self.assertEqual(platform_note._oms_job_push_refund(), "made on the platform: not pushed back")
        self.assertFalse(self.standin.requests, "nothing was sent to Shopify")
        self.assertFalse(platform_note.oms_sync_state)

    def test_no_push_when_the_channel_does_not_push_refunds(self):
        self.shopify.sync_refunds = False
        order = self.platform_order(self.shopify, "2006")
        with trap_jobs() as trap:
            __, credit_note = self.return_received(order)
            trap.assert_jobs_count(0, only=credit_note._oms_job_push_refund)
        self.assertFalse(credit_note.oms_sync_state)
