"""Roles per team (issue 17): the order desk, the warehouse (Odoo's Inventory users), customer service, accounting
(Odoo's Billing users) and the OMS manager each get what their work needs and no more. Calls are made
``with_user``, as an RPC from that user's browser would be."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import order_payload
from .test_waves import OmsWaveCommon

# The menus of the Order Desk app, by xml id (oms_ecommerce.<id>).
DESK_MENUS = {
    "sale_order_menu_oms",
    "sale_order_menu_oms_steps",
    "oms_intake_menu",
    "oms_intake_import_menu",
    "oms_job_progress_menu",
    "rma_menu_oms",
    "oms_return_report_menu",
    "oms_report_steps_menu",
}
WAREHOUSE_MENUS = {
    "oms_delivery_menu",
    "oms_wave_menu",
    "oms_handover_menu",
    "oms_manifest_menu",
    "oms_print_log_menu",
    "oms_rma_receive_menu",
}
SERVICE_MENUS = {
    "oms_ticket_menu",
    "oms_ticket_menu_my",
    "sale_order_menu_oms_service",
    "oms_report_first_response_menu",
}
ACCOUNTING_MENUS = {"oms_payout_menu", "oms_payout_import_menu", "oms_payout_line_menu", "oms_accounting_report_menu"}
CONFIGURATION_MENUS = {"oms_channel_menu", "oms_wave_rule_menu", "oms_ticket_sla_menu", "oms_canned_reply_menu"}
ALL_MENUS = DESK_MENUS | WAREHOUSE_MENUS | SERVICE_MENUS | ACCOUNTING_MENUS | CONFIGURATION_MENUS


@tagged("post_install", "-at_install")
class TestRoles(OmsWaveCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.desk = cls.oms_user
        cls.packer = cls.oms_warehouse_user
        cls.agent = cls.oms_service_user
        cls.accountant = cls.oms_billing_user

    def received(self, external_id):
        [(status, body)] = self.receive(order_payload(external_id))
        self.assertEqual(status, 201, body)
        return self.env["sale.order"].browse(body["id"])

    def assert_menus(self, user, visible):
        # What the web client receives: the menus the user may see under menus they may see.
        menus = self.env["ir.ui.menu"].with_user(user).load_menus(debug=False)
        seen = {xmlid for xmlid in ALL_MENUS if self.env.ref(f"oms_ecommerce.{xmlid}").id in menus}
        self.assertEqual(seen, visible, user.login)
        self.assertIn(self.env.ref("oms_ecommerce.oms_menu_root").id, menus, f"{user.login} opens the app")

    def test_each_team_sees_its_menus(self):
        self.assert_menus(self.desk, DESK_MENUS)
        self.assert_menus(self.packer, WAREHOUSE_MENUS)
        self.assert_menus(self.agent, SERVICE_MENUS)
        self.assert_menus(self.accountant, ACCOUNTING_MENUS)
        # The manager works in every team but accounting (Billing is Odoo's group), whose payouts they read.
        self.assert_menus(self.oms_manager, ALL_MENUS - ACCOUNTING_MENUS | {"oms_payout_menu", "oms_payout_line_menu"})

    def test_each_team_sees_its_card_on_the_overview(self):
        Queue = self.env["oms.overview.queue"]
        for user, kinds in (
            (self.desk, set()),
            (self.packer, {"warehouse"}),
            (self.agent, {"service"}),
            (self.accountant, {"accounting"}),
            (self.oms_manager, {"warehouse", "service", "accounting"}),
        ):
            with self.subTest(user=user.login):
                self.assertEqual(set(Queue.with_user(user).search([]).mapped("kind")), kinds)
        # A packer reads the channels' cards without the order desk's intake figures.
        self.receive(order_payload("RO-BAD", lines=[{"sku": "NO-SUCH-SKU", "quantity": 1}]))
        self.assertEqual(self.channel.with_user(self.desk).overview_intake_error_count, 1)
        self.env.invalidate_all()
        self.assertEqual(self.channel.with_user(self.packer).overview_intake_error_count, 0)
        with self.assertRaises(AccessError):
            self.env["oms.intake"].with_user(self.packer).search([])

    def test_order_desk_confirms_and_holds_but_neither_packs_nor_answers_tickets(self):
        order = self.received("RO-DESK")
        intake = order.oms_intake_id.with_user(self.desk)
        self.assertEqual(intake.state, "done")
        order.with_user(self.desk).action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.oms_step, "processing")  # its delivery is reserved
        self.env["oms.order.hold"].with_user(self.desk).create(
            {"order_ids": order.ids, "reason": "Address to check"}
        ).action_apply()
        self.assertEqual(order.oms_step, "on_hold")
        order.with_user(self.desk).action_oms_release()
        self.assertEqual(order.oms_step, "processing")
        picking = order.picking_ids
        self.assertFalse(self.desk.has_group("stock.group_stock_user"))
        with self.assertRaises(AccessError):
            self.env["oms.pack"].with_user(self.desk).create({"picking_id": picking.id})
        with self.assertRaises(AccessError):
            self.env["stock.picking.batch"].with_user(self.desk).create({"picking_ids": picking.ids})
        with self.assertRaises(AccessError):
            self.env["oms.ticket"].with_user(self.desk).search([])
        with self.assertRaises(AccessError):
            self.channel.with_user(self.desk).write({"name": "Renamed"})

    def test_warehouse_packs_prints_and_waves_but_reads_no_intake_nor_tickets(self):
        pickings = self.deliveries(2, "RO-WH")
        as_packer = pickings.with_user(self.packer)
        screen = self.env["oms.pack"].with_user(self.packer).browse(as_packer[0].action_oms_pack()["res_id"])
        screen.parcel_ids.write({"weight": 1.0, "tracking_ref": "RO-WH-1"})
        screen.print_label = False
        screen.action_confirm()
        self.pack_all(as_packer[1], tracking_ref="RO-WH-2")
        self.assertEqual(set(pickings.sale_id.mapped("oms_step")), {"packed"})
        wave = (
            self.env["stock.picking.batch"]
            .with_user(self.packer)
            .create({"picking_ids": [(6, 0, pickings.ids)], "picking_type_id": pickings[0].picking_type_id.id})
        )
        wave.action_confirm()
        zpl, _type = (
            self.env["ir.actions.report"]
            .with_user(self.packer)
            ._render_qweb_text("oms_ecommerce.action_report_shipping_label_zpl", pickings.ids)
        )
        self.assertIn("RO-WH-2", str(zpl))
        self.assertEqual(wave.with_user(self.packer).read(["name"])[0]["name"], wave.name)
        for model in ("oms.intake", "oms.ticket", "oms.payout"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.packer).search([])
        with self.assertRaises(AccessError):
            self.channel.with_user(self.packer).read(["secret"])

    def test_customer_service_reads_orders_and_tracking_but_changes_neither(self):
        picking = self.packed(1, prefix="RO-CS")
        self.ship(picking)
        order = picking.sale_id
        ticket = (
            self.env["oms.ticket"]
            .with_user(self.agent)
            .create({"subject": "Where is my parcel?", "partner_id": order.partner_id.id, "order_id": order.id})
        )
        ticket.action_assign_to_me()
        self.assertEqual(ticket.user_id, self.agent)
        # The order, its steps and its tracking, read from the ticket and from the order itself.
        self.assertEqual(ticket.order_step, "shipped")
        self.assertIn("RO-CS-0-T", ticket.order_tracking_html)
        as_agent = order.with_user(self.agent)
        self.assertEqual(as_agent.read(["name", "oms_step"])[0]["oms_step"], "shipped")
        self.assertEqual(picking.with_user(self.agent).carrier_tracking_ref, "RO-CS-0-T")
        self.assertTrue(as_agent.oms_step_ids.with_user(self.agent).read(["step"]))
        # From the ticket, the order opens in the read-only form made for them.
        action = ticket.action_open_order()
        self.assertEqual(action["res_id"], order.id)
        self.assertEqual(action["views"], [(self.env.ref("oms_ecommerce.sale_order_view_form_oms_service").id, "form")])
        desk_view = self.env["oms.ticket"].browse(ticket.id).action_open_order()["views"][0][0]  # the superuser's
        self.assertNotEqual(desk_view, action["views"][0][0])
        # A canned reply is composed and sent as the agent.
        action = ticket.action_canned_reply()
        composer = self.env["mail.compose.message"].with_user(self.agent).with_context(**action["context"]).create({})
        composer._action_send_mail()
        self.assertTrue(ticket.first_response_at)
        # Nothing of the order or its delivery changes at their hand, and no stock right at all.
        self.assertFalse(self.agent.has_group("stock.group_stock_user"))
        with self.assertRaises(AccessError):
            as_agent.write({"client_order_ref": "changed"})
        with self.assertRaises(AccessError):
            picking.with_user(self.agent).write({"carrier_tracking_ref": "changed"})
        with self.assertRaises(AccessError):
            self.env["sale.order"].with_user(self.agent).create({"partner_id": order.partner_id.id})
        for model in ("oms.intake", "oms.pack", "stock.picking.batch", "stock.quant"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.agent).check_access("write")

    def test_accounting_works_payouts_and_nothing_else(self):
        payout = (
            self.env["oms.payout"]
            .with_user(self.accountant)
            .create({"channel_id": self.channel.id, "reference": "RO-PO-1"})
        )
        self.assertEqual(payout.with_user(self.accountant).reference, "RO-PO-1")
        for model in ("oms.intake", "oms.ticket", "oms.pack"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.accountant).check_access("read")

    def test_only_the_manager_configures_channels_and_secrets(self):
        for user in (self.desk, self.packer, self.agent, self.accountant):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.channel.with_user(user).write({"name": "Renamed"})
                with self.assertRaises(AccessError):
                    self.channel.with_user(user).write({"secret": "mine"})
                with self.assertRaises(AccessError):
                    self.channel.with_user(user).read(["secret"])
        self.channel.with_user(self.oms_manager).write({"name": "Renamed", "secret": "a-new-secret-of-the-manager"})
        self.assertEqual(self.channel.sudo().secret, "a-new-secret-of-the-manager")
        self.assertTrue(
            all(
                self.oms_manager.has_group(group)
                for group in (
                    "oms_ecommerce.group_oms_user",
                    "oms_ecommerce.group_oms_service",
                    "stock.group_stock_user",
                )
            )
        )
