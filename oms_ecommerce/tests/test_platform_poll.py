# Longer than ~520 lines on purpose: the pull of missed orders, for Shopify and WooCommerce, against one stand-in server.
import base64
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

from odoo import fields
from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tests.common import _super_send

from ..models import oms_job_progress
from ..tools.webhooks import utc
from .common import OmsPackingCommon, placed_days_ago
from .test_platform_webhooks import fixture, shopify_time

SHOPIFY_TOKEN = "shpat_0123456789abcdef0123456789abcdef"
WOO_KEY = "ck_4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6"
WOO_SECRET = "cs_9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
SHOPIFY_IDS = [5990123456789012345 + n for n in range(3)]
WOO_IDS = [9007199254740993 + 2 * n for n in range(3)]
PAGE_SIZE = 2  # the stand-in's pages: three orders make two


class StandIn(ThreadingHTTPServer):
    """Shopify's and WooCommerce's order list endpoints on 127.0.0.1, paged by two, as the platforms document
    them (Shopify: ``Link`` cursor pages; WooCommerce: ``X-WP-TotalPages``). ``script[platform]`` lists what
    the next requests get instead of the orders: ``("status", code, headers, body)`` or ``("sleep", s)``."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), StandInHandler)
        self.port = self.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.reset()

    def reset(self):
        self.orders = {"shopify": [], "woocommerce": []}
        self.script = {"shopify": [], "woocommerce": []}
        self.requests = {"shopify": [], "woocommerce": []}


class StandInHandler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        if parts.path == "/admin/api/2025-10/orders.json":
            platform = "shopify"
        elif parts.path == "/wp-json/wc/v3/orders":
            platform = "woocommerce"
        else:
            return self._answer(404, {}, b'{"errors":"Not Found"}')
        self.server.requests[platform].append({"query": query, "headers": dict(self.headers)})
        script = self.server.script[platform]
        step = script.pop(0) if script else None
        if step and step[0] == "sleep":
            time.sleep(step[1])
        elif step:
            return self._answer(step[1], step[2], step[3])
        return self._shopify(query) if platform == "shopify" else self._woocommerce(query)

    def _answer(self, status, headers, body):
        try:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json; charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (the timeout test)

    def _shopify(self, query):
        if "page_info" in query:
            # Shopify: with page_info, no other parameter than limit.
            assert set(query) <= {"page_info", "limit"}, query
            start = int(base64.urlsafe_b64decode(query["page_info"]))
        else:
            start = 0
        orders = sorted(self.server.orders["shopify"], key=lambda order: _shopify_utc(order["updated_at"]))
        if "updated_at_min" in query:
            since = _shopify_utc(query["updated_at_min"])
            orders = [order for order in orders if _shopify_utc(order["updated_at"]) >= since]
            self.server.shopify_selection = orders
        else:
            orders = self.server.shopify_selection
        page = orders[start : start + PAGE_SIZE]
        headers = {"X-Shopify-Shop-Api-Call-Limit": "1/40"}
        if start + PAGE_SIZE < len(orders):
            cursor = base64.urlsafe_b64encode(str(start + PAGE_SIZE).encode()).decode()
            headers["Link"] = (
                f'<{self.server.url}/admin/api/2025-10/orders.json?limit=250&page_info={cursor}>; rel="next"'
            )
        return self._answer(200, headers, json.dumps({"orders": page}).encode())

    def _woocommerce(self, query):
        since = fields.Datetime.to_datetime(query["modified_after"].replace("T", " "))
        orders = sorted(
            (
                order
                for order in self.server.orders["woocommerce"]
                if fields.Datetime.to_datetime(order["date_modified_gmt"].replace("T", " ")) > since
            ),
            key=lambda order: order["date_modified_gmt"],
        )
        page = int(query.get("page", 1))
        pages = max((len(orders) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        body = orders[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        headers = {"X-WP-Total": str(len(orders)), "X-WP-TotalPages": str(pages)}
        return self._answer(200, headers, json.dumps(body).encode())


def _shopify_utc(value):
    return utc(value, "updated_at")


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class PlatformPollCase(OmsPackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stand_in = StandIn()
        thread = threading.Thread(target=cls.stand_in.serve_forever, daemon=True)
        thread.start()
        cls.addClassCleanup(thread.join, 5)
        cls.addClassCleanup(cls.stand_in.server_close)
        cls.addClassCleanup(cls.stand_in.shutdown)
        (cls.mug | cls.tea | cls.carrier.product_id).write({"taxes_id": [fields.Command.clear()]})
        carrier_map = [(0, 0, {"method": "standard", "carrier_id": cls.carrier.id})]
        cls.shopify = cls.env["oms.channel"].create(
            {"name": "Shopify Shop", "code": "shopify-shop", "platform": "shopify", "secret": "shpss_key",
             "carrier_map_ids": carrier_map, "user_id": cls.oms_manager.id,
             "shopify_shop": cls.stand_in.url, "shopify_access_token": SHOPIFY_TOKEN}
        )  # fmt: skip
        cls.woo = cls.env["oms.channel"].create(
            {"name": "Woo Shop", "code": "woo-shop", "platform": "woocommerce", "secret": "woo_key",
             "carrier_map_ids": carrier_map, "user_id": cls.oms_manager.id,
             "woo_url": cls.stand_in.url, "woo_consumer_key": WOO_KEY, "woo_consumer_secret": WOO_SECRET}
        )  # fmt: skip
        cls.placed = placed_days_ago()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.watermark = cls.now - timedelta(hours=2)

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo's tests raise every timeout below 10 s to 10 s: keep the channel's own one for the stand-in.
        if urlsplit(r.url).port == cls.stand_in.port:
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    def setUp(self):
        super().setUp()
        self.stand_in.reset()
        (self.shopify | self.woo).write({"poll_watermark": self.watermark})
        self.slept = []
        # The scheduled action commits after each page: not in a test's transaction.
        self.startPatcher(patch.object(type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: 1000.0))

    def poll(self, channel):
        result = channel._oms_poll(sleep=self.slept.append)
        self.env.invalidate_all()
        return result

    def version(self, minutes_ago):
        return self.now - timedelta(minutes=minutes_ago)

    def intakes(self, channel):
        return self.Intake.search([("channel_id", "=", channel.id)])

    def orders(self, channel):
        return self.env["sale.order"].search([("oms_channel_id", "=", channel.id)])

    def order_of(self, channel, external_id):
        return self.env["sale.order"].search(
            [("oms_channel_id", "=", channel.id), ("oms_external_id", "=", str(external_id))]
        )

    def script(self, platform, *steps):
        self.stand_in.script[platform].extend(steps)

    def requests_of(self, platform):
        return self.stand_in.requests[platform]


@tagged("post_install", "-at_install")
class TestShopifyPoll(PlatformPollCase):
    def body(self, index, minutes_ago, **overrides):
        body = fixture("shopify_order.json")
        body.update(
            id=SHOPIFY_IDS[index],
            name=f"#{1001 + index}",
            order_number=1001 + index,
            created_at=shopify_time(self.placed),
            updated_at=shopify_time(self.version(minutes_ago)),
        )
        body.update(overrides)
        return body

    def serve(self, *bodies):
        self.stand_in.orders["shopify"] = list(bodies)

    def serve_three(self):
        self.serve(self.body(0, 50), self.body(1, 40), self.body(2, 30))

    def test_first_poll_pulls_the_missed_orders_the_second_nothing(self):
        self.serve_three()
        result = self.poll(self.shopify)
        self.assertEqual((result["stored"], result["pages"], result["error"]), (3, 2, False))
        first, second = self.requests_of("shopify")
        self.assertEqual(first["headers"]["X-Shopify-Access-Token"], SHOPIFY_TOKEN)
        self.assertEqual(
            first["query"],
            {
                "status": "any",
                "updated_at_min": _iso(self.watermark - timedelta(minutes=10)),
                "limit": "250",
                "order": "updated_at asc",
            },
        )
        self.assertEqual(second["query"]["limit"], "250", "the next page is the Link's URL as given")
        self.assertEqual(second["headers"]["X-Shopify-Access-Token"], SHOPIFY_TOKEN)
        for index, external_id in enumerate(SHOPIFY_IDS):
            order = self.order_of(self.shopify, external_id)
            self.assertRecordValues(
                order,
                [{"client_order_ref": f"#{1001 + index}", "oms_platform_version": self.version(50 - 10 * index)}],
            )
        # Each "received" email in one job: a page is one bulk operation, not one overlapping job per order.
        received = self.orders(self.shopify).oms_step_ids.filtered(lambda s: s.step == "received")
        jobs = self.env["queue.job"].search([("method_name", "=", "_oms_job_notify")])
        self.assertEqual(sorted(i for job in jobs for i in job.records.ids if i in received.ids), sorted(received.ids))
        intakes = self.intakes(self.shopify)
        self.assertEqual(set(intakes.mapped("source")), {"poll"})
        self.assertEqual(set(intakes.mapped("state")), {"done"})
        self.assertEqual(set(intakes.mapped("webhook_topic")), {"orders/updated"})
        self.assertEqual(self.shopify.poll_watermark, self.version(30), "the newest update time pulled")
        self.assertFalse(self.shopify.poll_last_error)
        self.assertIn("3 orders received", self.shopify.poll_last_result)

        # The next run reads the last two orders again (its overlap): nothing is stored, nothing changes.
        result = self.poll(self.shopify)
        self.assertEqual((result["stored"], result["skipped"]), (0, 2))
        self.assertEqual(
            self.requests_of("shopify")[-1]["query"]["updated_at_min"], _iso(self.version(30) - timedelta(minutes=10))
        )
        self.assertEqual(len(self.intakes(self.shopify)), 3)
        self.assertEqual(len(self.orders(self.shopify)), 3)

    def test_a_whole_second_poll_stores_nothing(self):
        self.serve_three()
        self.poll(self.shopify)
        self.shopify.poll_watermark = self.watermark  # read everything again
        with self.assertQueryCount(19):  # a few per page, none per order
            result = self.poll(self.shopify)
        self.assertEqual((result["stored"], result["skipped"]), (0, 3))
        self.assertEqual(len(self.intakes(self.shopify)), 3)

    def test_order_received_by_webhook_is_not_duplicated(self):
        webhook = self.Intake._receive_webhook(
            self.shopify, json.dumps(self.body(0, 50)), "orders/create", "wh-1", "ev-1"
        )
        self.assertEqual(webhook.state, "done")
        self.serve_three()
        result = self.poll(self.shopify)
        self.assertEqual((result["stored"], result["skipped"]), (2, 1))
        self.assertEqual(len(self.order_of(self.shopify, SHOPIFY_IDS[0])), 1)
        self.assertEqual(self.intakes(self.shopify).filtered(lambda i: i.external_id == str(SHOPIFY_IDS[0])), webhook)
        self.assertEqual(len(self.orders(self.shopify)), 3)

    def test_newer_version_is_applied_and_cancelled_cancels(self):
        self.Intake._receive_webhook(self.shopify, json.dumps(self.body(0, 50)), "orders/create", "wh-1", "ev-1")
        order = self.order_of(self.shopify, SHOPIFY_IDS[0])
        moved = self.body(0, 20)
        moved["shipping_address"].update(address1="1 Elm Street", address2="", zip="40203")
        cancelled = self.body(1, 15, cancelled_at=shopify_time(self.version(15)), cancel_reason="customer")
        self.serve(moved, cancelled)
        result = self.poll(self.shopify)
        self.assertEqual(result["stored"], 2)
        self.assertEqual(order.partner_shipping_id.street, "1 Elm Street")
        self.assertEqual(order.oms_platform_version, self.version(20))
        applied = self.intakes(self.shopify).filtered(lambda i: i.external_id == str(SHOPIFY_IDS[0]))[:1]
        self.assertRecordValues(applied, [{"source": "poll", "state": "done", "order_id": order.id}])
        self.assertEqual(self.order_of(self.shopify, SHOPIFY_IDS[1]).state, "cancel")
        # An older version than the order's (a webhook came in meanwhile) is not stored at all.
        self.serve(self.body(0, 25))
        self.shopify.poll_watermark = self.watermark
        result = self.poll(self.shopify)
        self.assertEqual((result["stored"], result["skipped"]), (0, 1))
        self.assertEqual(order.partner_shipping_id.street, "1 Elm Street")

    def test_rate_limit_waits_briefly_or_stops_until_the_next_run(self):
        self.serve_three()
        self.script("shopify", ("status", 429, {"Retry-After": "1.0"}, b'{"errors":"Exceeded 2 calls per second"}'))
        result = self.poll(self.shopify)
        self.assertEqual((result["stored"], result["error"]), (3, False))
        self.assertEqual(self.slept, [1.0], "a short Retry-After is waited out within the run")

        self.serve(self.body(0, 5))
        self.script("shopify", ("status", 429, {"Retry-After": "30"}, b'{"errors":"Exceeded 2 calls per second"}'))
        result = self.poll(self.shopify)
        self.assertEqual(result["stored"], 0)
        self.assertEqual(self.slept, [1.0], "a long one ends the run")
        self.assertIn("HTTP 429", self.shopify.poll_last_error)
        self.assertIn("wait 30.0 s", self.shopify.poll_last_error)
        self.assertIn("Retried automatically", self.shopify.poll_last_error)
        self.assertEqual(self.shopify.poll_watermark, self.version(30), "kept")
        result = self.poll(self.shopify)
        self.assertEqual((result["stored"], result["error"]), (1, False))
        self.assertEqual(self.shopify.poll_watermark, self.version(5))
        self.assertFalse(self.shopify.poll_last_error)

    def test_server_error_keeps_the_watermark_and_asks_the_responsible_once(self):
        self.serve_three()
        error_page = ("status", 500, {}, b'{"errors":"Internal Server Error"}')
        self.script("shopify", None, error_page)
        result = self.poll(self.shopify)
        self.assertEqual(result["stored"], 2, "the first page is kept")
        self.assertEqual(self.shopify.poll_watermark, self.version(40), "up to the last page done")
        self.assertIn("HTTP 500", self.shopify.poll_last_error)
        self.assertEqual(self.shopify.poll_error_count, 1)
        self.assertFalse(self.shopify.activity_ids)
        for _run in range(3):
            self.script("shopify", error_page)
            self.poll(self.shopify)
        self.assertEqual(self.shopify.poll_error_count, 4)
        activity = self.shopify.activity_ids
        self.assertEqual(len(activity), 1, "one activity, not one per run")
        self.assertEqual(activity.user_id, self.oms_manager)
        self.assertEqual(activity.activity_type_id, self.env.ref("oms_ecommerce.mail_activity_type_oms_poll"))
        # It works again: the last order comes, the activity is done.
        result = self.poll(self.shopify)
        self.assertEqual(result["error"], False)
        self.assertEqual(len(self.orders(self.shopify)), 3)
        self.assertFalse(self.shopify.activity_ids)
        self.assertEqual(self.shopify.poll_error_count, 0)

    def test_timeout_is_retryable(self):
        self.serve_three()
        self.shopify.platform_timeout = 1
        self.script("shopify", ("sleep", 2))
        result = self.poll(self.shopify)
        self.assertEqual(result["stored"], 0)
        self.assertIn("did not answer within 1 s", self.shopify.poll_last_error)
        self.assertIn("Retried automatically", self.shopify.poll_last_error)
        self.assertEqual(self.shopify.poll_watermark, self.watermark)

    def test_garbage_page_is_recorded_and_nothing_lost(self):
        self.serve_three()
        self.script("shopify", ("status", 200, {"Content-Type": "text/html"}, b"<html><body>Maintenance</body></html>"))
        result = self.poll(self.shopify)
        self.assertEqual(result["stored"], 0)
        self.assertIn("not JSON", self.shopify.poll_last_error)
        self.assertEqual(self.shopify.poll_watermark, self.watermark)
        self.poll(self.shopify)
        self.assertEqual(len(self.orders(self.shopify)), 3)

    def test_an_unreadable_order_is_kept_once_in_error(self):
        broken = self.body(1, 40)
        del broken["id"]
        self.serve(self.body(0, 50), broken)
        self.poll(self.shopify)
        self.shopify.poll_watermark = self.watermark
        self.poll(self.shopify)
        error = self.intakes(self.shopify).filtered(lambda i: i.state == "error")
        self.assertEqual(len(error), 1, "stored once, however often it is read")
        self.assertEqual(error.source, "poll")
        self.assertIn("id is required", error.error_message)

    def test_credentials_never_appear_in_errors_or_logs(self):
        self.serve_three()
        refused = ("status", 401, {}, b'{"errors":"[API] Invalid API key or access token (unrecognized login)"}')
        with self.assertLogs("odoo.addons.oms_ecommerce", level="WARNING") as logs:
            for step in (refused, ("status", 500, {}, b"oops"), ("sleep", 2)):
                self.shopify.platform_timeout = 1
                self.script("shopify", step)
                self.poll(self.shopify)
                self.assertNotIn(SHOPIFY_TOKEN, self.shopify.poll_last_error)
        self.assertIn("Check the access token", " ".join(logs.output))
        self.assertNotIn(SHOPIFY_TOKEN, " ".join(logs.output))
        self.assertNotIn(SHOPIFY_TOKEN, self.shopify.poll_last_result)

    def test_button_pulls_in_jobs_with_progress(self):
        """The button (managers only) pulls nothing in the request: queue_job jobs on the channel's job channel
        each read a page here (a few in production), the next one going on from the new watermark; the progress
        is the share of the platform's history read; the manager is told at the end."""
        self.serve_three()
        with self.assertRaises(AccessError):
            self.shopify.with_user(self.oms_user).action_oms_poll_now()
        with patch.object(oms_job_progress, "POLL_PAGES_PER_JOB", 1), trap_jobs() as trap:
            action = self.shopify.with_user(self.oms_manager).action_oms_poll_now()
            self.assertEqual(action["params"]["type"], "info")
            self.assertFalse(self.requests_of("shopify"), "the platform is not called in the request")
            progress = self.env["oms.job.progress"].search([("channel_id", "=", self.shopify.id)])
            self.assertRecordValues(progress, [{"kind": "poll", "state": "running", "user_id": self.oms_manager.id}])
            trap.assert_enqueued_job(
                progress._oms_job_poll,
                properties={
                    "channel": "root.oms.shopify-shop",
                    "identity_key": f"oms-progress:{progress.id}:poll-1",
                },
            )
            seen = []
            while trap.enqueued_jobs:
                job = trap.enqueued_jobs.pop(0)
                job.perform()
                self.env.invalidate_all()
                if job.method_name != "_oms_job_notify":  # the customers' "received" emails have jobs of their own
                    seen.append((len(self.orders(self.shopify)), progress.progress, progress.state))
        # Pulled since the watermark minus 10 minutes (2 h 10 min of history up to the click): the first page
        # (2 orders) reaches 40 minutes ago, the second 30 minutes ago; the third reads nothing newer: the end.
        history = progress.total
        self.assertGreaterEqual(history, 130 * 60)
        self.assertEqual(
            seen,
            [
                (2, int(100 * 90 * 60 / history), "running"),
                (3, int(100 * 100 * 60 / history), "running"),
                (3, 100, "done"),
            ],
        )
        self.assertEqual(len(self.requests_of("shopify")), 3)
        self.assertEqual(
            self.requests_of("shopify")[1]["query"]["updated_at_min"], _iso(self.version(40)), "from the watermark on"
        )
        self.assertEqual(progress.counters["stored"], 3)
        self.assert_user_told(progress, "Shopify Shop: 3 orders received")
        # Without credentials, the button says what to set instead of starting a pull that cannot work.
        self.shopify.shopify_access_token = False
        with self.assertRaisesRegex(UserError, "Set the credentials"):
            self.shopify.with_user(self.oms_manager).action_oms_poll_now()


@tagged("post_install", "-at_install")
class TestWooCommercePoll(PlatformPollCase):
    def body(self, index, minutes_ago, **overrides):
        body = fixture("woocommerce_order.json")
        body.update(
            id=WOO_IDS[index],
            number=str(727 + index),
            date_created_gmt=self.placed.strftime("%Y-%m-%dT%H:%M:%S"),
            date_modified_gmt=self.version(minutes_ago).strftime("%Y-%m-%dT%H:%M:%S"),
        )
        body.update(overrides)
        return body

    def serve(self, *bodies):
        self.stand_in.orders["woocommerce"] = list(bodies)

    def test_first_poll_pulls_the_missed_orders_the_second_nothing(self):
        self.serve(self.body(0, 50), self.body(1, 40), self.body(2, 30))
        result = self.poll(self.woo)
        self.assertEqual((result["stored"], result["error"]), (3, False))
        first, second = self.requests_of("woocommerce")[:2]
        credentials = base64.b64encode(f"{WOO_KEY}:{WOO_SECRET}".encode()).decode()
        self.assertEqual(first["headers"]["Authorization"], f"Basic {credentials}")
        self.assertEqual(
            first["query"],
            {
                "modified_after": (self.watermark - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S"),
                "dates_are_gmt": "true",
                "per_page": "100",
                "page": "1",
                "orderby": "modified",
                "order": "asc",
            },
        )
        # The second page is asked for from the newest order read (a second early), not by number.
        self.assertEqual(
            (second["query"]["modified_after"], second["query"]["page"]),
            ((self.version(40) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S"), "1"),
        )
        self.assertEqual(len(self.orders(self.woo)), 3)
        self.assertRecordValues(self.order_of(self.woo, WOO_IDS[2]), [{"client_order_ref": "729"}])
        self.assertEqual(set(self.intakes(self.woo).mapped("webhook_topic")), {"order.updated"})
        self.assertEqual(len(self.intakes(self.woo)), 3, "the order read twice is stored once")
        self.assertEqual(self.woo.poll_watermark, self.version(30))

        self.woo.poll_watermark = self.watermark
        result = self.poll(self.woo)
        self.assertEqual((result["stored"], result["skipped"] >= 3), (0, True))
        self.assertEqual(len(self.intakes(self.woo)), 3)
        self.assertEqual(len(self.orders(self.woo)), 3)

    def test_pages_by_number_when_a_whole_page_shares_its_second(self):
        self.serve(self.body(0, 40), self.body(1, 40), self.body(2, 30))
        self.poll(self.woo)
        self.assertEqual(len(self.orders(self.woo)), 3)
        self.assertEqual([request["query"]["page"] for request in self.requests_of("woocommerce")], ["1", "1", "2"])

    def test_status_change_and_error_page(self):
        self.Intake._receive_webhook(self.woo, json.dumps(self.body(0, 50)), "order.created", "d-1")
        order = self.order_of(self.woo, WOO_IDS[0])
        self.serve(self.body(0, 20, status="cancelled"), self.body(1, 40), self.body(2, 30))
        self.script("woocommerce", None, ("status", 503, {"Retry-After": "120"}, b"Service Unavailable"))
        result = self.poll(self.woo)
        self.assertEqual(result["stored"], 2, "first page kept")
        self.assertIn("HTTP 503", self.woo.poll_last_error)
        self.assertEqual(self.woo.poll_watermark, self.version(30))
        self.assertNotIn(WOO_SECRET, self.woo.poll_last_error)
        self.poll(self.woo)
        self.assertEqual(order.state, "cancel")
        self.assertEqual(len(self.orders(self.woo)), 3)
        self.assertFalse(self.woo.poll_last_error)

    def test_scheduled_action_one_failing_channel_does_not_stop_the_other(self):
        self.stand_in.orders["shopify"] = []
        self.serve(self.body(0, 50))
        for _failure in range(5):
            self.script("shopify", ("status", 500, {}, b"{}"))
        no_credentials = self.env["oms.channel"].create(
            {"name": "New Shop", "code": "new-shop", "platform": "shopify", "shopify_shop": self.stand_in.url}
        )
        self.env["oms.channel"]._cron_oms_poll()
        self.env.invalidate_all()
        self.assertFalse(no_credentials.poll_last_run, "pulled only once its credentials are set")
        self.assertIn("HTTP 500", self.shopify.poll_last_error)
        self.assertEqual(len(self.orders(self.woo)), 1)
        self.assertFalse(self.woo.poll_last_error)
        self.assertTrue(self.woo.poll_last_run)
