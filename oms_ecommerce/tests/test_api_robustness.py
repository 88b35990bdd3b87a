"""Whatever a channel sends, it is stored byte for byte and answered in JSON; one bad order never
takes the others of its batch down (issue: security and robustness of the channel API)."""

import base64
import json
import random
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..tools.signing import signed_headers
from .common import OmsCommon, order_payload

SECRET = "s3cret-test-shop"
ORDERS = "/oms/v1/test-shop/orders"


def random_bodies(count=25, seed=20261203):
    """Signed byte strings a careless or hostile client could send: random bytes with and without NUL,
    empty, invalid UTF-8, UTF-16, JSON with NUL and lone surrogates, deep nesting, huge numbers."""
    rnd = random.Random(seed)
    order = json.dumps(order_payload("rb-1"))
    bodies = [
        b"",
        b"\x00",
        b"{\x00}",
        order.encode("utf-16"),
        order.encode("utf-16-le"),
        b"\xff\xfe\xfd",
        b'{"external_id": "\xc3\x28"}',
        order.replace('"rb-1"', '"rb-\\u0000"').encode(),
        order.replace('"rb-1"', '"rb-\\ud800"').encode(),
        order.replace('"Ann Lee"', '"\\udfff"', 1).replace('"rb-1"', '"rb-2"').encode(),
        json.dumps(order_payload("rb-3", placed_at="0001-01-01T00:00:00+01:00")).encode(),
        b"[" * 1000 + b"]" * 1000,
        b'{"a":' * 1000 + b"1" + b"}" * 1000,
        order.replace('"quantity": 2', '"quantity": NaN').replace('"rb-1"', '"rb-4"').encode(),
        order.replace('"quantity": 2', '"quantity": 1' + "0" * 5000).replace('"rb-1"', '"rb-5"').encode(),
        order.encode()[: len(order) // 2],
    ]
    while len(bodies) < count:
        size = rnd.randint(1, 200)
        raw = bytes(rnd.randint(0, 255) for _i in range(size))
        if len(bodies) % 2:
            raw = raw.replace(b"\x00", b"")  # half of them without NUL
        bodies.append(raw)
    return bodies


@tagged("post_install", "-at_install")
class TestApiRobustness(HttpCase, OmsCommon):
    def setUp(self):
        super().setUp()
        self.authenticate(None, None)

    def request(self, method, path, body=b"", signed=True):
        headers = {"Content-Type": "application/json"}
        if signed:
            headers.update(signed_headers(SECRET, method, path, body))
        response = self.url_open(path, data=body or None, headers=headers, method=method)
        self.env.invalidate_all()
        return response

    def post(self, payload, path=ORDERS):
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.request("POST", path, raw)

    def assertJson(self, response, status):
        self.assertEqual(response.status_code, status, response.text[:500])
        self.assertEqual(response.headers["Content-Type"].split(";")[0], "application/json")
        return response.json()

    def last_intake(self):
        return self.Intake.search([("channel_id", "=", self.channel.id)], order="id desc", limit=1)

    def test_random_bodies_are_stored_byte_for_byte_and_answered_in_json(self):
        for index, body in enumerate(random_bodies()):
            with self.subTest(body=index):
                before = self.last_intake()
                response = self.post(body)
                self.assertIn(response.status_code, (400, 422), f"{body[:60]!r}: {response.text[:300]}")
                self.assertEqual(response.headers["Content-Type"].split(";")[0], "application/json")
                answer = response.json()
                self.assertIn(answer["status"], ("invalid", "error"))
                intake = self.last_intake()
                self.assertNotEqual(intake, before, "every body is stored")
                self.assertEqual(intake._payload_bytes(), body, "byte for byte")
                self.assertEqual(intake.state, "error")
                self.assertTrue(intake.error_message)
        self.assertFalse(self.env["sale.order"].search([("oms_channel_id", "=", self.channel.id)]))

    def test_one_poisoned_order_does_not_lose_its_batch(self):
        orders = [
            order_payload("pb-1"),
            order_payload("pb-\u0000"),
            order_payload("pb-3", placed_at="0001-01-01T00:00:00+01:00"),
            order_payload("pb-4", customer={"email": "ann@example.com", "name": "Ann \ud800"}),
            order_payload("pb-5", lines=[{"sku": "OMS-MUG", "quantity": 1, "name": {"en": "Mug"}}]),
            order_payload("pb-6"),
        ]
        # json.dumps writes the lone surrogate as the escape a client would send.
        response = self.post({"orders": orders}, f"{ORDERS}/batch")
        answer = self.assertJson(response, 200)
        self.assertEqual([r["http_status"] for r in answer["results"]], [201, 400, 400, 400, 400, 201])
        self.assertEqual(
            [r.get("error", {}).get("field") for r in answer["results"]],
            [None, "external_id", "placed_at", "customer.name", "lines[0].name", None],
        )
        self.assertEqual(answer["counts"], {"created": 2, "invalid": 4})
        intakes = self.Intake.search([("channel_id", "=", self.channel.id)], order="id")
        self.assertEqual(len(intakes), 6, "every order of the batch is stored")
        self.assertEqual(intakes.mapped("state"), ["done", "error", "error", "error", "error", "done"])
        self.assertEqual(json.loads(intakes[3].payload)["customer"]["name"], "Ann \ud800", "kept as sent")
        # The same bodies one by one: a JSON 400 each, never a 500.
        for order in orders[1:5]:
            self.assertJson(self.post(order), 400)

    def test_numbers(self):
        cases = [
            ({"lines": [{"sku": "OMS-MUG", "quantity": 0.0001, "unit_price": 12.5}]}, "lines[0].quantity"),
            ({"lines": [{"sku": "OMS-MUG", "quantity": 1.005}]}, "lines[0].quantity"),
            ({"lines": [{"sku": "OMS-MUG", "quantity": 10**30}]}, "lines[0].quantity"),
            ({"lines": [{"sku": "OMS-MUG", "quantity": 1, "unit_price": 1e300}]}, "lines[0].unit_price"),
            ({"shipping": {"method": "standard", "price": 10**13}}, "shipping.price"),
            ({"payment": {"status": "paid", "amount": 1e300}}, "payment.amount"),
            ({"total": -1}, "total"),
        ]
        for index, (overrides, field) in enumerate(cases):
            with self.subTest(field=field, case=index):
                answer = self.assertJson(self.post(order_payload(f"num-{index}", **overrides)), 400)
                self.assertEqual(answer["error"]["field"], field)
                self.assertNotIn("Traceback", answer["error"]["message"])
        # Non-finite numbers are not JSON, but Python's parser reads them: each is refused by its field.
        for token in ("NaN", "Infinity", "-Infinity"):
            raw = json.dumps(order_payload(f"nf-{token}")).replace('"unit_price": 12.5', f'"unit_price": {token}')
            answer = self.assertJson(self.post(raw.encode()), 400)
            self.assertEqual(answer["error"]["field"], "lines[0].unit_price", token)
            self.assertIn("finite", answer["error"]["message"])
        self.assertFalse(self.env["sale.order"].search([("oms_channel_id", "=", self.channel.id)]))

    def test_field_types(self):
        cases = [
            ({"customer": {"email": "ann@example.com", "name": {}}}, "customer.name"),
            ({"payment": {"status": "paid", "method": {"card": 1}}}, "payment.method"),
            ({"payment": {"status": "paid", "reference": ["ch_1"]}}, "payment.reference"),
            ({"lines": [{"sku": "OMS-MUG", "quantity": 1, "name": {}}]}, "lines[0].name"),
            ({"lines": [{"sku": True, "quantity": 1}]}, "lines[0].sku"),
            ({"taxes_included": "yes"}, "taxes_included"),
            ({"currency": "\u00dcSD"}, "currency"),
        ]
        for index, (overrides, field) in enumerate(cases):
            with self.subTest(field=field):
                answer = self.assertJson(self.post(order_payload(f"type-{index}", **overrides)), 400)
                self.assertEqual(answer["error"]["field"], field)

    def test_external_ids_travel_in_paths(self):
        answer = self.assertJson(self.post(order_payload("a/b")), 400)
        self.assertEqual(answer["error"]["field"], "external_id")
        # Surrounding whitespace is not part of an id: one order, three duplicates.
        answers = [self.post(order_payload(external_id)) for external_id in ("X", "X ", " X", "X\t")]
        self.assertEqual([r.status_code for r in answers], [201, 200, 200, 200])
        order = self.env["sale.order"].search([("oms_channel_id", "=", self.channel.id), ("oms_external_id", "=", "X")])
        self.assertEqual(len(order), 1)
        self.assertEqual({r.json()["id"] for r in answers}, {order.id})
        self.assertEqual(self.assertJson(self.request("GET", f"{ORDERS}/X"), 200)["order"], order.name)

    def test_every_path_and_method_answers_json(self):
        self.assertJson(self.post(order_payload("pm-1")), 201)
        before = self.Intake.search_count([])
        for method, path in [
            ("GET", ORDERS),
            ("PUT", ORDERS),
            ("OPTIONS", ORDERS),
            ("DELETE", f"{ORDERS}/pm-1"),
            ("PATCH", f"{ORDERS}/pm-1/cancel"),
            ("GET", f"{ORDERS}/pm-1/delivered"),
            ("PUT", f"{ORDERS}/batch"),
        ]:
            with self.subTest(method=method, path=path):
                body = json.dumps(order_payload("pm-2")).encode() if method != "GET" else b""
                response = self.request(method, path, body)
                answer = self.assertJson(response, 405)
                self.assertEqual(answer["status"], "method_not_allowed")
                self.assertTrue(response.headers.get("Allow"))
        self.assertEqual(self.Intake.search_count([]), before, "a signed OPTIONS (or PUT) creates nothing")
        for method, path in [
            ("GET", f"{ORDERS}/%00"),
            ("POST", f"{ORDERS}/%00/cancel"),
            ("POST", f"{ORDERS}/%00/delivered"),
            ("GET", "/oms/v1/test-shop/nothing/here"),
            ("POST", "/oms/v1/%00/orders"),
            ("POST", "/oms/v1/no-such-shop/orders"),
            ("GET", f"{ORDERS}/pm-1/unknown"),
        ]:
            with self.subTest(method=method, path=path):
                body = b"{}" if method == "POST" else b""
                self.assertEqual(self.assertJson(self.request(method, path, body), 404), {"status": "not_found"})

    def test_desk_corrects_an_undecodable_body(self):
        body = json.dumps(order_payload("utf16")).encode("utf-16")
        answer = self.assertJson(self.post(body), 400)
        self.assertIn("UTF-8", answer["error"]["message"])
        intake = self.last_intake()
        self.assertTrue(intake.payload_undecodable)
        self.assertEqual(intake._payload_bytes(), body)
        intake.with_user(self.oms_user).payload = body.decode("utf-16")
        intake.with_user(self.oms_user).action_retry()
        self.assertEqual(intake.state, "done")
        self.assertEqual(intake.order_id.oms_external_id, "utf16")
        self.assertEqual(base64.b64decode(intake.payload_raw), body, "the bytes first received stay")

    def test_unexpected_failure_keeps_the_body(self):
        """A bug after the body was stored rolls the request back: the body is stored again, in error."""
        body = json.dumps(order_payload("bug-1")).encode()
        Intake = type(self.env["oms.intake"])
        with (
            patch.object(Intake, "_api_result", side_effect=RuntimeError("boom")),
            mute_logger("odoo.addons.oms_ecommerce.controllers.channel_api"),
        ):
            answer = self.assertJson(self.post(body), 500)
        self.assertEqual(answer["error"]["code"], "server_error")
        self.assertNotIn("boom", json.dumps(answer), "no internals in the answer")
        intake = self.Intake.browse(answer["intake"])
        self.assertRecordValues(intake, [{"state": "error", "error_code": "mapping_error", "source": "api"}])
        self.assertEqual(intake._payload_bytes(), body)
        self.assertFalse(self.env["sale.order"].search([("oms_external_id", "=", "bug-1")]), "rolled back")
        intake.action_retry()
        self.assertEqual(intake.state, "done", "the desk retries it once the cause is fixed")
        self.assertEqual(intake.order_id.oms_external_id, "bug-1")
