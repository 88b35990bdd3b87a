"""Security review, issue 13: what portal customers, OMS users and managers cannot read or write through
RPC (``with_user`` calls as an RPC makes them), and the portal pages that must keep working."""

from datetime import timedelta

from odoo import fields, http
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from ..tools.signing import signed_headers
from .common import OmsCommon, order_payload

HOLD_REASON = "suspected fraud: card country and shipping country differ"

# What the order desk keeps to itself, per model (the customer sees the step, its timeline and tracking).
INTERNAL_ORDER_FIELDS = (
    "oms_hold_reason",
    "oms_intake_id",
    "oms_payment_reference",
    "oms_confirm_by",
    "oms_confirm_overdue",
    "oms_confirm_reminded",
    "oms_delayed",
    "oms_ship_outcome",
    "oms_payment_id",
    "oms_accounting_error",
    "oms_payout_line_ids",
    "oms_paid_out",
)
INTERNAL_PICKING_FIELDS = ("oms_label_printed_at", "oms_slip_printed_at", "oms_print_log_ids")


@tagged("post_install", "-at_install")
class TestRights(OmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._put_in_stock()
        cls.customer_user = new_test_user(
            cls.env, "rights_portal", groups="base.group_portal", email="rights.portal@example.com", name="Rita"
        )
        payload = order_payload("R-1", customer={"email": "rights.portal@example.com", "name": "Rita"})
        [(status, body)] = cls.env["oms.intake"]._receive(cls.channel, [payload])
        assert status == 201, body
        cls.order = cls.env["sale.order"].browse(body["id"])
        cls.intake = cls.order.oms_intake_id
        cls.order.action_confirm()

    # ------------------------------------------------------------------ finding 5
    def test_portal_customer_cannot_read_internal_fields_of_their_order(self):
        self.order._oms_hold(HOLD_REASON)
        self.assertEqual(self.order.partner_id, self.customer_user.partner_id)
        as_customer = self.order.with_user(self.customer_user)
        for field in INTERNAL_ORDER_FIELDS:
            with self.subTest(field=field), self.assertRaises(AccessError):
                as_customer.read([field])
        with self.assertRaises(AccessError):
            self.env["sale.order"].with_user(self.customer_user).search_read(
                [("id", "=", self.order.id)], ["oms_hold_reason"]
            )
        self.assertFalse(set(INTERNAL_ORDER_FIELDS) & set(as_customer.fields_get()), "nor are they described")
        # What the portal shows stays readable.
        [values] = as_customer.read(["name", "oms_step", "oms_ship_by", "oms_external_id", "oms_hold"])
        self.assertEqual((values["oms_step"], values["oms_external_id"]), ("on_hold", "R-1"))
        picking = self.order.picking_ids.with_user(self.customer_user)
        self.assertEqual(picking.read(["name"])[0]["name"], self.order.picking_ids.name)
        for field in INTERNAL_PICKING_FIELDS:
            with self.subTest(field=field), self.assertRaises(AccessError):
                picking.read([field])
        # The order desk still reads them.
        self.assertEqual(
            self.order.with_user(self.oms_user).read(["oms_hold_reason"])[0]["oms_hold_reason"], HOLD_REASON
        )

    # ------------------------------------------------------------------ finding 6
    def test_steps_and_delivery_time_are_written_by_the_system(self):
        as_user = self.order.with_user(self.oms_user)
        for user in (self.oms_user, self.oms_manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["oms.order.step"].with_user(user).create({"order_id": self.order.id, "step": "delivered"})
        step = self.order.oms_step_ids[:1]
        with self.assertRaises(AccessError):
            step.with_user(self.oms_user).write({"at": fields.Datetime.now() - timedelta(days=3)})
        with self.assertRaises(AccessError):
            step.with_user(self.oms_manager).unlink()
        with self.assertRaises(AccessError):
            as_user.write({"oms_step_ids": [fields.Command.create({"step": "delivered"})]})
        for vals in (
            {"oms_delivered_at": fields.Datetime.now()},
            {"oms_hold": True},
            {"oms_ship_outcome": "on_time"},
            {"oms_external_id": "R-2"},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                as_user.write(vals)
        self.assertFalse(self.order.oms_delivered_at)
        self.assertNotIn("delivered", self.order.oms_step_ids.mapped("step"))
        # The action checks, then records: not before the order shipped, and then as an OMS user.
        with self.assertRaisesRegex(UserError, "has not shipped"):
            as_user.action_oms_mark_delivered()
        self.ship(self.order.picking_ids)
        self.assertEqual(self.order.oms_step, "shipped")
        as_user.action_oms_mark_delivered()
        self.assertEqual(self.order.oms_step, "delivered")
        self.assertEqual(
            self.order.oms_step_ids.filtered(lambda s: s.step == "delivered").at, self.order.oms_delivered_at
        )
        # The order desk's other actions still work for an OMS user.
        other = self.receive(order_payload("R-3"))[0][1]["id"]
        other = self.env["sale.order"].browse(other).with_user(self.oms_user)
        other._oms_hold("Check the address")
        other.action_oms_release()
        other.action_oms_confirm()
        self.assertEqual(other.state, "sale")

    # ------------------------------------------------------------------ finding 7
    def test_oms_user_cannot_rewrite_a_processed_intake(self):
        intake = self.intake.with_user(self.oms_user)
        self.assertEqual(intake.state, "done")
        for vals in (
            {"state": "error"},
            {"order_id": False},
            {"error_code": "unknown_sku", "error_message": "x"},
            {"processed_at": fields.Datetime.now()},
            {"attempt_count": 0},
            {"external_id": "R-9"},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                intake.write(vals)
        with self.assertRaisesRegex(UserError, "in error"):
            intake.write({"payload": "{}"})
        self.assertRecordValues(self.intake, [{"state": "done", "order_id": self.order.id, "external_id": "R-1"}])
        with self.assertRaises(AccessError):
            self.env["oms.intake"].with_user(self.oms_user).create(
                {"channel_id": self.channel.id, "payload": "{}", "state": "done", "order_id": self.order.id}
            )
        # What the screens allow: correct the payload of an intake in error, then retry it.
        [(status, body)] = self.receive(order_payload("R-4", lines=[{"sku": "NOPE", "quantity": 1}]))
        self.assertEqual(status, 422, body)
        failed = self.env["oms.intake"].browse(body["intake"]).with_user(self.oms_user)
        failed.write({"payload": failed.payload.replace("NOPE", "OMS-MUG")})
        failed.action_retry()
        self.assertEqual(failed.state, "done")
        self.assertEqual(failed.attempt_count, 2)
        self.assertTrue(failed.order_id)

    # ------------------------------------------------------------------ finding 14
    def test_channel_secret_is_write_only(self):
        admin = self.env.ref("base.user_admin")
        for user in (self.oms_manager, admin):
            channel = self.channel.with_user(user)
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    channel.read(["secret"])
                with self.assertRaises(AccessError):
                    self.env["oms.channel"].with_user(user).search_read([("id", "=", self.channel.id)], ["secret"])
                with self.assertRaises(AccessError):
                    self.env["oms.channel"].with_user(user).search([("secret", "=", "s3cret-test-shop")])
                self.assertNotIn("secret", channel.read()[0])
                self.assertNotIn("secret", channel.fields_get())
                self.assertNotIn("s3cret-test-shop", str(channel.web_read({"name": {}, "code": {}})))
        # A manager still sets a secret (one typed in, e.g. a platform's), and requests signed with it pass.
        self.channel.with_user(self.oms_manager).write({"secret": "typed-in-secret"})
        headers = signed_headers("typed-in-secret", "POST", "/oms/v1/test-shop/orders", b"{}")
        self.assertIsNone(
            self.channel._check_request_signature(
                headers["X-OMS-Timestamp"], headers["X-OMS-Signature"], "POST", "/oms/v1/test-shop/orders", b"{}"
            )
        )
        with self.assertRaises(AccessError):
            self.channel.with_user(self.oms_user).write({"secret": "mine"})
        # The show-once wizard still shows the current secret, once.
        action = self.channel.with_user(self.oms_manager).action_show_secret()
        self.assertEqual(self.env["oms.channel.secret"].browse(action["res_id"]).secret, "typed-in-secret")

    def test_print_logs_are_append_only(self):
        picking = self.order.picking_ids
        picking.with_user(self.oms_manager)._oms_log_print("packing_slip")
        log = self.env["oms.print.log"].search([("picking_ids", "in", picking.ids)])
        self.assertRecordValues(log, [{"document": "packing_slip", "user_id": self.oms_manager.id}])
        self.assertTrue(picking.oms_slip_printed_at)
        as_manager = self.env["oms.print.log"].with_user(self.oms_manager)
        self.assertEqual(as_manager.search([("id", "=", log.id)]), log, "a manager reads the log")
        with self.assertRaises(AccessError):
            as_manager.create(
                {
                    "document": "label_pdf",
                    "user_id": self.oms_user.id,
                    "printed_at": fields.Datetime.now() - timedelta(days=30),
                    "picking_ids": [fields.Command.set(picking.ids)],
                }
            )
        with self.assertRaises(AccessError):
            log.with_user(self.oms_manager).write({"user_id": self.oms_user.id})
        with self.assertRaises(AccessError):
            log.with_user(self.oms_manager).unlink()
        for vals in (
            {"oms_label_printed_at": False},
            {"oms_slip_printed_at": False},
            {"oms_print_log_ids": [fields.Command.clear()]},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                picking.with_user(self.oms_manager).write(vals)
        self.assertEqual(picking.oms_print_log_ids, log)


@tagged("post_install", "-at_install")
class TestRightsPortal(HttpCase, OmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_user = new_test_user(
            cls.env, "rights_web", groups="base.group_portal", email="rights.web@example.com", name="Wendy"
        )
        payload = order_payload("RW-1", customer={"email": "rights.web@example.com", "name": "Wendy"})
        [(_status, body)] = cls.env["oms.intake"]._receive(cls.channel, [payload])
        cls.order = cls.env["sale.order"].browse(body["id"])
        cls.order._oms_hold(HOLD_REASON)

    def test_portal_order_page_renders_without_internal_fields(self):
        self.authenticate("rights_web", "rights_web")
        response = self.url_open(f"/my/orders/{self.order.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Your order, step by step", response.text)
        self.assertIn("On Hold", response.text)
        self.assertNotIn(HOLD_REASON, response.text)
        response = self.url_open("/my/orders")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.order.name, response.text)
        self.assertIn("On Hold", response.text)

    def test_new_ticket_with_a_strange_order_id(self):
        """A superscript two is a digit for str.isdigit(), and int() refuses 4,400 digits: neither is a 500."""
        self.authenticate("rights_web", "rights_web")
        for value in ("²", "4" * 4400, "99999999999", "-1", "1e3", "٣"):
            with self.subTest(value=value[:12]):
                response = self.url_open(f"/my/tickets/new?order_id={value}")
                self.assertEqual(response.status_code, 200)
                self.assertIn("csrf_token", response.text)
        response = self.url_open(f"/my/tickets/new?order_id={self.order.id}")
        self.assertEqual(response.status_code, 200)
        for value in ("²", "4" * 4400):
            with self.subTest(post=value[:12]):
                response = self.url_open(
                    "/my/tickets/new",
                    data={
                        "csrf_token": http.Request.csrf_token(self),
                        "order_id": value,
                        "subject": "Help",
                        "message": "Where is my parcel?",
                    },
                )
                self.assertEqual(response.status_code, 200)
