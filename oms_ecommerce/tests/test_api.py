import hashlib
import hmac
import json
import time
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..tools.signing import sign, signed_headers
from .common import OmsCommon, order_payload


def iso(moment, **delta):
    """``moment`` (naive UTC) moved by ``delta`` (timedelta keywords), as API.md writes times."""
    return (moment + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


@tagged("post_install", "-at_install")
class TestChannelApi(HttpCase, OmsCommon):
    def setUp(self):
        super().setUp()
        self.authenticate(None, None)  # a session that names the test database, nothing more

    def post(self, path, body, secret="s3cret-test-shop", signature=None, headers=None, timestamp=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json"}
        if signature is not False:
            all_headers.update(signed_headers(secret, "POST", path, raw, timestamp=timestamp))
            if signature:
                all_headers["X-OMS-Signature"] = signature
        all_headers.update(headers or {})
        response = self.url_open(path, data=raw, headers=all_headers, method="POST")
        self.env.invalidate_all()  # the request wrote through its own environment
        return response

    def get(self, path, secret="s3cret-test-shop", signed_path=None):
        return self.url_open(path, headers=signed_headers(secret, "GET", signed_path or path))

    def assertJson(self, response, status):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.headers["Content-Type"].split(";")[0], "application/json")
        return response.json()

    def test_signature(self):
        url = "/oms/v1/test-shop/orders"
        body = self.assertJson(self.post(url, order_payload("s0"), signature=False), 401)
        self.assertEqual(body["status"], "unauthorized")
        body = self.assertJson(self.post(url, order_payload("s1"), secret="wrong"), 401)
        self.assertEqual(body["status"], "unauthorized")
        body = self.assertJson(self.post(url, order_payload("s2"), signature="v2=" + "0" * 64), 401)
        self.assertEqual(body["error"]["code"], "bad_signature")
        self.assertFalse(self.Intake.search([("external_id", "in", ["s0", "s1", "s2"])]), "401 stores nothing")
        self.assertFalse(self.Intake.search([("payload", "like", '"s0"')]))
        body = self.assertJson(self.post(url, order_payload("s3")), 201)
        self.assertEqual(body["status"], "created")

    def test_signature_binds_method_path_body_and_time(self):
        """A captured signature authorises nothing but its own request, for five minutes."""
        created = self.assertJson(self.post("/oms/v1/test-shop/orders", order_payload("r-1")), 201)
        victim = self.assertJson(self.post("/oms/v1/test-shop/orders", order_payload("r-2")), 201)
        victim = self.env["sale.order"].browse(victim["id"])
        secret = "s3cret-test-shop"

        def replay(path, body, captured):
            response = self.url_open(path, data=body, headers=captured, method="POST")
            self.env.invalidate_all()
            return self.assertJson(response, 401)

        # An order body and its signature, replayed on another order's cancel and delivered.
        raw = json.dumps(order_payload("r-3")).encode()
        captured = signed_headers(secret, "POST", "/oms/v1/test-shop/orders", raw)
        for action in ("cancel", "delivered"):
            body = replay(f"/oms/v1/test-shop/orders/r-2/{action}", raw, captured)
            self.assertEqual(body["status"], "unauthorized")
        # "{}" signed once for one order's cancel does not cancel another.
        captured = signed_headers(secret, "POST", "/oms/v1/test-shop/orders/r-1/cancel", b"{}")
        replay("/oms/v1/test-shop/orders/r-2/cancel", b"{}", captured)
        # A GET's signed path, sent as a POST body.
        path = "/oms/v1/test-shop/orders/r-2"
        captured = signed_headers(secret, "GET", path)
        replay(f"{path}/cancel", path.encode(), captured)
        replay(path + "/cancel", b"", captured)
        self.assertEqual(victim.state, "draft", "no replay cancelled the order")
        # The body-only form of the first API version is refused, even when right.
        legacy = "sha256=" + hmac.new(secret.encode(), b"{}", hashlib.sha256).hexdigest()
        body = self.assertJson(self.post(f"{path}/cancel", b"{}", signature=legacy), 401)
        self.assertEqual(body["error"]["code"], "bad_signature")
        # Five minutes either side of the server's clock; past that, stale_request.
        now = int(time.time())
        for timestamp in (now - 400, now + 400):
            body = self.assertJson(self.post(f"{path}/cancel", b"{}", timestamp=timestamp), 401)
            self.assertEqual(body, {"status": "unauthorized", "error": body["error"]})
            self.assertEqual(body["error"]["code"], "stale_request")
        body = self.assertJson(self.post(f"{path}/cancel", b"{}", timestamp="yesterday"), 401)
        self.assertEqual(body["error"]["code"], "bad_signature")
        self.assertEqual(victim.state, "draft")
        # The right signature, a minute old, works; the query string is part of the signed path.
        self.assertJson(self.post(f"{path}/cancel", b"{}", timestamp=now - 60), 200)
        self.assertEqual(victim.state, "cancel")
        self.assertJson(self.get("/oms/v1/test-shop/orders/r-1?fields=all"), 200)
        self.assertJson(self.get("/oms/v1/test-shop/orders/r-1?x=1", signed_path="/oms/v1/test-shop/orders/r-1"), 401)
        self.assertEqual(created["status"], "created")
        # The signature as API.md's shell example computes it.
        timestamp = str(now)
        message = f"{timestamp}\nGET\n{path}\n".encode()
        expected = "v2=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        self.assertEqual(sign(secret, timestamp, "get", path), expected)
        response = self.url_open(path, headers={"X-OMS-Timestamp": timestamp, "X-OMS-Signature": expected})
        self.assertEqual(self.assertJson(response, 200)["external_id"], "r-2")

    def test_created_duplicate_and_status(self):
        url = "/oms/v1/test-shop/orders"
        created = self.assertJson(self.post(url, order_payload("2001")), 201)
        order = self.env["sale.order"].browse(created["id"])
        self.assertEqual(
            created, {"status": "created", "order": order.name, "id": order.id, "intake": order.oms_intake_id.id}
        )
        duplicate = self.assertJson(self.post(url, order_payload("2001")), 200)
        self.assertEqual(duplicate, {"status": "duplicate", "order": order.name, "id": order.id})
        self.assertEqual(self.env["sale.order"].search_count([("oms_external_id", "=", "2001")]), 1)

        status = self.assertJson(self.get("/oms/v1/test-shop/orders/2001"), 200)
        self.assertEqual(status["external_id"], "2001")
        self.assertEqual(status["order"], order.name)
        self.assertEqual(status["step"], "received")
        self.assertEqual([s["step"] for s in status["steps"]], ["received"])
        self.assertRegex(status["steps"][0]["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(status["tracking"], [])
        order.action_confirm()
        status = self.assertJson(self.get("/oms/v1/test-shop/orders/2001"), 200)
        self.assertEqual(status["step"], "confirmed")
        self.assertEqual([s["step"] for s in status["steps"]], ["received", "confirmed"])
        # A GET is signed over its path: another path's signature does not open it.
        response = self.get("/oms/v1/test-shop/orders/2001", signed_path="/oms/v1/test-shop/orders/9")
        self.assertJson(response, 401)
        self.assertEqual(self.assertJson(self.get("/oms/v1/test-shop/orders/nope"), 404), {"status": "not_found"})

    def test_invalid_unmappable_too_large_and_unknown_channel(self):
        url = "/oms/v1/test-shop/orders"
        body = self.assertJson(self.post(url, b"{broken"), 400)
        self.assertEqual(body["status"], "invalid")
        self.assertEqual(body["error"]["code"], "invalid_payload")
        body = self.assertJson(self.post(url, order_payload("3001", lines=[{"sku": "OMS-MUG", "quantity": -1}])), 400)
        self.assertEqual(
            body["error"],
            {"code": "invalid_payload", "field": "lines[0].quantity", "message": body["error"]["message"]},
        )
        body = self.assertJson(self.post(url, order_payload("3002", lines=[{"sku": "GHOST", "quantity": 1}])), 422)
        self.assertEqual(body["status"], "error")
        self.assertEqual(body["error"]["code"], "unknown_sku")
        self.assertEqual(self.Intake.browse(body["intake"]).state, "error")
        big = json.dumps(order_payload("3003", note="x" * (1024 * 1024 + 10))).encode()
        self.assertEqual(self.assertJson(self.post(url, big), 413), {"status": "too_large"})
        self.assertFalse(self.Intake.search([("external_id", "=", "3003")]))
        self.assertEqual(
            self.assertJson(self.post("/oms/v1/no-such-shop/orders", order_payload()), 404), {"status": "not_found"}
        )
        self.channel.active = False
        self.assertEqual(self.assertJson(self.post(url, order_payload("3004")), 404), {"status": "not_found"})

    def test_batch_answers_per_order(self):
        self.receive(order_payload("4002"))  # already imported
        orders = [
            order_payload("4001"),
            order_payload("4002"),
            order_payload("4003", lines=[{"sku": "GHOST", "quantity": 1}]),
            order_payload("4004", customer={"name": "no email"}),
            order_payload("4001"),  # twice in the same batch
        ]
        body = self.assertJson(self.post("/oms/v1/test-shop/orders/batch", {"orders": orders}), 200)
        self.assertEqual(
            [r["status"] for r in body["results"]], ["created", "duplicate", "error", "invalid", "duplicate"]
        )
        self.assertEqual([r["external_id"] for r in body["results"]], ["4001", "4002", "4003", "4004", "4001"])
        self.assertEqual([r["http_status"] for r in body["results"]], [201, 200, 422, 400, 200])
        self.assertEqual(body["results"][2]["error"]["code"], "unknown_sku")
        self.assertEqual(body["results"][3]["error"]["field"], "customer.email")
        self.assertEqual(body["results"][4]["id"], body["results"][0]["id"])
        self.assertEqual(self.Intake.search_count([("external_id", "like", "400")]), 6)
        too_many = {"orders": [order_payload(str(i)) for i in range(501)]}
        body = self.assertJson(self.post("/oms/v1/test-shop/orders/batch", too_many), 400)
        self.assertEqual(body["error"]["field"], "orders")
        self.assertIn("501", body["error"]["message"])
        kept = self.Intake.search([("source", "=", "batch"), ("error_field", "=", "orders")])
        self.assertEqual(len(json.loads(kept.payload)["orders"]), 501, "a refused batch is kept whole")

    def test_cancel(self):
        created = self.assertJson(self.post("/oms/v1/test-shop/orders", order_payload("5001")), 201)
        order = self.env["sale.order"].browse(created["id"])
        order.action_confirm()
        path = "/oms/v1/test-shop/orders/5001/cancel"
        body = self.assertJson(self.post(path, b""), 200)
        self.assertEqual(body["status"], "cancelled")
        self.assertEqual(order.state, "cancel")
        self.assertEqual(order.oms_step, "cancelled")
        self.assertEqual(order.picking_ids.mapped("state"), ["cancel"])
        # Once shipped, 409.
        created = self.assertJson(self.post("/oms/v1/test-shop/orders", order_payload("5002")), 201)
        order = self.env["sale.order"].browse(created["id"])
        order.action_confirm()
        self.env["stock.quant"]._update_available_quantity(self.mug, self.warehouse.lot_stock_id, 10)
        self.env["stock.quant"]._update_available_quantity(self.tea, self.warehouse.lot_stock_id, 10)
        picking = order.picking_ids
        picking.action_assign()
        picking.move_ids.quantity = 0
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        body = self.assertJson(self.post("/oms/v1/test-shop/orders/5002/cancel", {}), 409)
        self.assertEqual(body["status"], "conflict")
        self.assertEqual(order.state, "sale")
        # The carrier delivered it: not before it shipped, not in the future (a few minutes of clock skew pass).
        delivered = self.post("/oms/v1/test-shop/orders/5002/delivered", {"at": iso(picking.date_done, hours=-1)})
        body = self.assertJson(delivered, 400)
        self.assertEqual(body["error"]["field"], "at")
        self.assertIn("before order", body["error"]["message"])
        for at in (iso(fields.Datetime.now(), hours=2), "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00"):
            body = self.assertJson(self.post("/oms/v1/test-shop/orders/5002/delivered", {"at": at}), 400)
            self.assertEqual((body["status"], body["error"]["field"]), ("invalid", "at"), at)
        self.assertEqual(order.oms_step, "shipped", "nothing recorded by a refused delivery time")
        at = iso(fields.Datetime.now(), minutes=2)
        body = self.assertJson(self.post("/oms/v1/test-shop/orders/5002/delivered", {"at": at}), 200)
        self.assertEqual(body, {"status": "delivered", "order": order.name, "id": order.id, "step": "delivered"})
        status = self.assertJson(self.get("/oms/v1/test-shop/orders/5002"), 200)
        self.assertEqual([s["step"] for s in status["steps"]][-2:], ["shipped", "delivered"])
        self.assertEqual(status["steps"][-1], {"step": "delivered", "at": at})
        body = self.assertJson(self.post("/oms/v1/test-shop/orders/5001/delivered", {}), 409)
        self.assertEqual(body["error"]["code"], "not_shipped")
        body = self.assertJson(self.post("/oms/v1/test-shop/orders/5002/delivered", {"at": "soon"}), 400)
        self.assertEqual(body["error"]["field"], "at")
        self.assertEqual(
            self.assertJson(self.post("/oms/v1/test-shop/orders/none/cancel", {}), 404), {"status": "not_found"}
        )
