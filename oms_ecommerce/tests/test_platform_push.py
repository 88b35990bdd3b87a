# Longer than ~500 lines on purpose: the pushes to Shopify and WooCommerce (shipments, cancellations, stock), against one stand-in server.
from unittest.mock import patch

from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models import oms_channel_sync
from .common import OmsJobsMixin, OmsPackingCommon, in_chain_order, order_payload
from .platform_standin import SHOPIFY_TOKEN, WOO_KEY, WOO_SECRET, PlatformStandin

LOCATION = "gid://shopify/Location/7001"


@tagged("post_install", "-at_install")
class TestPlatformPush(OmsJobsMixin, OmsPackingCommon):
    """Shipments, cancellations and stock levels pushed through queue_job to a stand-in Shopify and
    WooCommerce over real HTTP; jobs trapped with queue_job's ``trap_jobs`` and run as its runner would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standin = PlatformStandin(timeout_sleep=2.0).start()
        cls.addClassCleanup(cls.standin.stop)
        carrier_map = [(0, 0, {"method": "standard", "carrier_id": cls.carrier.id})]
        cls.shopify = cls.env["oms.channel"].create(
            {
                "name": "Push Shopify",
                "code": "push-shopify",
                "platform": "shopify",
                "carrier_map_ids": carrier_map,
                "shopify_shop": cls.standin.url,
                "shopify_access_token": SHOPIFY_TOKEN,
                "shopify_location_id": LOCATION,
                "platform_timeout": 1,
                "sync_stock": False,  # on in the stock tests
            }
        )
        cls.woo = cls.env["oms.channel"].create(
            {
                "name": "Push Woo",
                "code": "push-woo",
                "platform": "woocommerce",
                "carrier_map_ids": carrier_map,
                "woo_url": cls.standin.url,
                "woo_consumer_key": WOO_KEY,
                "woo_consumer_secret": WOO_SECRET,
                "platform_timeout": 1,
                "sync_stock": False,
            }
        )

    def setUp(self):
        super().setUp()
        self.standin.reset()

    # ------------------------------------------------------------------ helpers

    def order(self, channel, external_id, lines=None):
        """A confirmed channel order (2 mugs, 1 tea) known to the stand-in, with its reserved delivery."""
        [(status, body)] = self.receive(order_payload(external_id), channel=channel)
        self.assertEqual(status, 201, body)
        order = self.env["sale.order"].browse(body["id"])
        if channel.platform == "shopify":
            self.standin.add_shopify_order(external_id, lines or {"OMS-MUG": 2, "OMS-TEA": 1}, split=True)
        else:
            self.standin.woo_orders[external_id] = {"status": "processing", "notes": []}
        order.action_confirm()
        return order

    def ship_quantities(self, picking, quantities, tracking):
        """Validate ``picking`` with ``quantities`` ({product: qty}), the rest left in a backorder."""
        picking.carrier_tracking_ref = tracking
        for move in picking.move_ids:
            move.quantity = quantities.get(move.product_id, 0)
        picking.move_ids.picked = True
        picking.with_context(skip_backorder=True).button_validate()
        self.assertEqual(picking.state, "done")
        return picking.backorder_ids

    def fulfillment_calls(self):
        return [r["json"]["variables"]["fulfillment"] for r in self.standin.calls("fulfillmentCreate")]

    # ------------------------------------------------------------------ job channels

    def test_job_channel_per_sales_channel(self):
        self.assertEqual(self.shopify.job_channel_id.complete_name, "root.oms.push-shopify")
        self.assertEqual(self.woo.job_channel_id.complete_name, "root.oms.push-woo")
        self.shopify.code = "push-shopify-eu"
        self.assertEqual(self.shopify.job_channel_id.complete_name, "root.oms.push-shopify-eu")

    # ------------------------------------------------------------------ Shopify shipments

    @mute_logger("odoo.addons.queue_job.delay")
    def test_shopify_partial_shipment_then_backorder(self):
        order = self.order(self.shopify, "820982911946154508")
        picking = order.picking_ids
        with trap_jobs() as trap:
            backorder = self.ship_quantities(picking, {self.mug: 1, self.tea: 1}, "TRK-A,TRK-B")
            trap.assert_jobs_count(1, only=picking._oms_job_push_shipment)
            trap.assert_enqueued_job(
                picking._oms_job_push_shipment,
                properties={"channel": "root.oms.push-shopify", "identity_key": f"oms-ship:{picking.id}"},
            )
            self.assertEqual(picking.oms_sync_state, "pending")
            self.assertEqual(self.run_jobs(trap)[-1][0], "done")
        [first] = self.fulfillment_calls()
        for group in first["lineItemsByFulfillmentOrder"]:
            self.assertTrue(group["fulfillmentOrderLineItems"], "empty line items would fulfil the whole order")
        self.assertEqual(self.standin.fulfillments[0]["lines"], {"OMS-MUG": 1, "OMS-TEA": 1})
        self.assertEqual(
            first["trackingInfo"],
            {
                "company": "OMS Post",
                "numbers": ["TRK-A", "TRK-B"],
                "urls": ["https://track.example.com/p/TRK-A", "https://track.example.com/p/TRK-B"],
            },
        )
        self.assertFalse(first["notifyCustomer"], "Odoo's own shipped email is on: Shopify stays silent")
        self.assertEqual(picking.oms_sync_state, "done")
        self.assertEqual(picking.oms_platform_fulfillment_id, self.standin.fulfillments[0]["id"])

        # The backorder pushes its own fulfillment: the last mug.
        with trap_jobs() as trap:
            self.ship_quantities(backorder, {self.mug: 1}, "TRK-C")
            self.run_jobs(trap)
        self.assertEqual(len(self.standin.fulfillments), 2)
        self.assertEqual(self.standin.fulfillments[1]["lines"], {"OMS-MUG": 1})
        self.assertEqual(self.standin.fulfillments[1]["trackingInfo"]["numbers"], ["TRK-C"])

        # Asked again (a requeued job): nothing is sent, the delivery went already.
        calls = len(self.standin.requests)
        self.assertIn("already pushed", picking._oms_job_push_shipment())
        self.assertEqual(len(self.standin.requests), calls)

    def test_shopify_notify_customer_per_channel(self):
        self.shopify.notify_shipped = False
        self.assertTrue(self.shopify.sync_notify_customer, "no email of ours: Shopify tells the customer")
        order = self.order(self.shopify, "1002")
        with trap_jobs() as trap:
            self.ship(order.picking_ids)
            self.run_jobs(trap)
        [call] = self.fulfillment_calls()
        self.assertTrue(call["notifyCustomer"])
        self.assertEqual(self.standin.fulfillments[0]["lines"], {"OMS-MUG": 2, "OMS-TEA": 1})

    def test_shopify_rerun_after_lost_commit_creates_no_second_fulfillment(self):
        order = self.order(self.shopify, "1003")
        picking = order.picking_ids
        with trap_jobs() as trap:
            self.ship(picking)
            [job] = trap.enqueued_jobs
            self.run_jobs(trap)
            self.assertEqual(len(self.standin.fulfillments), 1)
            # The worker died after Shopify answered, before its transaction committed: the job runs again.
            picking.write({"oms_platform_fulfillment_id": False, "oms_sync_state": "pending"})
            job.perform()
        self.assertEqual(len(self.standin.fulfillments), 1, "no second fulfillment")
        self.assertEqual(len(self.standin.calls("fulfillmentCreate")), 1)
        self.assertEqual(picking.oms_sync_state, "done")
        self.assertEqual(picking.oms_platform_fulfillment_id, "already")

    def test_shopify_429_500_timeout_throttled_retried_then_pushed(self):
        order = self.order(self.shopify, "1004")
        self.standin.fail_next("429", match="graphql")
        self.standin.fail_next("500", match="graphql")
        self.standin.fail_next("timeout", match="graphql")
        self.standin.fail_next("throttled", match="graphql")
        with trap_jobs() as trap:
            self.ship(order.picking_ids)
            outcomes = [self.run_jobs(trap)[0] for __ in range(5)]
        self.assertEqual(
            outcomes,
            [("retry", 2), ("retry", None), ("retry", None), ("retry", 2), ("done", outcomes[-1][1])],
            "429 waits its Retry-After, 5xx and timeouts follow the retry pattern, THROTTLED waits for the bucket",
        )
        self.assertEqual(len(self.standin.fulfillments), 1)
        self.assertEqual(order.picking_ids.oms_sync_state, "done")

    @mute_logger("odoo.addons.oms_ecommerce.models.oms_sync_mixin")
    def test_shopify_user_errors_visible_failure_and_retry(self):
        order = self.order(self.shopify, "1005")
        picking = order.picking_ids
        self.standin.fail_next("user_errors", match="fulfillmentCreate")
        with trap_jobs() as trap:
            self.ship(picking)
            [(outcome, message)] = self.run_jobs(trap)
        self.assertEqual(outcome, "failed")
        self.assertIn("Tracking company is invalid", message)
        self.assertEqual(picking.state, "done", "a failed push never undoes the validation")
        self.assertEqual(picking.oms_sync_state, "error")
        self.assertIn(
            "Shopify refused the fulfillment: fulfillment: Tracking company is invalid", picking.oms_sync_error
        )
        self.assertTrue(order.oms_sync_failed)
        self.assertIn(picking.name, order.oms_sync_problem)
        activity_type = self.env.ref("oms_ecommerce.mail_activity_type_oms_sync")
        activity = order.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        self.assertEqual(activity.user_id, self.shopify.user_id)
        self.assertIn(picking.name, activity.summary)

        with trap_jobs() as trap:
            order.action_oms_sync_retry()
            trap.assert_enqueued_job(
                picking._oms_job_push_shipment, properties={"identity_key": f"oms-ship:{picking.id}"}
            )
            self.assertEqual(picking.oms_sync_state, "pending")
            self.assertEqual(self.run_jobs(trap)[0][0], "done")
        self.assertEqual(len(self.standin.fulfillments), 1)
        self.assertFalse(order.oms_sync_failed)
        self.assertFalse(order.activity_ids.filtered(lambda a: a.activity_type_id == activity_type))

    def test_wrong_token_fails_without_showing_it(self):
        self.shopify.shopify_access_token = "shpat_wrong_and_secret"
        order = self.order(self.shopify, "1006")
        with trap_jobs() as trap:
            self.ship(order.picking_ids)
            [job] = trap.enqueued_jobs
            [(outcome, message)] = self.run_jobs(trap)
        self.assertEqual(outcome, "failed")
        self.assertIn("HTTP 401", message)
        self.assertIn("Check the access token", order.picking_ids.oms_sync_error)
        stored = repr((job.args, job.kwargs, job.description, job.identity_key, job.channel, message))
        self.assertNotIn("shpat_wrong_and_secret", stored + order.picking_ids.oms_sync_error)

    def test_shipment_without_carrier_fails_with_what_to_fix(self):
        order = self.order(self.shopify, "1007")
        order.picking_ids.carrier_id = False
        with trap_jobs() as trap:
            self.ship(order.picking_ids)
            [(outcome, message)] = self.run_jobs(trap)
        self.assertEqual(outcome, "failed")
        self.assertIn("has no carrier", message)
        self.assertFalse(self.standin.calls("fulfillmentCreate"))

    # ------------------------------------------------------------------ WooCommerce shipments

    def test_woo_note_per_shipment_completed_after_the_last(self):
        self.woo.sync_notify_customer = True
        order = self.order(self.woo, "7001")
        picking = order.picking_ids
        with trap_jobs() as trap:
            backorder = self.ship_quantities(picking, {self.mug: 2}, "TRK-W1,TRK-W2")
            trap.assert_enqueued_job(
                picking._oms_job_push_shipment,
                properties={"channel": "root.oms.push-woo", "identity_key": f"oms-ship:{picking.id}"},
            )
            self.run_jobs(trap)
        [note] = self.standin.woo_orders["7001"]["notes"]
        self.assertTrue(note["customer_note"])
        self.assertIn("OMS Post", note["note"])
        self.assertIn("TRK-W1 https://track.example.com/p/TRK-W1", note["note"])
        self.assertIn("TRK-W2 https://track.example.com/p/TRK-W2", note["note"])
        self.assertEqual(self.standin.woo_orders["7001"]["status"], "processing", "the tea has not shipped yet")
        self.assertFalse(
            self.standin.calls("/orders/7001") and [r for r in self.standin.requests if r["method"] == "PUT"]
        )

        with trap_jobs() as trap:
            self.ship_quantities(backorder, {self.tea: 1}, "TRK-W3")
            [job] = trap.enqueued_jobs
            self.run_jobs(trap)
            self.assertEqual(self.standin.woo_orders["7001"]["status"], "completed")
            self.assertEqual(len(self.standin.woo_orders["7001"]["notes"]), 2)
            # Rerun after a lost commit: the note with this delivery's name is found, none is added.
            backorder.write({"oms_platform_fulfillment_id": False})
            job.perform()
        self.assertEqual(len(self.standin.woo_orders["7001"]["notes"]), 2)

    # ------------------------------------------------------------------ cancellations

    def test_shopify_cancel_by_desk_pushed_once(self):
        order = self.order(self.shopify, "1010")
        with trap_jobs() as trap:
            order.action_cancel()
            trap.assert_enqueued_job(
                order._oms_job_push_cancel,
                properties={"channel": "root.oms.push-shopify", "identity_key": f"oms-cancel:{order.id}"},
            )
            [job] = trap.enqueued_jobs
            self.run_jobs(trap)
            sent = self.standin.cancelled["1010"]
            self.assertEqual(sent["orderId"], "gid://shopify/Order/1010")
            self.assertEqual(sent["refundMethod"], {"originalPaymentMethodsRefund": False})
            self.assertTrue(sent["restock"])
            self.assertEqual(sent["reason"], "OTHER")
            self.assertFalse(sent["notifyCustomer"])
            self.assertEqual(order.oms_sync_state, "done")
            # Run twice: Shopify answers that the order is already cancelled, which counts as done.
            self.assertEqual(job.perform(), "already")
        self.assertEqual(order.oms_sync_state, "done")

    def test_cancel_from_channel_is_not_echoed(self):
        order = self.order(self.shopify, "1011")
        with trap_jobs() as trap:
            order._oms_cancel_from_channel()
            trap.assert_jobs_count(0, only=order._oms_job_push_cancel)
        self.assertEqual(order.state, "cancel")
        self.assertFalse(order.oms_sync_state)

    def test_woo_cancel_and_refused_cancel(self):
        order = self.order(self.woo, "7010")
        with trap_jobs() as trap:
            order.action_cancel()
            self.run_jobs(trap)
        self.assertEqual(self.standin.woo_orders["7010"]["status"], "cancelled")
        self.assertEqual(order.oms_sync_state, "done")

        order = self.order(self.shopify, "1012")
        self.standin.fail_next("user_errors", match="orderCancel")
        with trap_jobs() as trap:
            order.action_cancel()
            [(outcome, _message)] = self.run_jobs(trap)
        self.assertEqual((outcome, order.state, order.oms_sync_state), ("failed", "cancel", "error"))
        self.assertIn("pending payment authorizations", order.oms_sync_problem)

    # ------------------------------------------------------------------ stock levels

    def adjust(self, product, quantity):
        """An inventory adjustment in the warehouse (a done stock move)."""
        quant = self.env["stock.quant"]._gather(product, self.warehouse.lot_stock_id)[:1]
        quant.with_context(inventory_mode=True).write({"inventory_quantity": quantity})
        quant.action_apply_inventory()

    def test_shopify_stock_merged_per_sku_with_buffer(self):
        self.shopify.sync_stock = True
        self.shopify.stock_buffer = 3
        mug_item = self.standin.add_variant("OMS-MUG")
        self.standin.add_variant("OMS-TEA")
        with trap_jobs() as trap:
            self.order(self.shopify, "1020")  # maps the order's products, reserves 2 mugs and 1 tea
            for quantity in (40, 41, 42, 43, 44):
                self.adjust(self.mug, quantity)
            mug_jobs = [j for j in trap.enqueued_jobs if j.args == ([self.mug.id],)]
            self.assertEqual(len(mug_jobs), 1, "five adjustments and a reservation make one pending push")
            self.assertEqual(mug_jobs[0].identity_key, f"oms-stock:{self.shopify.id}:{self.mug.id}")
            self.assertEqual(mug_jobs[0].channel, "root.oms.push-shopify")
            self.run_jobs(trap)
        # 44 on hand, 2 reserved for the order, 3 held back.
        self.assertEqual(self.standin.inventory[(mug_item, LOCATION)], 39)
        sets = self.standin.calls("inventorySetQuantities")
        self.assertEqual(len(sets), 2, "one call per SKU")
        sent = sets[0]["json"]["variables"]["input"]
        self.assertEqual(
            (sent["name"], sent["reason"], sent["ignoreCompareQuantity"]), ("available", "correction", True)
        )
        self.assertEqual(len(self.standin.calls("productVariants")), 2, "each SKU looked up once")
        mapping = self.shopify.product_map_ids.filtered(lambda m: m.product_id == self.mug)
        self.assertRecordValues(mapping, [{"state": "found", "platform_ref": mug_item, "last_quantity": 39}])

        # Never below 0; the cached inventory item is not looked up again.
        with trap_jobs() as trap:
            self.adjust(self.mug, 4)
            self.run_jobs(trap)
        self.assertEqual(self.standin.inventory[(mug_item, LOCATION)], 0)
        self.assertEqual(len(self.standin.calls("productVariants")), 2)

    def test_unknown_sku_listed_not_retried(self):
        self.shopify.sync_stock = True
        self.standin.add_variant("OMS-MUG")
        with trap_jobs() as trap:
            self.order(self.shopify, "1021")
            outcomes = self.run_jobs(trap)
        self.assertTrue(all(outcome == "done" for outcome, __ in outcomes), outcomes)
        tea = self.shopify.product_map_ids.filtered(lambda m: m.product_id == self.tea)
        self.assertEqual(tea.state, "unknown")
        self.assertIn("no product variant with this SKU", tea.problem)
        self.assertEqual(self.shopify.sync_unknown_count, 1)
        with trap_jobs() as trap:
            self.adjust(self.tea, 30)
            trap.assert_jobs_count(0)
        # Once created on Shopify, the desk looks it up again.
        self.standin.add_variant("OMS-TEA")
        with trap_jobs() as trap:
            tea.action_look_up_again()
            self.run_jobs(trap)
        self.assertEqual(tea.state, "found")

    def test_woo_stock_products_and_variations(self):
        self.woo.sync_stock = True
        self.standin.add_woo_product("OMS-MUG")
        tea_id = self.standin.add_woo_product("OMS-TEA", parent_id=77)
        with trap_jobs() as trap:
            self.order(self.woo, "7020")
            self.run_jobs(trap)
        mug_id = self.standin.woo_products["OMS-MUG"]["id"]
        self.assertEqual(self.standin.woo_stock, {mug_id: 48, tea_id: 49})
        self.assertTrue(self.standin.calls("products/77/variations/batch"))
        update = self.standin.calls("/products/batch")[0]["json"]["update"]
        self.assertEqual(update, [{"id": mug_id, "stock_quantity": 48, "manage_stock": True}])
        lookups = len([r for r in self.standin.requests if r["path"].endswith("/products") and r["method"] == "GET"])
        self.assertEqual(lookups, 2)
        with trap_jobs() as trap:
            self.adjust(self.mug, 10)
            self.run_jobs(trap)
        self.assertEqual(self.standin.woo_stock[mug_id], 8)
        self.assertEqual(
            len([r for r in self.standin.requests if r["path"].endswith("/products") and r["method"] == "GET"]),
            lookups,
            "product ids are cached on the mapping",
        )

    def test_reconciliation_pushes_every_mapped_sku(self):
        self.shopify.sync_stock = True
        mug_item, tea_item = self.standin.add_variant("OMS-MUG"), self.standin.add_variant("OMS-TEA")
        with trap_jobs() as trap:
            self.order(self.shopify, "1022")
            self.run_jobs(trap)
        self.standin.reset()
        self.standin.variants = {"OMS-MUG": mug_item, "OMS-TEA": tea_item}
        with trap_jobs() as trap:
            self.env["oms.channel"]._cron_oms_reconcile_stock()
            trap.assert_enqueued_job(
                self.shopify._oms_job_push_stock,
                args=(self.shopify.product_map_ids.product_id.ids,),
                kwargs={"force": True},
                properties={"identity_key": f"oms-stock-all:{self.shopify.id}", "channel": "root.oms.push-shopify"},
            )
            self.run_jobs(trap)
        [call] = self.standin.calls("inventorySetQuantities")
        quantities = {q["inventoryItemId"]: q["quantity"] for q in call["json"]["variables"]["input"]["quantities"]}
        self.assertEqual(quantities, {mug_item: 48, tea_item: 49}, "pushed although unchanged: a reconciliation")

    def test_stock_failure_shows_on_channel(self):
        self.shopify.sync_stock = True
        self.standin.add_variant("OMS-MUG")
        self.standin.add_variant("OMS-TEA")
        self.shopify.shopify_location_id = False
        with trap_jobs() as trap:
            self.order(self.shopify, "1023")
            jobs = list(trap.enqueued_jobs)
            outcomes = self.run_jobs(trap)
        # The push failed; the customer's step emails (jobs of their own) went out.
        by_kind = {
            (job.method_name == "_oms_job_notify", outcome) for job, (outcome, __) in zip(jobs, outcomes, strict=True)
        }
        self.assertEqual({outcome for notify, outcome in by_kind if not notify}, {"failed"})
        self.assertEqual({outcome for notify, outcome in by_kind if notify}, {"done"})
        self.assertEqual(self.shopify.oms_sync_state, "error")
        self.assertIn("Set the Shopify Location ID", self.shopify.oms_sync_error)
        activity_type = self.env.ref("oms_ecommerce.mail_activity_type_oms_sync")
        self.assertEqual(len(self.shopify.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)), 1)
        self.shopify.shopify_location_id = LOCATION
        with trap_jobs() as trap:
            self.shopify.action_oms_sync_retry()
            self.run_jobs(trap)
        self.assertEqual(self.shopify.oms_sync_state, "done")
        self.assertEqual(len(self.standin.calls("inventorySetQuantities")), 1)
        self.assertFalse(self.shopify.activity_ids.filtered(lambda a: a.activity_type_id == activity_type))

    def test_push_stock_button_in_chunks_with_progress(self):
        """Push Stock Levels: queue_job jobs of a chunk of SKUs each on the channel's job channel, one after the
        other, the progress moving with each; the manager is told when it is done, or why it failed (the channel
        then shows the failure and its Retry, which starts the push again)."""
        self.shopify.sync_stock = True
        mug_item, tea_item = self.standin.add_variant("OMS-MUG"), self.standin.add_variant("OMS-TEA")
        with trap_jobs() as trap:
            self.order(self.shopify, "1024")
            self.run_jobs(trap)
        self.standin.reset()
        self.standin.variants = {"OMS-MUG": mug_item, "OMS-TEA": tea_item}
        channel = self.shopify.with_user(self.oms_manager)
        mapped = self.shopify.product_map_ids.product_id
        with patch.object(oms_channel_sync, "STOCK_PUSH_CHUNK", 1), trap_jobs() as trap:
            action = channel.action_oms_push_stock()
            self.assertEqual(action["params"]["type"], "info")
            progress = self.env["oms.job.progress"].search([("channel_id", "=", self.shopify.id)])
            self.assertRecordValues(
                progress, [{"kind": "stock_push", "user_id": self.oms_manager.id, "total": 2, "state": "running"}]
            )
            trap.assert_jobs_count(2, only=progress._oms_job_push_stock)
            trap.assert_enqueued_job(
                progress._oms_job_push_stock,
                args=(mapped[:1].ids,),
                properties={
                    "channel": "root.oms.push-shopify",
                    "identity_key": f"oms-stock-all:{self.shopify.id}:{progress.id}:stock-1",
                },
            )
            self.assertFalse(self.standin.calls("inventorySetQuantities"), "nothing pushed in the request")
            first, second = in_chain_order(trap.enqueued_jobs)
            first.perform()
            self.assertRecordValues(progress, [{"done": 1, "progress": 50, "state": "running"}])
            second.perform()
        self.assertEqual(len(self.standin.calls("inventorySetQuantities")), 2)
        self.assertEqual(self.standin.inventory[(mug_item, LOCATION)], 48)
        self.assertRecordValues(progress, [{"state": "done", "progress": 100, "counters": {"pushed": 2, "unknown": 0}}])
        self.assert_user_told(progress, "Push Shopify: the stock levels of 2 SKUs pushed")

        # A push the platform refuses: the action stops, its user is told why, the channel shows it.
        self.shopify.shopify_location_id = False
        with trap_jobs() as trap:
            channel.action_oms_push_stock()
            [(outcome, message)] = self.run_jobs(trap)
        self.assertIn("Set the Shopify Location ID", message)
        self.assertEqual(outcome, "failed")
        failed = self.env["oms.job.progress"].search([("channel_id", "=", self.shopify.id), ("state", "=", "failed")])
        self.assertIn("Set the Shopify Location ID", failed.error)
        self.assert_user_told(failed, "Set the Shopify Location ID", kind="danger")
        self.assertEqual(self.shopify.oms_sync_state, "error")
        self.shopify.shopify_location_id = LOCATION
        with trap_jobs() as trap:
            channel.action_oms_sync_retry()
            self.assertEqual(self.run_jobs(trap), [("done", "2 pushed, 0 unknown")])
        self.assertEqual(self.shopify.oms_sync_state, "done")
