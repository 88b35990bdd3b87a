# Longer than ~430 lines on purpose: the concurrency scenarios share one real multi-threaded server's start-up.
"""Requests arriving at the same moment on a multi-worker Odoo server: the same order delivered twice,
ten repeats of an idempotent call, ten first orders of one new email."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import psycopg2.errors
import requests

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import config, mute_logger

from ..tools.signing import signed_headers
from ..tools.webhooks import sign
from .common import order_payload


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PreforkServerCase(TransactionCase):
    """Real requests on prefork workers, each in its own transaction, exactly as in production. That
    needs committed fixtures and a server of its own (the test process holds the registry lock), so a
    test starts one on this database and removes what it committed after."""

    def _committed_fixtures(self, tag):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            product = env["product.product"].create({"name": f"Race {tag}", "default_code": f"RACE-{tag}"})
            channel = env["oms.channel"].create({"name": f"Race {tag}", "code": f"race-{tag}", "secret": "race"})
            return product.id, channel.id

    def _cleanup(self, tag, product_id, channel_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = env["sale.order"].search([("oms_channel_id", "=", channel_id)])
            partners = orders.partner_id | env["res.partner"].search([("email", "=", f"race-{tag}@example.com")])
            orders.unlink()
            env["oms.intake"].search([("channel_id", "=", channel_id)]).unlink()
            env["oms.channel"].browse(channel_id).unlink()
            env["product.product"].browse(product_id).unlink()
            partners.child_ids.unlink()
            partners.unlink()

    def _start_server(self, workers=2):
        port, gevent_port = _free_port(), _free_port()
        odoo_bin = os.path.join(os.path.dirname(next(iter(odoo.__path__))), "odoo-bin")
        args = [
            sys.executable,
            odoo_bin,
            "-d",
            self.env.cr.dbname,
            f"--db-filter=^{self.env.cr.dbname}$",
            f"--addons-path={config['addons_path'] if isinstance(config['addons_path'], str) else ','.join(config['addons_path'])}",
            "--http-interface=127.0.0.1",
            f"--http-port={port}",
            f"--gevent-port={gevent_port}",
            f"--workers={workers}",
            "--max-cron-threads=0",
            "--log-level=warn",
        ]
        for option, flag in (
            ("db_host", "--db_host"),
            ("db_port", "--db_port"),
            ("db_user", "--db_user"),
            ("db_password", "--db_password"),
        ):
            if config.get(option):
                args.append(f"{flag}={config[option]}")
        server_log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by addCleanup; a pipe could fill and block
        self.addCleanup(server_log.close)
        self._server_log = server_log
        server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=server_log)
        self.addCleanup(self._stop_server, server)
        deadline = time.time() + 90
        while time.time() < deadline and server.poll() is None:
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"http://127.0.0.1:{port}/web/health", timeout=2).status_code == 200:
                    return f"http://127.0.0.1:{port}"
            time.sleep(0.5)
        server_log.seek(0)
        self.fail(f"the test server did not start within 90 s:\n{server_log.read().decode()[-2000:]}")

    def _server_log_tail(self, size=6000):
        self._server_log.seek(0)
        return self._server_log.read().decode(errors="replace")[-size:]

    def _stop_server(self, server):
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@tagged("post_install", "-at_install")
class TestConcurrentDelivery(PreforkServerCase):
    """Two real requests on two prefork workers deliver the same order at the same moment."""

    def test_two_concurrent_requests_make_one_order(self):
        tag = uuid.uuid4().hex[:8]
        product_id, channel_id = self._committed_fixtures(tag)
        self.addCleanup(self._cleanup, tag, product_id, channel_id)
        base_url = self._start_server()
        payload = order_payload(
            f"race-{tag}",
            lines=[{"sku": f"RACE-{tag}", "quantity": 1}],
            shipping=None,
            customer={"email": f"race-{tag}@example.com", "name": "Racer"},
        )
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            **signed_headers("race", "POST", f"/oms/v1/race-{tag}/orders", body),
        }
        # Warm both workers up (registry loaded) so that the two deliveries really overlap.
        for _i in range(4):
            requests.get(f"{base_url}/web/health", timeout=10)
        barrier = threading.Barrier(2)
        answers = [None, None]

        def deliver(index):
            barrier.wait()
            response = requests.post(f"{base_url}/oms/v1/race-{tag}/orders", data=body, headers=headers, timeout=60)
            answers[index] = (response.status_code, response.json())

        threads = [threading.Thread(target=deliver, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        self.assertTrue(all(answers), answers)
        self.assertEqual(sorted(answer[1]["status"] for answer in answers), ["created", "duplicate"], answers)
        created = next(a for a in answers if a[1]["status"] == "created")
        duplicate = next(a for a in answers if a[1]["status"] == "duplicate")
        self.assertEqual((created[0], duplicate[0]), (201, 200))
        self.assertEqual(duplicate[1], {"status": "duplicate", "order": created[1]["order"], "id": created[1]["id"]})
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = env["sale.order"].search([("oms_channel_id", "=", channel_id)])
            self.assertEqual(len(orders), 1, "one order, never two")
            intakes = env["oms.intake"].search([("channel_id", "=", channel_id)], order="id")
            self.assertEqual(sorted(intakes.mapped("state")), ["done", "duplicate"], "both payloads are kept")
            self.assertEqual(intakes.order_id, orders, "the duplicate is linked to the order once committed")

    @mute_logger("odoo.sql_db")
    def test_unique_constraint_holds_in_the_database(self):
        """Even code that skips the intake cannot create the same channel order twice."""
        channel = self.env["oms.channel"].create({"name": "Uniq", "code": "uniq-shop"})
        partner = self.env["res.partner"].create({"name": "Uniq"})
        self.env["sale.order"].create({"partner_id": partner.id, "oms_channel_id": channel.id, "oms_external_id": "u1"})
        with (
            self.assertRaisesRegex(psycopg2.errors.UniqueViolation, "oms_channel_external_uniq"),
            self.env.cr.savepoint(),
        ):
            self.env["sale.order"].create(
                {"partner_id": partner.id, "oms_channel_id": channel.id, "oms_external_id": "u1"}
            )


@tagged("post_install", "-at_install")
class TestConcurrentRepeats(PreforkServerCase):
    """Ten copies of one idempotent call at the same moment answer what ten sequential ones answer."""

    def _concurrent_posts(self, base_url, requests_to_send):
        """POST each (path, body) from its own thread, all at once; [(status, json)] in order."""
        for _i in range(8):  # warm the workers up (registry loaded) so that the requests really overlap
            requests.get(f"{base_url}/web/health", timeout=10)
        barrier = threading.Barrier(len(requests_to_send))
        answers = [None] * len(requests_to_send)

        def post(index, path, body):
            headers = {"Content-Type": "application/json", **signed_headers("race", "POST", path, body)}
            barrier.wait()
            response = requests.post(f"{base_url}{path}", data=body, headers=headers, timeout=120)
            try:
                answers[index] = (response.status_code, response.json())
            except ValueError:
                answers[index] = (response.status_code, response.text[:500])

        threads = [
            threading.Thread(target=post, args=(index, path, body))
            for index, (path, body) in enumerate(requests_to_send)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        self.assertTrue(all(answers), answers)
        if any(status >= 500 for status, _body in answers):
            self.fail(f"server errors: {answers}\n{self._server_log_tail()}")
        return answers

    def _committed_orders(self, tag, product_id, channel_id):
        """Two committed orders of the channel: ``cancel-<tag>`` confirmed, ``ship-<tag>`` shipped."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            channel = env["oms.channel"].browse(channel_id)
            payloads = [
                order_payload(
                    f"{name}-{tag}",
                    lines=[{"sku": f"RACE-{tag}", "quantity": 1}],
                    shipping=None,
                    customer={"email": f"race-{tag}@example.com", "name": "Racer"},
                )
                for name in ("cancel", "ship")
            ]
            results = env["oms.intake"]._receive(channel, payloads)
            self.assertEqual([status for status, _body in results], [201, 201], results)
            to_cancel, to_ship = (env["sale.order"].browse(body["id"]) for _status, body in results)
            (to_cancel | to_ship).filtered(lambda o: o.state == "draft").action_confirm()
            picking = to_ship.picking_ids
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty
            picking.move_ids.picked = True
            picking.button_validate()
            self.assertEqual(to_ship.oms_step, "shipped")
            return to_cancel.id, to_ship.id

    def _cleanup_shipped(self, channel_id, product_id):
        """A shipped order stays (its done moves are history): its channel and product are archived."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["oms.channel"].browse(channel_id).active = False
            env["product.product"].browse(product_id).active = False

    def test_concurrent_cancels_and_deliveries_answer_as_sequential_ones(self):
        tag = uuid.uuid4().hex[:8]
        product_id, channel_id = self._committed_fixtures(tag)
        self.addCleanup(self._cleanup_shipped, channel_id, product_id)
        cancel_id, ship_id = self._committed_orders(tag, product_id, channel_id)
        base_url = self._start_server(workers=10)
        base = f"/oms/v1/race-{tag}/orders"
        answers = self._concurrent_posts(base_url, [(f"{base}/cancel-{tag}/cancel", b"{}")] * 10)
        answers += self._concurrent_posts(base_url, [(f"{base}/ship-{tag}/delivered", b"{}")] * 10)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cancelled, delivered = env["sale.order"].browse([cancel_id, ship_id])
            self.assertEqual(
                answers[:10], [(200, {"status": "cancelled", "order": cancelled.name, "id": cancel_id})] * 10
            )
            self.assertEqual(
                answers[10:],
                [(200, {"status": "delivered", "order": delivered.name, "id": ship_id, "step": "delivered"})] * 10,
            )
            self.assertEqual((cancelled.state, cancelled.oms_step), ("cancel", "cancelled"))
            self.assertTrue(delivered.oms_delivered_at)
            Step = env["oms.order.step"]
            self.assertEqual(Step.search_count([("order_id", "=", cancel_id), ("step", "=", "cancelled")]), 1)
            self.assertEqual(Step.search_count([("order_id", "=", ship_id), ("step", "=", "delivered")]), 1)

    def test_concurrent_first_orders_of_one_email_make_one_customer(self):
        tag = uuid.uuid4().hex[:8]
        product_id, channel_id = self._committed_fixtures(tag)
        self.addCleanup(self._cleanup, tag, product_id, channel_id)
        base_url = self._start_server(workers=10)
        path = f"/oms/v1/race-{tag}/orders"
        bodies = [
            json.dumps(
                order_payload(
                    f"first-{tag}-{index}",
                    lines=[{"sku": f"RACE-{tag}", "quantity": 1}],
                    shipping=None,
                    customer={"email": f"Race-{tag}@Example.com", "name": "Racer"},
                )
            ).encode()
            for index in range(10)
        ]
        answers = self._concurrent_posts(base_url, [(path, body) for body in bodies])
        self.assertEqual([status for status, _body in answers], [201] * 10, answers)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = env["sale.order"].search([("oms_channel_id", "=", channel_id)])
            self.assertEqual(len(orders), 10)
            customers = env["res.partner"].search([("email_normalized", "=", f"race-{tag}@example.com")])
            self.assertEqual(len(customers), 1, "one customer per email and company, however the orders arrive")
            self.assertEqual(orders.partner_id, customers)


@tagged("post_install", "-at_install")
class TestConcurrentWebhooks(PreforkServerCase):
    """Platforms retry and fan out: the same Shopify order arrives at the same moment as repeated deliveries
    (one webhook id), through two subscriptions (one event id) and as distinct events of one order version;
    WooCommerce resends with new delivery ids. Ten workers, one order each time."""

    def _webhook_fixtures(self, tag):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            products = env["product.product"].create(
                [{"name": f"Hook {sku} {tag}", "default_code": f"{sku}-{tag}"} for sku in ("MUG", "TEA")]
            )
            carrier = env.ref("delivery.free_delivery_carrier", raise_if_not_found=False) or env[
                "delivery.carrier"
            ].search([], limit=1)
            channels = env["oms.channel"].create(
                [
                    {
                        "name": f"Hook {platform} {tag}",
                        "code": f"hook-{platform[:4]}-{tag}",
                        "platform": platform,
                        "secret": f"hook-{platform}",
                        "default_carrier_id": carrier.id,
                    }
                    for platform in ("shopify", "woocommerce")
                ]
            )
            return products.ids, channels.ids

    def _cleanup_webhooks(self, product_ids, channel_ids):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = env["sale.order"].search([("oms_channel_id", "in", channel_ids)])
            partners = orders.partner_id
            orders.filtered(lambda o: o.state != "cancel").action_cancel()
            orders.unlink()
            env["oms.intake"].search([("channel_id", "in", channel_ids)]).unlink()
            env["oms.channel"].browse(channel_ids).unlink()
            env["product.product"].browse(product_ids).unlink()
            with contextlib.suppress(Exception), cr.savepoint():
                (partners.child_ids | partners).unlink()

    def _body(self, name, tag):
        path = os.path.join(os.path.dirname(__file__), "data", name)
        with open(path, encoding="utf-8") as handle:
            body = json.load(handle)
        for line in body["line_items"]:
            line["sku"] = f"{line['sku'].removeprefix('OMS-')}-{tag}"
        return body

    def _post_all(self, base_url, code, deliveries):
        """POST every (headers, raw body) at the same moment from its own thread: [(status, json)]."""
        for _i in range(12):  # warm the workers up (registry loaded) so that the deliveries really overlap
            requests.get(f"{base_url}/web/health", timeout=10)
        barrier = threading.Barrier(len(deliveries))
        answers = [None] * len(deliveries)

        def post(index, headers, raw):
            barrier.wait()
            response = requests.post(f"{base_url}/oms/v1/{code}/webhooks", data=raw, headers=headers, timeout=120)
            try:
                answers[index] = (response.status_code, response.json())
            except ValueError:
                answers[index] = (response.status_code, response.text[:500])

        threads = [threading.Thread(target=post, args=(i, *delivery)) for i, delivery in enumerate(deliveries)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        self.assertTrue(all(answers), answers)
        if any(status != 200 for status, _body in answers):
            self.fail(f"every delivery is answered 200: {answers}\n{self._server_log_tail()}")
        return answers

    def test_concurrent_identical_deliveries_make_one_order(self):
        # Longer than ~60 lines on purpose: the scenario's steps, end to end.
        tag = uuid.uuid4().hex[:8]
        product_ids, (shopify_id, woo_id) = self._webhook_fixtures(tag)
        self.addCleanup(self._cleanup_webhooks, product_ids, [shopify_id, woo_id])
        base_url = self._start_server(workers=10)

        shopify = self._body("shopify_order.json", tag)
        shopify["id"] = 5990123456789012345 + 1
        raw = json.dumps(shopify).encode()

        def shopify_headers(webhook_id, event_id, topic="orders/create"):
            return {
                "Content-Type": "application/json",
                "X-Shopify-Topic": topic,
                "X-Shopify-Shop-Domain": "example-shop.myshopify.com",
                "X-Shopify-Webhook-Id": webhook_id,
                "X-Shopify-Event-Id": event_id,
                "X-Shopify-Hmac-Sha256": sign("hook-shopify", raw),
            }

        deliveries = [(shopify_headers("webhook-1", "event-1"), raw)] * 4  # the same delivery, retried
        deliveries += [(shopify_headers(f"webhook-{i}", "event-1"), raw) for i in range(2, 5)]  # 3 subscriptions
        deliveries += [  # distinct events of the same order version (created, updated, paid)
            (shopify_headers(f"webhook-x{i}", f"event-x{i}", topic), raw)
            for i, topic in enumerate(("orders/create", "orders/updated", "orders/paid"))
        ]
        shopify_answers = self._post_all(base_url, f"hook-shop-{tag}", deliveries)

        woo = self._body("woocommerce_order.json", tag)
        woo["id"] = 9007199254740993 + 1
        woo_raw = json.dumps(woo).encode()
        woo_headers = {
            "Content-Type": "application/json",
            "X-WC-Webhook-Topic": "order.created",
            "X-WC-Webhook-Source": "https://shop.example.com/",
            "X-WC-Webhook-Signature": sign("hook-woocommerce", woo_raw),
        }
        woo_answers = self._post_all(
            base_url,
            f"hook-wooc-{tag}",
            [({**woo_headers, "X-WC-Webhook-Delivery-ID": str(100 + i)}, woo_raw) for i in range(10)],
        )

        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            for channel_id, external_id, answers in (
                (shopify_id, str(shopify["id"]), shopify_answers),
                (woo_id, str(woo["id"]), woo_answers),
            ):
                orders = env["sale.order"].search([("oms_channel_id", "=", channel_id)])
                self.assertEqual(orders.mapped("oms_external_id"), [external_id], "one order, never two")
                self.assertEqual(len(orders.order_line.filtered(lambda line: not line.is_delivery)), 2)
                intakes = env["oms.intake"].search([("channel_id", "=", channel_id)])
                self.assertFalse(intakes.filtered(lambda i: i.state == "error"), intakes.mapped("error_message"))
                stored = sum(1 for _status, body in answers if body["status"] == "received")
                self.assertEqual(stored, len(intakes), "every stored delivery answered 'received', others 'duplicate'")
            # Shopify: the repeated delivery and the other subscriptions are one event (stored once); the three
            # distinct events are stored each and applied to the one order.
            shopify_intakes = env["oms.intake"].search([("channel_id", "=", shopify_id)])
            self.assertEqual(len(shopify_intakes), 4, shopify_answers)
            self.assertEqual(len(set(shopify_intakes.mapped("webhook_event_id"))), 4)
            # WooCommerce's new delivery ids for the same topic, order and modification date are one delivery.
            self.assertEqual(env["oms.intake"].search_count([("channel_id", "=", woo_id)]), 1, woo_answers)
