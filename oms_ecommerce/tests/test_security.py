from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..tools.signing import signed_headers
from .common import OmsCommon, order_payload


@tagged("post_install", "-at_install")
class TestSecurity(OmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Other Shop Inc.", "currency_id": cls.usd.id})
        cls.other_channel = cls.env["oms.channel"].create(
            {"name": "Other", "code": "other-shop", "company_id": cls.other_company.id}
        )
        [(_s, body)] = cls.env["oms.intake"]._receive(cls.channel, [order_payload("sec-1")])
        cls.intake = cls.env["oms.intake"].browse(body["intake"])

    def test_oms_user_sees_only_its_companies(self):
        channels = self.env["oms.channel"].with_user(self.oms_user).search([])
        self.assertIn(self.channel, channels)
        self.assertNotIn(self.other_channel, channels)
        with self.assertRaises(AccessError):
            self.other_channel.with_user(self.oms_user).read(["name"])

    def test_oms_user_cannot_configure_channels_nor_read_secrets(self):
        channel = self.channel.with_user(self.oms_user)
        with self.assertRaises(AccessError):
            channel.write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            channel.read(["secret"])
        with self.assertRaises(AccessError):
            self.env["oms.channel"].with_user(self.oms_user).create({"name": "X", "code": "x-shop"})
        self.assertEqual(channel.read(["name"])[0]["name"], "Test Shop")

    def test_manager_sees_the_secret_once(self):
        action = self.channel.with_user(self.oms_manager).action_show_secret()
        self.assertEqual(self.env["oms.channel.secret"].browse(action["res_id"]).secret, "s3cret-test-shop")
        with self.assertRaisesRegex(UserError, "already shown"):
            self.channel.with_user(self.oms_manager).action_show_secret()
        with self.assertRaises(AccessError):
            self.channel.with_user(self.oms_user).action_show_secret()

    def test_manager_regenerates_the_secret_once(self):
        old = self.channel.secret
        action = self.channel.with_user(self.oms_manager).action_regenerate_secret()
        wizard = self.env["oms.channel.secret"].browse(action["res_id"])
        self.assertNotEqual(wizard.secret, old)
        self.assertEqual(self.channel.secret, wizard.secret)
        headers = signed_headers(wizard.secret, "POST", "/oms/v1/test-shop/orders", b"x")
        args = (headers["X-OMS-Timestamp"], headers["X-OMS-Signature"], "POST", "/oms/v1/test-shop/orders", b"x")
        self.assertIsNone(self.channel._check_request_signature(*args))
        self.assertEqual(
            self.channel._check_request_signature(
                *signed_headers(old, "POST", "/x", b"x").values(), "POST", "/x", b"x"
            ),
            "bad_signature",
            "the old secret no longer works",
        )
        with self.assertRaises(AccessError):
            self.channel.with_user(self.oms_user).action_regenerate_secret()

    def test_portal_user_cannot_call_back_office_models(self):
        for model in ("oms.channel", "oms.intake", "oms.channel.carrier", "oms.order.step", "oms.intake.import"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.portal_user).search([])
        with self.assertRaises(AccessError):
            self.intake.with_user(self.portal_user).action_retry()

    def test_oms_user_of_other_company_cannot_read_intake(self):
        user = new_test_user(
            self.env,
            "oms_other",
            groups="oms_ecommerce.group_oms_user",
            company_id=self.other_company.id,
            company_ids=[self.other_company.id],
        )
        self.assertFalse(self.env["oms.intake"].with_user(user).search([("id", "=", self.intake.id)]))
        with self.assertRaises(AccessError):
            self.intake.with_user(user).read(["payload"])
        self.assertEqual(self.intake.with_user(self.oms_user).read(["state"])[0]["state"], "done")
        # The order's steps neither (their company is the order's).
        steps = self.intake.order_id.oms_step_ids
        self.assertTrue(steps)
        Step = self.env["oms.order.step"]
        self.assertFalse(Step.with_user(user).search([("id", "in", steps.ids)]))
        self.assertEqual(Step.with_user(self.oms_user).search([("id", "in", steps.ids)]), steps)

    def _assert_company_refused(self, cases):
        """Each write of ``cases`` ([(record, values)]) pointing at another company's record is refused."""
        for record, vals in cases:
            with (
                self.subTest(model=record._name, field=next(iter(vals))),
                self.assertRaisesRegex(UserError, "company inconsistencies"),
                self.env.cr.savepoint(),
            ):
                record.write(vals)

    def test_company_checks_hold_outside_the_browser(self):
        """A record of one company never points at another company's warehouse, carrier, team or account."""
        other = self.other_company
        other_warehouse = self.env["stock.warehouse"].search([("company_id", "=", other.id)], limit=1)
        self.assertEqual(self.other_channel.warehouse_id, other_warehouse, "the channel company's warehouse")
        other_ship = self.env["product.product"].create(
            {"name": "Other Shipping", "type": "service", "company_id": other.id}
        )
        other_carrier = self.env["delivery.carrier"].create(
            {"name": "Other Post", "delivery_type": "fixed", "product_id": other_ship.id, "company_id": other.id}
        )
        other_team = self.env["crm.team"].create({"name": "Other team", "company_id": other.id})
        cases = [
            (self.channel, {"warehouse_id": other_warehouse.id}),
            (self.channel, {"team_id": other_team.id}),
            (self.channel, {"default_carrier_id": other_carrier.id}),
            (self.channel, {"carrier_map_ids": [(0, 0, {"method": "express", "carrier_id": other_carrier.id})]}),
            (self.channel.carrier_map_ids[:1], {"carrier_id": other_carrier.id}),
        ]
        self._assert_company_refused(cases)
        Rule = self.env["oms.wave.rule"]
        for vals in (
            {"warehouse_id": other_warehouse.id},
            {"carrier_ids": [(6, 0, other_carrier.ids)]},
            {"channel_ids": [(6, 0, self.other_channel.ids)]},
        ):
            with (
                self.subTest(model="oms.wave.rule", field=next(iter(vals))),
                self.assertRaisesRegex(UserError, "company inconsistencies"),
                self.env.cr.savepoint(),
            ):
                Rule.create({"name": "Cross", "company_id": self.company.id, **vals})
        with self.assertRaisesRegex(UserError, "company inconsistencies"), self.env.cr.savepoint():
            self.env["oms.manifest"].create({"carrier_id": other_carrier.id, "company_id": self.company.id})
        journal = self.env["account.journal"].create(
            {"name": "Other bank", "code": "OBNK", "type": "bank", "company_id": other.id}
        )
        with self.assertRaisesRegex(UserError, "company inconsistencies"), self.env.cr.savepoint():
            self.channel.write({"payout_journal_id": journal.id})

    def test_company_checks_hold_on_orders_payouts_tickets_and_jobs(self):
        """The links from our own records to orders, deliveries, channels and teams refuse another company's."""
        other = self.other_company
        customer = self.env["res.partner"].create({"name": "Cross Customer", "email": "cross@example.com"})
        other_order = self.env["sale.order"].create({"partner_id": customer.id, "company_id": other.id})
        self.assertEqual(other_order.company_id, other)
        other_team = self.env["oms.ticket.team"].create({"name": "Other desk", "company_id": other.id})
        payout = self.env["oms.payout"].create(
            {
                "reference": "CROSS-1",
                "channel_id": self.channel.id,
                "line_ids": [fields.Command.create({"external_id": "cross-1", "net": 1.0})],
            }
        )
        ticket = self.env["oms.ticket"].create({"subject": "Where is it?", "partner_id": customer.id})
        deal = self.env["oms.deal"].create(
            {"name": "Cross deal", "body": "<p>10% off</p>", "company_id": self.company.id}
        )
        cases = [
            (payout.line_ids, {"order_id": other_order.id}),
            (self.intake, {"order_id": other_order.id}),
            (ticket, {"order_id": other_order.id}),
            (ticket, {"team_id": other_team.id}),
            (ticket, {"channel_id": self.other_channel.id}),
            (deal, {"channel_ids": [fields.Command.set(self.other_channel.ids)]}),
            (
                self.env["oms.ticket.sla"].create({"name": "Cross SLA", "company_id": self.company.id}),
                {"team_id": other_team.id},
            ),
        ]
        self._assert_company_refused(cases)
        self.assertFalse(payout.line_ids.order_id, "the payout line still points at no order")
        self.assertFalse(ticket.order_id)
        # A long action on a channel belongs to the channel's company, whatever the current company.
        progress, created = self.env["oms.job.progress"]._oms_start(
            "poll", "Cross poll", f"poll:{self.other_channel.id}", 1, channel_id=self.other_channel.id
        )
        self.assertTrue(created)
        self.assertEqual(progress.company_id, other)
        with self.assertRaisesRegex(UserError, "company inconsistencies"), self.env.cr.savepoint():
            progress.company_id = self.company
        # A ticket opened for another company's order gets that company's team.
        other_ticket = self.env["oms.ticket"].create(
            {"subject": "Cross", "partner_id": customer.id, "order_id": other_order.id, "company_id": other.id}
        )
        self.assertEqual(other_ticket.team_id, other_team)
